"""``keep_versions=N`` on the file managers: crash safety, partitions, pointer errors, config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import wharf as dg
from wharf.errors import DefinitionError, StorageError, StoredValueNotFoundError


def _defs(tmp: Path, asset: Any, keep: int | None = 2) -> dg.Definitions:
    io = dg.FilesystemIOManager(base_dir=str(tmp), keep_versions=keep)
    return dg.Definitions(assets=[asset], resources={"io_manager": io})


def test_a_failed_write_leaves_the_value_and_pointer_as_they_were(tmp_path: Path) -> None:
    fail = {"now": False}

    @dg.asset
    def t() -> pa.RecordBatchReader:
        schema = pa.schema([("x", pa.int64())])

        def batches() -> Any:
            yield pa.record_batch([pa.array([1, 2])], schema=schema)
            if fail["now"]:
                raise RuntimeError("source broke")

        return pa.RecordBatchReader.from_batches(schema, batches())

    defs = _defs(tmp_path, t)
    assert defs.materialize().success
    pointer = tmp_path / "t.versions" / "versions.json"
    before, files = pointer.read_bytes(), sorted((tmp_path / "t.versions").iterdir())
    fail["now"] = True
    assert not defs.materialize(raise_on_error=False).success
    assert pointer.read_bytes() == before
    assert sorted((tmp_path / "t.versions").iterdir()) == files  # no temp file left either
    assert defs.load_asset_value("t", python_type=pa.Table).num_rows == 2


def test_partitions_keep_versions_of_their_own(tmp_path: Path) -> None:
    value = {"v": 1}

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
    def p(context: dg.AssetExecutionContext) -> tuple[str, int]:
        return (context.partition_key, value["v"])

    defs = _defs(tmp_path, p, keep=1)
    for key in ("a", "b"):
        assert defs.materialize(partition_key=key).success
    value["v"] = 2
    assert defs.materialize(partition_key="a").success
    assert sorted(f.name for f in (tmp_path / "p").iterdir()) == ["a.versions", "b.versions"]
    versions = defs.get_asset_versions("p")
    assert [v.operation for v in versions] == ["WRITE partition a", "WRITE partition b"]
    assert defs.load_asset_value("p", partition_key="a") == ("a", 2)
    with pytest.raises(StoredValueNotFoundError, match=r"partition\(s\) \['a'\]"):
        defs.load_asset_value("p", version=-1)  # a's first value was pruned (keep_versions=1)


def test_a_damaged_pointer_and_a_bad_setting_are_named(tmp_path: Path) -> None:
    @dg.asset
    def n() -> int:
        return 1

    defs = _defs(tmp_path, n)
    assert defs.materialize().success
    (tmp_path / "n.versions" / "versions.json").write_text("{not json")
    with pytest.raises(StorageError, match=r"asset 'n': FilesystemIOManager cannot read"):
        defs.load_asset_value("n")
    with pytest.raises(DefinitionError, match=r"keep_versions=0: expected .* at least 1"):
        _defs(tmp_path, n, keep=0).load_asset_value("n")


def test_an_asset_in_another_values_versions_folder_is_refused_before_the_run(
    tmp_path: Path,
) -> None:
    """With keep_versions, asset X's versions live in ``X.versions/``: asset ``X.versions``
    (a pickle at that path), partition ``p.versions`` beside ``p`` and an asset whose key
    starts with ``X.versions`` are refused before anything runs, naming both and the manager."""

    @dg.asset(name="orders")
    def orders() -> int:
        return 1

    @dg.asset(name="orders.versions")
    def clash() -> int:
        return 2

    @dg.asset(key=["orders.versions", "inner"])
    def inside() -> int:
        return 3

    days = dg.StaticPartitionsDefinition(["p", "p.versions"])

    @dg.asset(partitions_def=days)
    def daily(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    for io in (
        dg.FilesystemIOManager(base_dir=str(tmp_path / "files"), keep_versions=2),
        dg.ObjectStoreIOManager(base_path=str(tmp_path / "objects"), keep_versions=2),
    ):
        name = type(io).__name__
        for other, where in ((clash, "orders.versions"), (inside, "orders.versions/inner")):
            with pytest.raises(DefinitionError) as refused:
                dg.materialize([orders, other], resources={"io_manager": io})
            text = str(refused.value)
            assert f"asset {other.key.to_user_string()!r} would be stored at {where}" in text
            assert f"{name} (keep_versions) keeps the versions of asset 'orders'" in text
            assert "orders.versions/" in text
        with pytest.raises(DefinitionError, match=r"partition 'p.versions'.*partition 'p'"):
            dg.materialize([daily], resources={"io_manager": io}, partition_key="p")
    assert not list(tmp_path.rglob("*.versions*"))  # nothing ran
    # without keep_versions there is no versions folder: the same assets are stored
    plain = dg.FilesystemIOManager(base_dir=str(tmp_path / "plain"))
    assert dg.materialize([orders, clash], resources={"io_manager": plain}).success
