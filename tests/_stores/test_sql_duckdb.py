"""SqlStore on DuckDB: atomicity, names, partitions, streaming, fidelity, locking.

Every test uses a real DuckDB file in ``tmp_path``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wharf._stores.base import PartitionFilter, TableRef, TableStore
from wharf._stores.duckdb import DUCKDB, DuckDBConnector, DuckDBDriver, duckdb_store
from wharf._stores.sql import SqlStore
from wharf.errors import StorageError, StoredValueNotFoundError, StoreLockedError, UnsafeNameError

REF = TableRef("public", "sales")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sales.duckdb"


@pytest.fixture
def store(db: Path) -> SqlStore:
    return duckdb_store(db)


def read(store: SqlStore, ref: TableRef = REF, **kw: object) -> pa.Table:
    return store.read(ref, **kw).read_all()  # type: ignore[arg-type]


def tables_in(db: Path) -> list[str]:
    with duckdb.connect(str(db)) as con:
        return [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]


def failing_reader(schema: pa.Schema, good: int = 2, delay: float = 0.0) -> pa.RecordBatchReader:
    def gen():  # type: ignore[no-untyped-def]
        for i in range(good):
            time.sleep(delay)
            yield pa.record_batch({"a": [i, i + 1]}, schema=schema)
        raise RuntimeError("source broke mid-stream")

    return pa.RecordBatchReader.from_batches(schema, gen())


def run(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# -- protocol, round trip, replace ------------------------------------------------------------


def test_store_satisfies_protocol_and_reports_metadata(store: SqlStore) -> None:
    assert isinstance(store, TableStore)
    result = store.write(REF, pa.table({"a": [1, 2, 3], "b": ["x", "y", None]}).to_reader())
    assert result.row_count == 3
    assert result.schema == {"a": "int64", "b": "string"}
    assert result.location == '"sales"."public"."sales"' == store.location(REF)
    assert store.exists(REF)
    assert read(store).to_pydict() == {"a": [1, 2, 3], "b": ["x", "y", None]}
    store.delete(REF)
    assert not store.exists(REF)
    store.delete(REF)  # deleting a missing table is fine


def test_whole_write_replaces_table_and_its_columns(store: SqlStore) -> None:
    store.write(REF, pa.table({"a": [1], "old": [1.5]}))
    store.write(REF, pa.table({"a": [2, 3], "new": ["n", "m"]}))
    assert read(store).to_pydict() == {"a": [2, 3], "new": ["n", "m"]}


def test_memory_database_is_shared_between_operations() -> None:
    store = duckdb_store(":memory:")
    store.write(REF, pa.table({"a": [1]}))
    assert read(store).num_rows == 1
    assert store.location(REF) == '"memory"."public"."sales"'


# -- atomicity ----------------------------------------------------------------------------


def test_stream_failing_mid_write_keeps_previous_table(store: SqlStore, db: Path) -> None:
    store.write(REF, pa.table({"a": [7, 8, 9]}))
    schema = pa.schema([("a", pa.int64())])
    with pytest.raises(StorageError) as info:
        store.write(REF, failing_reader(schema))
    message = str(info.value)
    assert '"public"."sales"' in message
    assert "duckdb" in message
    assert "source broke mid-stream" in message
    assert isinstance(info.value.__cause__, RuntimeError)
    assert read(store).to_pydict() == {"a": [7, 8, 9]}
    assert tables_in(db) == ["sales"]  # no stage table left


def test_stream_failing_on_first_write_creates_nothing(store: SqlStore, db: Path) -> None:
    with pytest.raises(StorageError):
        store.write(REF, failing_reader(pa.schema([("a", pa.int64())])))
    assert not store.exists(REF)
    assert tables_in(db) == []


def test_killed_writer_process_leaves_previous_table(store: SqlStore, db: Path) -> None:
    store.write(REF, pa.table({"a": list(range(100))}))
    code = """
        import sys, time, pyarrow as pa
        from wharf._stores.duckdb import duckdb_store
        from wharf._stores.base import TableRef
        schema = pa.schema([("a", pa.int64())])
        def gen():
            for i in range(10_000):
                yield pa.record_batch({"a": list(range(1000))}, schema=schema)
                if i == 3:
                    print("streaming", flush=True)
                time.sleep(0.01)
        reader = pa.RecordBatchReader.from_batches(schema, gen())
        duckdb_store(sys.argv[1]).write(TableRef("public", "sales"), reader)
    """
    args = [sys.executable, "-c", textwrap.dedent(code), str(db)]
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "streaming"
            time.sleep(0.2)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert read(store).column("a").to_pylist() == list(range(100))
    assert tables_in(db) == ["sales"]


def test_stream_scanned_twice_is_an_error_not_data_loss(db: Path) -> None:
    class Peeking(DuckDBDriver):
        def attach(self, con, name, reader, beside):  # type: ignore[no-untyped-def]
            sql = super().attach(con, name, reader, beside)
            con.execute(f"SELECT count(*) FROM {sql}").fetchall()  # consumes the one-shot stream
            return sql

    duckdb_store(db).write(REF, pa.table({"a": [1]}))
    store = SqlStore(DUCKDB, Peeking(DuckDBConnector(db)), database=str(db))
    with pytest.raises(StorageError, match=r"already been consumed|streamed in but"):
        store.write(REF, pa.table({"a": [1, 2, 3]}))
    assert read(store).to_pydict() == {"a": [1]}


# -- names and values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        TableRef("my schema", 'odd "table" name'),
        TableRef("Mixed", "select"),
        TableRef("a;b", "x--y"),
    ],
)
def test_identifiers_are_quoted(store: SqlStore, ref: TableRef) -> None:
    data = pa.table({"select": [1], "from where": ["x"], 'q"uote': [True], "MiXed": [1.5]})
    store.write(ref, data)
    assert read(store, ref).equals(data)
    assert read(store, ref, columns=['q"uote', "select"]).column_names == ['q"uote', "select"]
    store.write(ref, data, partition=PartitionFilter("from where", values=("x",)))
    assert read(store, ref).num_rows == 1


@pytest.mark.parametrize(
    ("ref", "columns"),
    [(TableRef("pub\x00lic", "t"), ["a"]), (TableRef("public", "t\x00"), ["a"]), (REF, ["a\x00"])],
)
def test_names_with_nul_are_rejected(store: SqlStore, ref: TableRef, columns: list[str]) -> None:
    with pytest.raises(UnsafeNameError, match="NUL"):
        store.write(ref, pa.table({c: [1] for c in columns}).to_reader())


def test_partition_values_are_bound_not_pasted(store: SqlStore) -> None:
    evil = "x'); DROP TABLE public.sales; --"
    store.write(REF, pa.table({"k": [evil, "y"], "v": [1, 2]}))
    store.write(REF, pa.table({"k": [evil], "v": [10]}), partition=PartitionFilter("k", (evil,)))
    got = read(store, partition=PartitionFilter("k", values=(evil,)))
    assert got.to_pydict() == {"k": [evil], "v": [10]}
    assert read(store).num_rows == 2


# -- partitions --------------------------------------------------------------------------------


def test_partition_write_replaces_only_its_rows_matching_columns_by_name(store: SqlStore) -> None:
    store.write(REF, pa.table({"day": ["d1", "d1", "d2"], "a": [1, 2, 3], "b": [10, 20, 30]}))
    swapped = pa.table({"b": [99], "a": [9], "day": ["d1"]})  # other column order
    result = store.write(REF, swapped, partition=PartitionFilter("day", values=("d1",)))
    assert result.row_count == 1
    rows = sorted(read(store).to_pylist(), key=lambda r: r["a"])
    assert rows == [{"day": "d2", "a": 3, "b": 30}, {"day": "d1", "a": 9, "b": 99}]


def test_first_partition_write_creates_table(store: SqlStore) -> None:
    part = PartitionFilter("day", start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2))
    store.write(REF, pa.table({"day": [dt.date(2024, 1, 1)], "v": [1]}), partition=part)
    store.write(REF, pa.table({"day": [dt.date(2024, 1, 1)], "v": [2]}), partition=part)
    other = PartitionFilter("day", start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 3))
    store.write(REF, pa.table({"day": [dt.date(2024, 1, 2)], "v": [3]}), partition=other)
    assert read(store, partition=part).column("v").to_pylist() == [2]
    assert sorted(read(store).column("v").to_pylist()) == [2, 3]


def test_partition_rows_outside_filter_fail_and_keep_table(store: SqlStore) -> None:
    store.write(REF, pa.table({"k": ["a", "b"], "v": [1, 2]}))
    with pytest.raises(StorageError, match=r"k IN \('a'\)") as info:
        store.write(
            REF, pa.table({"k": ["a", "b"], "v": [5, 6]}), partition=PartitionFilter("k", ("a",))
        )
    assert '"public"."sales"' in str(info.value)
    assert read(store).to_pydict() == {"k": ["a", "b"], "v": [1, 2]}


def test_partition_filters_with_null_and_empty_values(store: SqlStore) -> None:
    store.write(REF, pa.table({"k": ["a", None, "b"], "v": [1, 2, 3]}))
    assert read(store, partition=PartitionFilter("k", (None, "b"))).column("v").to_pylist() == [
        2,
        3,
    ]
    assert read(store, partition=PartitionFilter("k", ())).num_rows == 0


def test_partition_column_diff_is_an_error_by_default(store: SqlStore) -> None:
    store.write(REF, pa.table({"k": ["a"], "old": [1]}))
    with pytest.raises(
        StorageError, match=r"only in the stored table: \['old'\]; only in the new data: \['new'\]"
    ):
        store.write(REF, pa.table({"k": ["a"], "new": [1]}), partition=PartitionFilter("k", ("a",)))
    assert read(store).column_names == ["k", "old"]


def test_partition_schema_policy_evolve_adds_columns(db: Path) -> None:
    store = duckdb_store(db, schema_policy="evolve")
    store.write(REF, pa.table({"k": ["a"], "old": [1]}))
    new = pa.table(
        {"k": ["b"], "new": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("us", "Asia/Tokyo"))}
    )
    store.write(REF, new, partition=PartitionFilter("k", ("b",)))
    got = read(store)
    assert got.column_names == ["k", "old", "new"]
    assert got.schema.field("new").type == pa.timestamp("us", "Asia/Tokyo")
    assert got.column("old").to_pylist() == [1, None]


def test_partition_filter_needs_a_condition() -> None:
    with pytest.raises(ValueError, match="needs values"):
        PartitionFilter("k")


# -- empty data, projection, missing ---------------------------------------------------------


def test_zero_rows_create_an_empty_table_with_schema(store: SqlStore) -> None:
    schema = pa.schema([("a", pa.int32()), ("t", pa.timestamp("ns", tz="America/New_York"))])
    result = store.write(REF, pa.RecordBatchReader.from_batches(schema, []))
    assert result.row_count == 0
    got = read(store)
    assert got.num_rows == 0
    assert got.schema == schema


def test_projection_is_pushed_into_sql(db: Path) -> None:
    queries: list[str] = []

    class Spy(DuckDBDriver):
        def fetch(self, con, sql, params, batch_size):  # type: ignore[no-untyped-def]
            queries.append(sql)
            return super().fetch(con, sql, params, batch_size)

    store = SqlStore(DUCKDB, Spy(DuckDBConnector(db)), database=str(db))
    store.write(REF, pa.table({"a": [1], "b": [2], "c": [3]}))
    assert read(store, columns=["c", "a"]).to_pydict() == {"c": [3], "a": [1]}
    assert queries == ['SELECT "c", "a" FROM "public"."sales"']


def test_unknown_column_names_it_and_the_table_columns(store: SqlStore) -> None:
    store.write(REF, pa.table({"a": [1], "b": [2]}))
    with pytest.raises(
        StorageError, match=r"no column\(s\) \['zzz'\]; its columns are \['a', 'b'\]"
    ):
        store.read(REF, columns=["a", "zzz"])


def test_missing_table_names_table_and_database(store: SqlStore, db: Path) -> None:
    with pytest.raises(StoredValueNotFoundError) as info:
        store.read(TableRef("public", "never_written"))
    assert "never_written" in str(info.value)
    assert str(db) in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


# -- streaming and connection lifetime ------------------------------------------------------


def test_write_streams_a_generator_once_and_read_streams_batches(db: Path) -> None:
    pulled: list[int] = []
    schema = pa.schema([("a", pa.int64())])

    def gen():  # type: ignore[no-untyped-def]
        for i in range(50):
            pulled.append(i)
            yield pa.record_batch({"a": list(range(i * 100, i * 100 + 100))}, schema=schema)

    store = SqlStore(DUCKDB, DuckDBDriver(DuckDBConnector(db)), database=str(db), batch_size=1000)
    assert store.write(REF, pa.RecordBatchReader.from_batches(schema, gen())).row_count == 5000
    assert pulled == list(range(50))
    reader = store.read(REF)
    assert isinstance(reader, pa.RecordBatchReader)
    sizes = [b.num_rows for b in reader]
    assert len(sizes) > 1
    assert sum(sizes) == 5000


def test_undrained_reader_blocks_nothing_and_releases_the_file(store: SqlStore, db: Path) -> None:
    store.write(REF, pa.table({"a": list(range(300_000))}))
    reader = store.read(REF)
    reader.read_next_batch()
    store.write(TableRef("public", "other"), pa.table({"a": [1]}))  # same process: not blocked
    assert read(store).num_rows == 300_000
    del reader
    gc.collect()
    code = """
        import sys, pyarrow as pa
        from wharf._stores.duckdb import duckdb_store
        from wharf._stores.base import TableRef
        duckdb_store(sys.argv[1], lock_timeout=0.5).write(TableRef("p", "t"), pa.table({"a": [1]}))
    """
    done = run(code, str(db))
    assert done.returncode == 0, done.stderr


# -- concurrency -------------------------------------------------------------------------------

WRITER = """
    import sys, pyarrow as pa
    from wharf._stores.duckdb import duckdb_store
    from wharf._stores.base import TableRef
    store = duckdb_store(sys.argv[1])
    n = int(sys.argv[2])
    for _ in range(2):
        store.write(TableRef("public", f"t{n}"), pa.table({"a": list(range(10_000 * (n + 1)))}))
"""


def test_several_writer_processes_share_one_file(store: SqlStore, db: Path) -> None:
    script = textwrap.dedent(WRITER)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(db), str(n)], stderr=subprocess.PIPE, text=True
        )
        for n in range(4)
    ]
    for proc in procs:
        with proc:
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    for n in range(4):
        assert read(store, TableRef("public", f"t{n}")).num_rows == 10_000 * (n + 1)


def test_a_database_file_being_created_is_waited_for(db: Path) -> None:
    """DuckDB creates the file, then locks it: a process opening it in between found an empty
    file and failed ("not a valid DuckDB database file"). Wharf processes create a database
    one at a time (a flock on its folder), so the second one waits for the first."""
    import fcntl
    import threading

    folder = os.open(db.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # as a wharf process creating the file does
        db.touch()  # DuckDB has created the file and not yet locked it
        outcome: list[object] = []

        def write() -> None:
            try:
                outcome.append(duckdb_store(db).write(REF, pa.table({"a": [1]})).row_count)
            except Exception as exc:
                outcome.append(exc)

        second = threading.Thread(target=write)
        second.start()
        second.join(0.3)
        assert outcome == []  # waiting, not failed on the empty file
        db.unlink()
        duckdb.connect(str(db)).close()  # the first process's creation completes
    finally:
        os.close(folder)
    second.join(30)
    assert outcome == [1]
    assert read(duckdb_store(db)).num_rows == 1


def test_no_open_overlaps_another_process_checkpointing_close(db: Path) -> None:
    """DuckDB reads a file's headers before it takes its lock; a close writes new headers
    (the checkpoint), then releases the lock. An open that raced a close used the old headers
    and its write dropped the table the closer had just committed (8 writer processes under
    load lost one table in about 20 rounds, all reporting success). Every wharf open and close
    of the file takes the flock on its folder, so an open waits for a close and the reverse."""
    import fcntl
    import threading

    store = duckdb_store(db)
    store.write(REF, pa.table({"a": [1]}))
    con = store.connect()
    con.execute("CREATE TABLE public.u AS SELECT 2 AS b")  # committed; checkpointed on close
    folder = os.open(db.parent, os.O_RDONLY)
    done: list[str] = []
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # as another wharf process opening the file does
        closer = threading.Thread(target=lambda: (store.driver.close(con), done.append("closed")))
        closer.start()
        closer.join(0.3)
        assert done == []  # the checkpointing close waits for the open
        opener = threading.Thread(
            target=lambda: (store.driver.close(store.connect()), done.append("open"))
        )
    finally:
        os.close(folder)
    closer.join(30)
    assert done == ["closed"]
    folder = os.open(db.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # as another wharf process closing the file does
        opener.start()
        opener.join(0.3)
        assert done == ["closed"]  # the open waits for the close
    finally:
        os.close(folder)
    opener.join(30)
    assert done == ["closed", "open"]
    assert read(store, TableRef("public", "u")).column("b").to_pylist() == [2]


WAITER = """
    import sys, time
    from pathlib import Path
    from wharf._stores.duckdb import duckdb_store
    db, n, go, order = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    store = duckdb_store(db, lock_timeout=60)
    while not go.exists():
        time.sleep(0.01)
    con = store.connect()
    with order.open("a") as f:
        f.write(n + " ")
    time.sleep(0.05)
    con.close()
"""


def test_lock_waits_are_first_come_first_served(store: SqlStore, db: Path, tmp_path: Path) -> None:
    """Writers that find the database locked get it in the order they came (a ticket queue),
    not by who wins a race of back-off retries."""
    from wharf._stores.turns import Turns

    store.write(REF, pa.table({"a": [1]}))
    order, turns = tmp_path / "order", Turns(store.database)
    holder = duckdb.connect(str(db))  # this process holds the lock
    script = textwrap.dedent(WAITER)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(db), str(n), str(tmp_path / f"go{n}"), str(order)]
        )
        for n in range(5)
    ]
    try:
        for n in range(5):
            (tmp_path / f"go{n}").touch()
            deadline = time.monotonic() + 60
            while len(turns._tickets()) < n + 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(turns._tickets()) == n + 1, f"waiter {n} never queued"
    finally:
        holder.close()
        for proc in procs:
            proc.wait(timeout=60)
    assert [p.returncode for p in procs] == [0] * 5
    assert order.read_text().split() == ["0", "1", "2", "3", "4"]
    assert turns._tickets() == []


def test_a_ticket_whose_process_is_gone_blocks_nobody(store: SqlStore) -> None:
    from wharf._stores.turns import Turns

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    turns = Turns(store.database)
    turns.folder.mkdir(exist_ok=True)
    ticket = turns.folder / f"{0:020d}-{dead.pid}-0"  # killed while waiting
    ticket.touch()
    started = time.monotonic()
    store.write(REF, pa.table({"a": [1]}))
    assert time.monotonic() - started < 5
    assert not ticket.exists()


def test_lock_held_longer_than_timeout_raises_store_locked(db: Path) -> None:
    code = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(30)"
    args = [sys.executable, "-c", code, str(db)]
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "locked"
            store = duckdb_store(db, lock_timeout=0.5)
            started = time.monotonic()
            with pytest.raises(StoreLockedError) as info:
                store.write(REF, pa.table({"a": [1]}))
            assert 0.5 <= time.monotonic() - started < 5
            assert str(db) in str(info.value)
            assert f"PID {holder.pid}" in str(info.value)
        finally:
            holder.kill()
            holder.wait(timeout=10)


# -- fidelity ---------------------------------------------------------------------------------


def test_pandas_frame_round_trips_exactly(store: SqlStore) -> None:
    frame = pd.DataFrame(
        {
            "cat": pd.Categorical(["b", "a", None], categories=["c", "b", "a"], ordered=True),
            "when": pd.to_datetime(["2024-01-01 10:00", None, "2024-03-01 00:00"]).tz_localize(
                "Europe/Paris"
            ),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "x": [1.5, float("nan"), None],
            "s": ["é", None, "z"],
        },
        index=pd.Index([10, 20, 30], name="id"),
    )
    store.write(REF, pa.Table.from_pandas(frame))
    pd.testing.assert_frame_equal(read(store).to_pandas(), frame)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"v": [1.5, 2.5]}, index=pd.date_range("2024-01-01", periods=2)),
        pd.DataFrame([[1, 2]]),
        pd.DataFrame({"v": [1.5]}, index=pd.RangeIndex(4, 5)),
    ],
    ids=["DatetimeIndex", "integer-labels", "RangeIndex-from-4"],
)
def test_a_pandas_index_the_comment_cannot_keep_is_refused(db: Path, frame: pd.DataFrame) -> None:
    from wharf._frames.pandas_index import frame_to_table

    short = dataclasses.replace(DUCKDB, comment_max=40)  # as BigQuery's 16 KiB for wide frames
    store = SqlStore(short, DuckDBDriver(DuckDBConnector(db)), database=str(db))
    store.write(REF, pa.table({"a": [1]}))
    with pytest.raises(StorageError, match=r"keeps the pandas .* does not fit in a table comment"):
        store.write(REF, frame_to_table(frame))
    assert read(store).to_pydict() == {"a": [1]}
    plain = pd.DataFrame({"v": [1.5, 2.5]})  # only dtypes to lose: stored, as before
    store.write(REF, frame_to_table(plain))
    assert read(store).to_pydict() == {"v": [1.5, 2.5]}


def test_new_partition_categories_are_kept(store: SqlStore) -> None:
    cat = pa.array(["a", "b"]).dictionary_encode()
    store.write(REF, pa.table({"k": ["1", "2"], "c": cat}))
    new = pa.table({"k": ["3"], "c": pa.array(["zz"]).dictionary_encode()})
    store.write(REF, new, partition=PartitionFilter("k", ("3",)))
    got = read(store)
    assert got.schema.field("c").type == cat.type
    assert got.column("c").to_pylist() == ["a", "b", "zz"]


def test_table_written_by_others_reads_with_duckdb_types(store: SqlStore, db: Path) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE SCHEMA public; CREATE TABLE public.sales AS SELECT 1::INTEGER AS a, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS t"
        )
    got = read(store)
    assert got.schema == pa.schema([("a", pa.int32()), ("t", pa.timestamp("us", tz="Etc/UTC"))])


def _column(
    arrow_type: pa.DataType, values: st.SearchStrategy[object]
) -> st.SearchStrategy[tuple[pa.DataType, st.SearchStrategy[object]]]:
    return st.just((arrow_type, values))


TS = st.integers(-(2**35), 2**35)
COLUMNS = st.one_of(
    *[
        _column(
            getattr(pa, f"{s}int{n}")(),
            st.integers(*((0, 2**n - 1) if s else (-(2 ** (n - 1)), 2 ** (n - 1) - 1))),
        )
        for s in ("", "u")
        for n in (8, 16, 32, 64)
    ],
    _column(pa.float32(), st.floats(width=32)),
    _column(pa.float64(), st.floats()),
    _column(pa.float16(), st.sampled_from([0.5, -2.0, 65504.0, math.inf])),
    _column(pa.bool_(), st.booleans()),
    _column(pa.string(), st.text()),
    _column(pa.large_string(), st.text(max_size=5)),
    _column(pa.binary(), st.binary()),
    _column(pa.date32(), st.dates()),
    _column(pa.timestamp("us"), TS),
    _column(pa.timestamp("ns", tz="UTC"), TS),
    _column(pa.timestamp("ms", tz="America/Los_Angeles"), TS),
    _column(pa.timestamp("s", tz="+05:30"), TS),
    _column(pa.decimal128(12, 3), st.decimals(-(10**8), 10**8, places=3)),
    _column(pa.decimal256(50, 2), st.decimals(-(10**40), 10**40, places=2)),
    _column(pa.dictionary(pa.int8(), pa.string()), st.sampled_from(["red", "green", "blue"])),
    _column(pa.duration("ns"), st.integers(-(2**62), 2**62)),
    _column(pa.time64("us"), st.times()),
    _column(pa.uuid(), st.binary(min_size=16, max_size=16)),
    _column(pa.list_(pa.int64()), st.lists(st.integers(-5, 5), max_size=3)),
    _column(
        pa.struct([("x", pa.int32()), ("y", pa.string())]),
        st.fixed_dictionaries({"x": st.integers(-5, 5), "y": st.text(max_size=3)}),
    ),
)


@st.composite
def arrow_tables(draw: st.DrawFn) -> pa.Table:
    kinds = draw(st.lists(COLUMNS, min_size=1, max_size=5))
    rows = draw(st.integers(0, 4))
    columns = {}
    for i, (arrow_type, values) in enumerate(kinds):
        data = draw(st.lists(st.none() | values, min_size=rows, max_size=rows))
        if pa.types.is_dictionary(arrow_type):
            columns[f"c{i}"] = pa.array(data, pa.string()).dictionary_encode().cast(arrow_type)
        else:
            columns[f"c{i}"] = pa.array(data, arrow_type)
    return pa.table(columns)


def _comparable(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=arrow_tables())
def test_arrow_tables_round_trip(store: SqlStore, table: pa.Table) -> None:
    store.write(REF, table.to_reader(max_chunksize=2))
    got = read(store)
    assert got.schema.equals(table.schema, check_metadata=True)
    assert _comparable(got.to_pylist()) == _comparable(table.to_pylist())


# -- import weight ------------------------------------------------------------------------------


def test_store_modules_import_light() -> None:
    code = """
        import sys
        import wharf._stores, wharf._stores.base, wharf._stores.sql, wharf._stores.duckdb, wharf._stores.dialect
        import wharf._stores.schema_codec
        heavy = {"pyarrow", "duckdb", "pandas", "polars", "numpy"} & set(sys.modules)
        print(sorted(heavy))
    """
    done = run(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_lower_column_names_keep_the_written_types(db: Path) -> None:
    store = duckdb_store(db)
    store.column_names = "lower"
    kinds = pa.array(["a", "b"]).dictionary_encode()
    stamps = pa.array([0, 1], pa.timestamp("ms", tz="Asia/Tokyo"))
    store.write(REF, pa.table({"Kind": kinds, "At": stamps, "N": pa.array([1, 2], pa.int8())}))
    got = read(store)
    assert got.schema == pa.schema([("kind", kinds.type), ("at", stamps.type), ("n", pa.int8())])
    assert got.column("kind").to_pylist() == ["a", "b"]
    frame = pd.DataFrame({"Owner": pd.Categorical(["x"]), "Day": [dt.date(2024, 1, 1)]})
    store.write(REF, pa.Table.from_pandas(frame, preserve_index=False))
    back = read(store).to_pandas()  # the pandas labels load lower-cased with the columns
    assert list(back.columns) == ["owner", "day"]
    assert back["owner"].dtype == "category"


def test_a_wharf_table_whose_schema_does_not_fit_its_comment_is_still_wharfs(db: Path) -> None:
    short = dataclasses.replace(DUCKDB, comment_max=10)
    store = SqlStore(short, DuckDBDriver(DuckDBConnector(db)), database=str(db))
    store.column_names = "auto"
    store.write(REF, pa.table({"Owner": ["ann"]}))
    assert read(store).column_names == ["Owner"]  # not lower-cased as a foreign table's
    assert store.stored_names(REF, ["Owner"]) == ["Owner"]


def test_rows_go_into_a_foreign_tables_columns_by_name_ignoring_case(
    store: SqlStore, db: Path
) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute('CREATE SCHEMA public; CREATE TABLE public.sales ("OWNER" TEXT, "N" INT)')
    store.column_names = "auto"
    assert store.stored_names(REF, ["owner", "n", "extra"]) == ["OWNER", "N", "EXTRA"]
    store.column_names = "exact"
    assert store.stored_names(REF, ["owner"]) == ["owner"]


def test_a_staged_table_a_killed_handler_left_is_swept_by_the_next_staging(
    store: SqlStore, db: Path
) -> None:
    code = """
        import os, signal, sys
        from wharf._stores.duckdb import duckdb_store
        def fill(con, ref):  # a user's handler, killed once its table exists
            con.execute(f'CREATE TABLE "{ref.schema}"."{ref.table}" (a BIGINT)')
            os.kill(os.getpid(), signal.SIGKILL)
        duckdb_store(sys.argv[1]).stage("public", fill)
    """
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), str(db)], check=False)
    assert proc.returncode == -signal.SIGKILL
    (left,) = tables_in(db)
    assert left.startswith("__wharf_src_")

    def fill(con: object, ref: TableRef) -> None:
        con.execute(f'CREATE TABLE "{ref.schema}"."{ref.table}" AS SELECT 7 AS a')  # type: ignore[attr-defined]

    store.write(REF, store.stage("public", fill))  # a fresh one may be a live writer's: kept
    assert sorted(tables_in(db)) == sorted([left, "sales"])
    store.stale_after = 0.0
    store.write(REF, store.stage("public", fill))
    assert tables_in(db) == ["sales"]
    assert read(store).to_pydict() == {"a": [7]}
