"""ParquetStore: atomic files, partitions as files, streaming, errors, fidelity."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from wharf._stores.base import PartitionFilter, TableRef, TableStore
from wharf._stores.parquet import ParquetStore
from wharf.errors import StorageError, StoredValueNotFoundError, UnsafeNameError

from .test_sql_duckdb import _comparable, arrow_tables, failing_reader

REF = TableRef("public", "sales")


@pytest.fixture
def store(tmp_path: Path) -> ParquetStore:
    return ParquetStore(tmp_path / "data")


def read(store: ParquetStore, ref: TableRef = REF, **kw: object) -> pa.Table:
    return store.read(ref, **kw).read_all()  # type: ignore[arg-type]


def files(store: ParquetStore) -> list[str]:
    return sorted(
        str(p.relative_to(store.base_dir)) for p in store.base_dir.rglob("*") if p.is_file()
    )


def test_round_trip_metadata_and_delete(store: ParquetStore) -> None:
    assert isinstance(store, TableStore)
    result = store.write(REF, pa.table({"a": [1, 2], "b": ["x", None]}).to_reader())
    path = store.base_dir / "public" / "sales.parquet"
    assert result.row_count == 2
    assert result.schema == {"a": "int64", "b": "string"}
    assert result.location == path.as_uri() == store.location(REF)
    assert result.bytes == path.stat().st_size > 0
    assert read(store).to_pydict() == {"a": [1, 2], "b": ["x", None]}
    assert store.exists(REF)
    store.delete(REF)
    assert not store.exists(REF)
    store.delete(REF)


def test_whole_write_replaces_file_and_columns(store: ParquetStore) -> None:
    store.write(REF, pa.table({"a": [1], "old": [1]}))
    store.write(REF, pa.table({"a": [2], "new": [2]}))
    assert read(store).to_pydict() == {"a": [2], "new": [2]}
    assert files(store) == ["public/sales.parquet"]


def test_stream_failing_mid_write_keeps_previous_file(store: ParquetStore) -> None:
    store.write(REF, pa.table({"a": [7, 8]}))
    with pytest.raises(StorageError) as info:
        store.write(REF, failing_reader(pa.schema([("a", pa.int64())])))
    assert "parquet" in str(info.value)
    assert store.location(REF) in str(info.value)
    assert "source broke mid-stream" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert read(store).to_pydict() == {"a": [7, 8]}
    assert files(store) == ["public/sales.parquet"]  # the temporary file is gone


def test_killed_writer_process_leaves_previous_file(store: ParquetStore) -> None:
    store.write(REF, pa.table({"a": list(range(100))}))
    code = """
        import sys, time, pyarrow as pa
        from wharf._stores.parquet import ParquetStore
        from wharf._stores.base import TableRef
        schema = pa.schema([("a", pa.int64())])
        def gen():
            for i in range(10_000):
                yield pa.record_batch({"a": list(range(1000))}, schema=schema)
                if i == 3:
                    print("streaming", flush=True)
                time.sleep(0.01)
        reader = pa.RecordBatchReader.from_batches(schema, gen())
        ParquetStore(sys.argv[1]).write(TableRef("public", "sales"), reader)
    """
    args = [sys.executable, "-c", textwrap.dedent(code), str(store.base_dir)]
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "streaming"
            time.sleep(0.1)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert read(store).column("a").to_pylist() == list(range(100))


def test_write_streams_batch_by_batch_and_read_streams(store: ParquetStore) -> None:
    schema = pa.schema([("a", pa.int64())])
    pulled: list[int] = []

    def gen():  # type: ignore[no-untyped-def]
        for i in range(20):
            pulled.append(i)
            yield pa.record_batch({"a": list(range(100))}, schema=schema)

    assert store.write(REF, pa.RecordBatchReader.from_batches(schema, gen())).row_count == 2000
    assert pulled == list(range(20))
    small = ParquetStore(store.base_dir, batch_size=300)
    sizes = [b.num_rows for b in small.read(REF)]
    assert len(sizes) > 1
    assert sum(sizes) == 2000


def test_zero_rows_keep_schema(store: ParquetStore) -> None:
    schema = pa.schema([("a", pa.int32()), ("t", pa.timestamp("ns", tz="Asia/Tokyo"))])
    assert store.write(REF, pa.RecordBatchReader.from_batches(schema, [])).row_count == 0
    got = read(store)
    assert got.num_rows == 0
    assert got.schema == schema


def test_projection_and_unknown_column(store: ParquetStore) -> None:
    store.write(REF, pa.table({"a": [1], "b": [2], "c": [3]}))
    assert read(store, columns=["c", "a"]).to_pydict() == {"c": [3], "a": [1]}
    with pytest.raises(
        StorageError, match=r"no column\(s\) \['zz'\]; its columns are \['a', 'b', 'c'\]"
    ):
        store.read(REF, columns=["zz"])


def test_missing_table_names_the_file(store: ParquetStore) -> None:
    with pytest.raises(StoredValueNotFoundError, match=r"sales\.parquet"):
        store.read(REF)


@pytest.mark.parametrize(
    "ref",
    [
        TableRef("..", "t"),
        TableRef("public", "a/b"),
        TableRef("public", "."),
        TableRef("p", "x\x00"),
    ],
)
def test_unsafe_names_are_rejected(store: ParquetStore, ref: TableRef) -> None:
    with pytest.raises(UnsafeNameError):
        store.write(ref, pa.table({"a": [1]}))


def test_partition_values_are_files_and_replace_only_themselves(store: ParquetStore) -> None:
    both = PartitionFilter("region", values=("eu", "us"))
    result = store.write(
        REF, pa.table({"region": ["eu", "us", "eu"], "v": [1, 2, 3]}), partition=both
    )
    assert result.row_count == 3
    assert result.location == (store.base_dir / "public" / "sales").as_uri()
    assert files(store) == ["public/sales/eu.parquet", "public/sales/us.parquet"]
    store.write(
        REF, pa.table({"v": [9], "region": ["eu"]}), partition=PartitionFilter("region", ("eu",))
    )
    assert read(store, partition=PartitionFilter("region", ("eu",))).to_pydict() == {
        "region": ["eu"],
        "v": [9],
    }
    assert sorted(read(store).column("v").to_pylist()) == [2, 9]  # whole read: every partition


def test_partition_values_cannot_escape_the_directory(store: ParquetStore) -> None:
    odd = ("../up", ".", "a/b", "c.d", None)
    store.write(
        REF, pa.table({"k": list(odd), "v": [1, 2, 3, 4, 5]}), partition=PartitionFilter("k", odd)
    )
    assert all(name.startswith("public/sales/") and name.count("/") == 2 for name in files(store))
    got = read(store, partition=PartitionFilter("k", ("../up", None)))
    assert got.to_pydict() == {"k": ["../up", None], "v": [1, 5]}


def test_rows_outside_partition_fail_and_keep_old_file(store: ParquetStore) -> None:
    eu = PartitionFilter("region", values=("eu",))
    store.write(REF, pa.table({"region": ["eu"], "v": [1]}), partition=eu)
    with pytest.raises(
        StorageError, match=r"1 of 2 rows are outside the partition region IN \('eu'\)"
    ):
        store.write(REF, pa.table({"region": ["eu", "us"], "v": [5, 6]}), partition=eu)
    assert read(store, partition=eu).to_pydict() == {"region": ["eu"], "v": [1]}
    assert files(store) == ["public/sales/eu.parquet"]


def test_range_partitions(store: ParquetStore) -> None:
    def day(n: int) -> dt.date:
        return dt.date(2024, 1, n)

    for n in (1, 2, 3):
        part = PartitionFilter("day", start=day(n), end=day(n + 1))
        store.write(REF, pa.table({"day": [day(n)] * 2, "v": [n, n * 10]}), partition=part)
    assert len(files(store)) == 3
    got = read(store, partition=PartitionFilter("day", start=day(2), end=day(4)), columns=["v"])
    assert got.to_pydict() == {"v": [2, 20, 3, 30]}


def test_missing_partition_is_not_found(store: ParquetStore) -> None:
    store.write(REF, pa.table({"k": ["a"]}), partition=PartitionFilter("k", ("a",)))
    with pytest.raises(StoredValueNotFoundError, match=r"b\.parquet"):
        store.read(REF, partition=PartitionFilter("k", ("a", "b")))


def test_partition_column_diff_error_and_evolve(store: ParquetStore) -> None:
    store.write(REF, pa.table({"k": ["a"], "old": [1]}), partition=PartitionFilter("k", ("a",)))
    new = pa.table({"k": ["b"], "new": [2.5]})
    with pytest.raises(
        StorageError, match=r"only in the stored table: \['old'\]; only in the new data: \['new'\]"
    ):
        store.write(REF, new, partition=PartitionFilter("k", ("b",)))
    evolving = ParquetStore(store.base_dir, schema_policy="evolve")
    evolving.write(REF, new, partition=PartitionFilter("k", ("b",)))
    assert read(evolving).to_pydict() == {"k": ["a", "b"], "old": [1, None], "new": [None, 2.5]}


def test_pandas_frame_round_trips_exactly(store: ParquetStore) -> None:
    frame = pd.DataFrame(
        {
            "cat": pd.Categorical(["b", None], categories=["c", "b", "a"], ordered=True),
            "when": pd.to_datetime(["2024-01-01 10:00", None]).tz_localize("Europe/Paris"),
            "n": pd.array([1, None], dtype="Int64"),
        },
        index=pd.Index([10, 20], name="id"),
    )
    store.write(REF, pa.Table.from_pandas(frame))
    pd.testing.assert_frame_equal(read(store).to_pandas(), frame)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=arrow_tables())
def test_arrow_tables_round_trip(store: ParquetStore, table: pa.Table) -> None:
    store.write(REF, table.to_reader(max_chunksize=2))
    got = read(store)
    assert got.schema.equals(table.schema, check_metadata=True)
    assert _comparable(got.to_pylist()) == _comparable(table.to_pylist())
    assert pq.read_schema(store.base_dir / "public" / "sales.parquet").names == table.column_names
