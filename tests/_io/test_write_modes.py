"""write_mode append / merge on the DuckDB table store, TableOptions, and managers that refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import wharf as dg
from wharf.duckdb import DuckDBIOManager
from wharf.errors import DefinitionError


def _run(tmp: Path, rows: Any, meta: Any, *, manager: Any = None, fail: bool = False) -> Any:
    @dg.asset(name="t", metadata=meta)
    def t() -> pa.RecordBatchReader:
        def batches() -> Any:
            yield from pa.table(rows).to_batches()
            if fail:
                raise RuntimeError("source died mid-stream")

        return pa.RecordBatchReader.from_batches(pa.table(rows).schema, batches())

    io = manager or DuckDBIOManager(database=str(tmp / "db.duckdb"), schema="public")
    return dg.materialize([t], resources={"io_manager": io}, raise_on_error=False)


def _stored(tmp: Path) -> list[tuple[Any, ...]]:
    import duckdb

    with duckdb.connect(str(tmp / "db.duckdb")) as con:
        return sorted(con.sql("SELECT id, v FROM public.t").fetchall())


def test_append_and_merge_round_trip(tmp_path: Path) -> None:
    assert _run(tmp_path, {"id": [1, 2], "v": ["a", "b"]}, {}).success
    assert _run(tmp_path, {"id": [3], "v": ["c"]}, {"write_mode": "append"}).success
    assert _stored(tmp_path) == [(1, "a"), (2, "b"), (3, "c")]
    merge = dg.TableOptions(write_mode="merge", merge_keys=["id"])
    assert _run(tmp_path, {"id": [2, 4], "v": ["B", "d"]}, merge).success
    assert _stored(tmp_path) == [(1, "a"), (2, "B"), (3, "c"), (4, "d")]


def test_merge_duplicate_key_named_nothing_written(tmp_path: Path) -> None:
    assert _run(tmp_path, {"id": [1], "v": ["a"]}, {}).success
    meta = {"write_mode": "merge", "merge_keys": ["id"]}
    result = _run(tmp_path, {"id": [5, 5], "v": ["x", "y"]}, meta)
    err = next(iter(result.failures.values()))
    assert "merge key id=5 appears 2 times" in str(err), str(err)
    assert "'t'" in str(err)
    assert "DuckDBIOManager" in str(err)
    assert _stored(tmp_path) == [(1, "a")]


@pytest.mark.parametrize(
    "meta", [{"write_mode": "append"}, {"write_mode": "merge", "merge_keys": ["id"]}]
)
def test_raising_source_leaves_table(tmp_path: Path, meta: dict[str, Any]) -> None:
    assert _run(tmp_path, {"id": [1], "v": ["a"]}, {}).success
    result = _run(tmp_path, {"id": [1, 2], "v": ["z", "b"]}, meta, fail=True)
    assert not result.success
    assert _stored(tmp_path) == [(1, "a")]


def test_append_changed_columns_refused_with_diff(tmp_path: Path) -> None:
    assert _run(tmp_path, {"id": [1], "v": ["a"]}, {}).success
    result = _run(tmp_path, {"id": [2], "w": ["b"]}, {"write_mode": "append"})
    err = next(iter(result.failures.values()))
    assert "only in the new data: ['w']" in str(err), str(err)
    assert _stored(tmp_path) == [(1, "a")]


def test_partitioned_merge_stays_in_its_partition(tmp_path: Path) -> None:
    regions = dg.StaticPartitionsDefinition(["eu", "us"])
    meta = {"partition_expr": "region", "write_mode": "merge", "merge_keys": ["id"]}
    io = DuckDBIOManager(database=str(tmp_path / "db.duckdb"), schema="public")

    def run(key: str, ids: list[int], v: str) -> Any:
        @dg.asset(name="t", partitions_def=regions, metadata=meta)
        def t() -> pa.Table:
            return pa.table({"id": ids, "v": [v] * len(ids), "region": [key] * len(ids)})

        return dg.materialize(
            [t], resources={"io_manager": io}, partition_key=key, raise_on_error=False
        )

    assert run("eu", [1, 2], "old").success
    assert run("us", [1], "us").success
    assert run("eu", [2, 3], "new").success
    import duckdb

    with duckdb.connect(str(tmp_path / "db.duckdb")) as con:
        got = sorted(con.sql("SELECT region, id, v FROM public.t").fetchall())
    assert got == [("eu", 1, "old"), ("eu", 2, "new"), ("eu", 3, "new"), ("us", 1, "us")]


def test_whole_value_managers_refuse(tmp_path: Path) -> None:
    fs = dg.FilesystemIOManager(base_dir=str(tmp_path / "fs"))
    for manager in (fs, dg.InMemoryIOManager()):
        result = _run(tmp_path, {"id": [1], "v": ["a"]}, {"write_mode": "append"}, manager=manager)
        err = next(iter(result.failures.values()))
        assert isinstance(err, DefinitionError), err
        assert "can only replace it" in str(err)


def test_table_options_checked_when_built() -> None:
    with pytest.raises(DefinitionError, match="needs merge_keys"):
        dg.TableOptions(write_mode="merge")
    with pytest.raises(DefinitionError, match="not one of"):
        dg.TableOptions(write_mode="upsert")
    assert dg.TableOptions(schema="s", columns=["a"]) == {"schema": "s", "columns": ["a"]}


def test_misspelt_storage_key_did_you_mean(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="did you mean 'partition_expr'"):
        _run(tmp_path, {"id": [1], "v": ["a"]}, {"partiton_expr": "id"})


def test_op_outputs_of_whole_value_managers_are_stored_and_a_write_mode_names_the_op(
    tmp_path: Path,
) -> None:
    """Op outputs have no asset key: a whole-value manager stores them, and asking one for
    append names the op's output instead of failing on the missing key."""

    @dg.op
    def plain() -> int:
        return 1

    @dg.op(out=dg.Out(metadata={"write_mode": "append"}))
    def appending() -> int:
        return 2

    @dg.job
    def ok() -> None:
        plain()

    @dg.job
    def bad() -> None:
        appending()

    assert ok.execute_in_process().output_for_node("plain") == 1
    with pytest.raises(DefinitionError, match=r"output 'result' of op 'appending'.*'append'"):
        bad.execute_in_process()


def test_null_merge_keys_never_match_and_narrower_types_are_refused(tmp_path: Path) -> None:
    merge = {"write_mode": "merge", "merge_keys": ["id"]}
    ids = pa.array([1, None], pa.int64())
    assert _run(tmp_path, {"id": ids, "v": ["a", "b"]}, {}).success
    assert _run(tmp_path, {"id": ids, "v": ["A", "B"]}, merge).success  # NULL = NULL is not true
    assert _rows(tmp_path) == [(1, "A"), (None, "B"), (None, "b")]
    two_nulls = _run(tmp_path, {"id": pa.array([None, None], pa.int64()), "v": ["x", "y"]}, merge)
    assert "merge key id=None appears 2 times" in str(next(iter(two_nulls.failures.values())))
    narrower = _run(
        tmp_path, {"id": pa.array([7], pa.int32()), "v": ["n"]}, {"write_mode": "append"}
    )
    assert "stored as int64 but the new data has int32" in str(
        next(iter(narrower.failures.values()))
    )
    assert len(_rows(tmp_path)) == 3


def _rows(tmp: Path) -> list[tuple[Any, ...]]:
    import duckdb

    with duckdb.connect(str(tmp / "db.duckdb")) as con:
        return con.sql("SELECT id, v FROM public.t ORDER BY id NULLS LAST, v").fetchall()
