"""FilesystemIOManager: the default, persistent under $WHARF_HOME/storage, atomic writes."""

import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

import wharf as dg
from wharf.errors import AssetTypeError, StorageError, StoredValueNotFoundError


@dg.asset
def raw() -> list[int]:
    return [1, 2, 3]


@dg.asset
def doubled(raw: list[int]) -> list[int]:
    return [x * 2 for x in raw]


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_default_io_manager_is_filesystem_under_wharf_home(wharf_home: Path) -> None:
    result = dg.materialize([raw, doubled])
    storage = wharf_home / "storage"
    assert files(storage) == ["doubled", "raw"]
    assert pickle.loads((storage / "raw").read_bytes()) == [1, 2, 3]
    (event,) = [e for e in result.get_asset_materialization_events() if e.step_key == "raw"]
    assert event.asset_materialization is not None
    meta = event.asset_materialization.metadata
    assert meta["path"].value == str(storage / "raw")
    assert meta["bytes"].value == (storage / "raw").stat().st_size


def test_default_without_wharf_home_is_dot_wharf(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WHARF_HOME")
    dg.materialize([raw])
    assert files(tmp_path / ".wharf" / "storage") == ["raw"]


def test_subset_run_later_loads_what_an_earlier_run_stored() -> None:
    dg.materialize([raw])
    calls: list[str] = []

    @dg.asset(name="raw")
    def raw_must_not_run() -> list[int]:
        calls.append("raw")
        return []

    result = dg.materialize([raw_must_not_run, doubled], selection=[doubled])
    assert calls == []
    assert result.output_for_node("doubled") == [2, 4, 6]


def test_base_dir_and_key_prefix_become_folders(tmp_path: Path) -> None:
    @dg.asset(key_prefix=["wh", "mart"])
    def sales() -> dict[str, int]:
        return {"a": 1}

    base = tmp_path / "store"
    io = dg.FilesystemIOManager(base_dir=str(base))
    assert repr(io) == f"FilesystemIOManager(base_dir={str(base)!r})"
    result = dg.materialize([sales], resources={"io_manager": io})
    assert files(base) == ["wh/mart/sales"]
    assert result.asset_value(["wh", "mart", "sales"]) == {"a": 1}


def test_base_dir_as_file_url(tmp_path: Path) -> None:
    io = dg.FilesystemIOManager(base_dir=(tmp_path / "u").as_uri())
    assert dg.materialize([raw], resources={"io_manager": io}).asset_value("raw") == [1, 2, 3]
    assert files(tmp_path / "u") == ["raw"]


@pytest.mark.parametrize("unpicklable", [lambda: 1, threading.Lock()], ids=["lambda", "lock"])
def test_failing_pickle_keeps_the_old_value(wharf_home: Path, unpicklable: Any) -> None:
    dg.materialize([raw])

    @dg.asset(name="raw")
    def raw_broken() -> Any:
        return unpicklable

    with pytest.raises(AssetTypeError) as info:
        dg.materialize([raw_broken])
    err = info.value
    assert isinstance(err, TypeError)
    assert "'raw'" in str(err)
    assert err.io_manager is not None
    assert err.io_manager in str(err)  # the I/O manager class
    assert "cannot pickle" in str(err)
    assert "stored value is unchanged" in str(err)
    assert files(wharf_home / "storage") == ["raw"]  # no temp file left behind
    assert dg.Definitions(assets=[raw]).load_asset_value("raw") == [1, 2, 3]


def test_missing_stored_input_is_file_not_found() -> None:
    result = dg.materialize([raw, doubled], selection=[doubled], raise_on_error=False)
    err = result.failures[dg.AssetKey("doubled")]
    assert isinstance(err, StoredValueNotFoundError)
    assert isinstance(err, FileNotFoundError)
    assert isinstance(err, StorageError)
    assert "'raw' has no stored value" in str(err)
    assert "Materialize it first" in str(err)


def test_unsafe_partition_key_is_rejected(tmp_path: Path) -> None:
    @dg.asset
    def part() -> int:
        return 1

    base = tmp_path / "store"
    io = dg.FilesystemIOManager(base_dir=str(base))
    with pytest.raises(ValueError, match=r"partition key '\.\.'") as info:  # before anything runs
        dg.materialize([part], resources={"io_manager": io}, partition_key="..")
    assert isinstance(info.value, dg.errors.UnsafeNameError)
    assert not base.exists() or files(base) == []
    assert not (tmp_path / "part").exists()  # nothing written beside the base folder


def test_wrong_return_type_never_reaches_the_store(wharf_home: Path) -> None:
    dg.materialize([raw])
    before = (wharf_home / "storage" / "raw").read_bytes()

    @dg.asset(name="raw")
    def raw_wrong() -> list[int]:
        return "not a list"  # type: ignore[return-value]

    with pytest.raises(AssetTypeError, match=r"'raw' returned str.*expects list\[int\]"):
        dg.materialize([raw_wrong])
    assert (wharf_home / "storage" / "raw").read_bytes() == before
    assert files(wharf_home / "storage") == ["raw"]


def _value_of(key: Any, value: Any, io: Any) -> dg.MaterializeResult | Any:
    @dg.asset(key=key)
    def produce() -> Any:
        return value

    return dg.materialize([produce], resources={"io_manager": io}, raise_on_error=False)


def test_a_key_below_another_keeps_both_values(tmp_path: Path) -> None:
    import pyarrow as pa

    store = tmp_path / "store"
    io = dg.FilesystemIOManager(base_dir=str(store))
    assert _value_of("a", pa.table({"v": [1]}), io).success  # a.parquet
    assert _value_of(["a", "c"], 7, io).success  # the folder a/ holds a/c
    assert _value_of("a", pa.table({"v": [2]}), io).success  # a table again: a/ is left alone
    assert files(store) == ["a.parquet", "a/c"]
    result = _value_of("a", 3, io)  # a pickle must go where the folder a/ is
    err = result.failures[dg.AssetKey("a")]
    assert isinstance(err, StorageError)
    assert "could not store asset 'a'" in str(err)
    assert "FilesystemIOManager" in str(err)
    assert "another asset's value is in the way" in str(err)
    assert files(store) == ["a.parquet", "a/c"]  # nothing lost, no temp file left


def test_a_name_too_long_for_the_file_system_is_a_clear_error(tmp_path: Path) -> None:
    store = tmp_path / "store"
    io = dg.FilesystemIOManager(base_dir=str(store))
    long_name = "n" * 300
    err = _value_of(long_name, [1], io).failures[dg.AssetKey(long_name)]
    assert isinstance(err, StorageError)
    assert "FilesystemIOManager" in str(err)
    assert "longer than the file system allows" in str(err)
    assert files(store) == []
    near_limit = "m" * 240  # fits (also as .parquet), though a temp name built from it would not
    assert _value_of(near_limit, [1], io).success
    assert files(store) == [near_limit]


def test_a_lazy_value_failing_mid_write_names_the_asset_and_keeps_the_old_one(
    tmp_path: Path,
) -> None:
    import polars as pl

    store = tmp_path / "store"
    io = dg.FilesystemIOManager(base_dir=str(store))
    assert _value_of("t", pl.DataFrame({"x": [1, 2]}), io).success
    broken = pl.LazyFrame({"x": ["1", "zz"]}).select(pl.col("x").str.to_integer())
    err = _value_of("t", broken, io).failures[dg.AssetKey("t")]
    assert isinstance(err, StorageError)
    assert "FilesystemIOManager could not store asset 't': writing its Parquet failed" in str(err)
    assert "previously stored value is unchanged" in str(err)
    assert files(store) == ["t.parquet"]
    kept = dg.Definitions(assets=[dg.AssetSpec("t")], resources={"io_manager": io})
    assert kept.load_asset_value("t", python_type=pl.DataFrame)["x"].to_list() == [1, 2]
