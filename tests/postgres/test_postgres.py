"""PostgresIOManager and the PostgreSQL store against a real server (see fixtures.py)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import wharf as dg
from wharf._stores.base import PartitionFilter, TableRef
from wharf._stores.postgres import postgres_store, postgres_uri
from wharf.errors import (
    ConfigError,
    DefinitionError,
    StorageError,
    StoredValueNotFoundError,
    UnsafeNameError,
)
from wharf.postgres import (
    PostgresIOManager,
    PostgresPolarsIOManager,
    PostgresResource,
)
from wharf.testing.postgres import PostgresServer

UTC = dt.UTC


def manager(server: PostgresServer, schema: str, cls: Any = PostgresIOManager) -> Any:
    return cls(host=server.host, port=server.port, user=server.user, schema=schema)


def stage_tables(server: PostgresServer) -> list[str]:
    with server.connect() as con:
        rows = con.execute("SELECT relname FROM pg_class WHERE relname LIKE '__wharf%'")
        return [r[0] for r in rows.fetchall()]


def run(assets: list[Any], io: Any, **kw: Any) -> Any:
    return dg.materialize(assets, resources={"io_manager": io}, record_history=False, **kw)


def test_pandas_to_polars_round_trip_with_metadata(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    frame = pd.DataFrame(
        {
            "Order ID": pd.array([1, None, 3], dtype="Int64"),
            'Say "hi"': ["ü✓", None, "日本"],
            "at": pd.to_datetime(["2024-01-01", "2024-06-01", "2025-01-01"]).tz_localize(
                "Europe/Paris"
            ),
            "kind": pd.Categorical(["x", "y", "x"]),
        }
    )

    @dg.asset
    def orders() -> pd.DataFrame:
        return frame

    seen: list[Any] = []

    @dg.asset
    def back(orders: pd.DataFrame) -> None:
        seen.append(orders)

    result = run([orders, back], manager(postgres_server, pg_schema))
    assert result.success
    pd.testing.assert_frame_equal(seen[0], frame, check_exact=True)
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["row_count"].value == 3
    assert meta["table"].value == f'"postgres"."{pg_schema}"."orders"'
    assert set(meta["schema"].value) == {"Order ID", 'Say "hi"', "at", "kind"}
    assert meta["duration_s"].value > 0

    @dg.asset(name="orders")
    def stub() -> None: ...

    got: list[Any] = []

    @dg.asset
    def as_polars(orders: pl.DataFrame) -> None:
        got.append(orders)

    io = manager(postgres_server, pg_schema, PostgresPolarsIOManager)
    assert run([stub, as_polars], io, selection=["as_polars"]).success
    assert got[0].columns == ["Order ID", 'Say "hi"', "at", "kind"]
    assert got[0]["at"].dtype.time_zone == "Europe/Paris"  # type: ignore[attr-defined]


def test_mixed_case_names_are_distinct_and_kept(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    store = postgres_store(postgres_server.uri)
    ref = TableRef(pg_schema + " Mixed", "Daily Sales")
    table = pa.table({"a": [1], "A": [2], "select": [3], "Ünïcode": ["x"]})
    store.write(ref, table.to_reader())
    assert store.read(ref).read_all().equals(table)
    assert store.read(ref, columns=["A", "select"]).read_all().to_pydict() == {
        "A": [2],
        "select": [3],
    }


def test_asset_names_that_differ_only_in_case_are_two_tables(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    # PostgreSQL keeps the case of quoted names: no clash to refuse, each keeps its own rows
    @dg.asset(name="Casey")
    def upper() -> pa.Table:
        return pa.table({"v": ["upper"]})

    @dg.asset(name="casey")
    def lower() -> pa.Table:
        return pa.table({"v": ["lower"]})

    assert run([upper, lower], manager(postgres_server, pg_schema)).success
    store = postgres_store(postgres_server.uri)
    assert store.read(TableRef(pg_schema, "Casey")).read_all().to_pydict() == {"v": ["upper"]}
    assert store.read(TableRef(pg_schema, "casey")).read_all().to_pydict() == {"v": ["lower"]}


def test_columns_by_name_empty_frames_and_projection(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    store = postgres_store(postgres_server.uri)
    ref = TableRef(pg_schema, "t")
    store.write(ref, pa.table({"a": [1, 2], "b": [10, 20]}).to_reader())
    store.write(ref, pa.table({"b": [30], "a": [3]}).to_reader())
    assert store.read(ref).read_all().to_pydict() == {"b": [30], "a": [3]}
    empty = pa.table({"id": pa.array([], pa.int64()), "ts": pa.array([], pa.timestamp("us"))})
    store.write(ref, empty.to_reader())
    assert store.read(ref).read_all().equals(empty)
    with pytest.raises(StorageError, match=r"has no column\(s\) \['nope'\]"):
        store.read(ref, columns=["nope"])


def test_types_round_trip_through_the_comment(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    store = postgres_store(postgres_server.uri)
    ref = TableRef(pg_schema, "types")
    table = pa.table(
        {
            "u8": pa.array([0, 255, None], pa.uint8()),
            "u64": pa.array([0, 2**64 - 1, None], pa.uint64()),
            "f16": pa.array([1.5, None, -2.0], pa.float16()),
            "dec": pa.array(
                [decimal.Decimal("1.10"), None, decimal.Decimal("-3.25")], pa.decimal128(10, 2)
            ),
            "big": pa.array([decimal.Decimal("1" * 45 + ".5"), None, None], pa.decimal256(50, 1)),
            "tokyo": pa.array(
                [dt.datetime(2024, 1, 1, tzinfo=UTC)] * 3, pa.timestamp("us", tz="Asia/Tokyo")
            ),
            "naive_ns": pa.array([dt.datetime(2024, 1, 1, 12)] * 3, pa.timestamp("ns")),
            "d64": pa.array([dt.date(2020, 1, 1), None, None], pa.date64()),
            "dur": pa.array([dt.timedelta(seconds=5), None, None], pa.duration("us")),
            "t": pa.array([dt.time(1, 2, 3), None, None], pa.time64("us")),
            "cat": pa.array(["x", "y", None]).dictionary_encode(),
            "nul": pa.nulls(3),
            "lst": pa.array([[1, 2], [], None]),
            "bin": pa.array([b"\x00\x01", None, b""]),
            "uuid": pa.array([b"0123456789abcdef", None, None], pa.uuid()),
            "ls": pa.array(["a", "b", None], pa.large_string()),
            "f": pa.array([float("nan"), -0.0, float("inf")]),
        }
    )
    store.write(ref, table.to_reader())
    got = store.read(ref).read_all()
    assert got.schema.equals(table.schema)
    assert got.drop_columns(["f"]).equals(table.drop_columns(["f"]))
    nan, negative_zero, inf = got.column("f").to_pylist()
    assert math.isnan(nan)
    assert math.copysign(1.0, negative_zero) == -1.0
    assert inf == float("inf")
    with postgres_server.connect() as con:
        types = con.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0",
            [f'"{pg_schema}"."types"'],
        ).fetchall()
    assert dict(types)["tokyo"] == "timestamp with time zone"
    assert dict(types)["u64"] == "numeric"  # SQL sees the stand-in type


def test_structs_and_nested_lists_are_json_text(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    store = postgres_store(postgres_server.uri)
    ref = TableRef(pg_schema, "nested")
    table = pa.table(
        {
            "s": pa.array([{"x": 1, "name": "é"}, None, {"x": None, "name": "b"}]),
            "ls": pa.array([[{"k": 1}], [], None]),
            "ll": pa.array([[[1, 2], []], None, [[None]]]),
        }
    )
    store.write(ref, table.to_reader())
    got = store.read(ref).read_all()
    assert got.schema.equals(table.schema)
    assert got.equals(table)
    with postgres_server.connect() as con:  # SQL sees JSON text it can query
        where = "s::jsonb ->> 'name' = 'é' AND (ll::jsonb -> 0 -> 1)::int = 2"
        row = con.execute(f'SELECT count(*) FROM "{pg_schema}"."nested" WHERE {where}')
        assert row.fetchone() == (1,)


def test_unsupported_values_fail_clearly_and_keep_the_old_table(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    store = postgres_store(postgres_server.uri)
    ref = TableRef(pg_schema, "t")
    store.write(ref, pa.table({"a": [1]}).to_reader())
    with pytest.raises(StorageError, match="NUL character"):
        store.write(ref, pa.table({"s": ["ok", "a\x00b"]}).to_reader())
    with pytest.raises(StorageError, match=r"no column type for column 'm' of Arrow type map"):
        store.write(ref, pa.table({"m": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64()))}))
    with pytest.raises(StorageError, match=r"column 's' .* stored as JSON text.*no form"):
        store.write(ref, pa.table({"s": [{"when": dt.datetime(2024, 1, 1)}]}).to_reader())
    with pytest.raises(UnsafeNameError, match="at most 63 bytes"):
        store.write(ref, pa.table({"x" * 64: [1]}).to_reader())
    assert store.read(ref).read_all().to_pydict() == {"a": [1]}
    assert stage_tables(postgres_server) == []


def test_a_failing_stream_rolls_back_and_readers_see_the_old_table_meanwhile(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    store = postgres_store(postgres_server.uri)
    ref = TableRef(pg_schema, "t")
    store.write(ref, pa.table({"v": [1, 2, 3]}).to_reader())
    halfway, release = threading.Event(), threading.Event()
    schema = pa.schema([("v", pa.int64())])

    def slow() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch({"v": [7, 8]}, schema=schema)
        halfway.set()
        release.wait(30)
        raise RuntimeError("source died mid-stream")

    errors: list[BaseException] = []

    def write() -> None:
        try:
            store.write(ref, pa.RecordBatchReader.from_batches(schema, slow()))
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    assert halfway.wait(30)
    assert store.read(ref).read_all().to_pydict() == {"v": [1, 2, 3]}  # not blocked, old data
    release.set()
    writer.join(30)
    assert isinstance(errors[0], StorageError)
    assert "source died mid-stream" in str(errors[0])
    assert store.read(ref).read_all().to_pydict() == {"v": [1, 2, 3]}
    assert stage_tables(postgres_server) == []


def test_concurrent_writers_take_turns_and_the_last_one_wins(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    store = postgres_store(postgres_server.uri)
    ref = TableRef(pg_schema, "t")
    errors: list[BaseException] = []

    def work(writer: int) -> None:
        for round_ in range(5):
            try:
                store.write(ref, pa.table({"w": [writer] * 100, "r": [round_] * 100}).to_reader())
                got = store.read(ref).read_all()
                assert got.num_rows == 100  # one writer's whole table, never a mix
                assert len(set(got.column("w").to_pylist())) == 1
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert stage_tables(postgres_server) == []


WRITER = """
import sys, time
import pyarrow as pa
from wharf._stores.base import TableRef
from wharf._stores.postgres import postgres_store

schema = pa.schema([("v", pa.int64())])

def batches():
    for i in range(10_000):
        yield pa.record_batch({"v": list(range(1000))}, schema=schema)
        if i == 20:
            print("staging", flush=True)
            time.sleep(60)

postgres_store(sys.argv[1]).write(
    TableRef(sys.argv[2], "t"), pa.RecordBatchReader.from_batches(schema, batches())
)
"""


def test_a_writer_killed_mid_write_leaves_the_old_table(
    postgres_server: PostgresServer, pg_schema: str, tmp_path: Path
) -> None:
    store = postgres_store(postgres_server.uri)
    ref = TableRef(pg_schema, "t")
    store.write(ref, pa.table({"v": [1, 2, 3]}).to_reader())
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(WRITER))
    proc = subprocess.Popen(
        [sys.executable, str(script), postgres_server.uri, pg_schema],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "staging"
        assert stage_tables(postgres_server) == []  # the stage is not visible uncommitted
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert store.read(ref).read_all().to_pydict() == {"v": [1, 2, 3]}
    deadline = time.monotonic() + 10  # the server notices the dropped connection, rolls back
    while time.monotonic() < deadline:
        with postgres_server.connect() as con:
            open_writes = con.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%%' "
                "OR query LIKE 'COPY%%'"
            ).fetchone()
        if open_writes == (0,):
            break
        time.sleep(0.05)
    store.write(ref, pa.table({"v": [4]}).to_reader())  # nothing is left locked
    assert store.read(ref).read_all().to_pydict() == {"v": [4]}


def test_partition_writes_bind_values_as_the_column_type(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    store = postgres_store(postgres_server.uri)
    ref = TableRef(pg_schema, "daily")
    day = pa.date32()
    store.write(
        ref,
        pa.table({"day": pa.array([dt.date(2024, 1, 1)] * 2, day), "v": [1, 2]}).to_reader(),
        partition=PartitionFilter("day", values=("2024-01-01",)),
    )
    store.write(  # columns in another order: matched by name
        ref,
        pa.table({"v": [3], "day": pa.array([dt.date(2024, 1, 2)], day)}).to_reader(),
        partition=PartitionFilter("day", start="2024-01-02", end="2024-01-03"),
    )
    store.write(
        ref,
        pa.table({"day": pa.array([dt.date(2024, 1, 1)], day), "v": [9]}).to_reader(),
        partition=PartitionFilter("day", values=(dt.date(2024, 1, 1),)),
    )
    got = store.read(ref).read_all().sort_by("day").to_pydict()
    assert got == {"day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)], "v": [9, 3]}
    one = store.read(ref, partition=PartitionFilter("day", values=("2024-01-02",)))
    assert one.read_all().column("v").to_pylist() == [3]
    with pytest.raises(StorageError, match="must belong to its partition"):
        store.write(
            ref,
            pa.table({"day": pa.array([dt.date(2024, 1, 5)], day), "v": [1]}).to_reader(),
            partition=PartitionFilter("day", values=("2024-01-01",)),
        )
    assert store.read(ref).read_all().num_rows == 2


def test_a_table_not_written_by_wharf_reads_with_driver_types(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    with postgres_server.connect() as con:
        con.execute(f'CREATE SCHEMA "{pg_schema}"')
        con.execute(
            f'CREATE TABLE "{pg_schema}".legacy (n numeric(6,2), at timestamptz, s smallint)'
        )
        con.execute(f"INSERT INTO \"{pg_schema}\".legacy VALUES (1.5, '2024-01-01Z', 7)")
    got = postgres_store(postgres_server.uri).read(TableRef(pg_schema, "legacy")).read_all()
    assert got.column("n").to_pylist() == ["1.50"]
    assert got.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert got.column("s").type == pa.int16()


def test_missing_table_and_store_errors(postgres_server: PostgresServer, pg_schema: str) -> None:
    store = postgres_store(postgres_server.uri)
    with pytest.raises(StoredValueNotFoundError, match="never_stored"):
        store.read(TableRef(pg_schema, "never_stored"))
    assert not store.exists(TableRef(pg_schema, "never_stored"))
    store.delete(TableRef(pg_schema, "never_stored"))  # no error
    closed = postgres_uri(host="127.0.0.1", port=1, password="s3cret-pw")
    with pytest.raises(StorageError, match="could not connect to PostgreSQL") as info:
        postgres_store(closed).read(TableRef("public", "t"))
    assert "s3cret-pw" not in str(info.value)
    assert "s3cret-pw" not in repr(postgres_store(closed))


def test_duckdb_relations_and_lazy_frames_stream_in(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    import duckdb

    con = duckdb.connect()

    @dg.asset
    def rel() -> duckdb.DuckDBPyRelation:
        return con.sql("SELECT range AS i FROM range(5)")

    @dg.asset
    def lazy(rel: pl.LazyFrame) -> pl.LazyFrame:
        return rel.with_columns(double=pl.col("i") * 2)

    seen: list[Any] = []

    @dg.asset
    def last(lazy: pa.Table) -> None:
        seen.append(lazy)

    assert run([rel, lazy, last], manager(postgres_server, pg_schema)).success
    assert seen[0].to_pydict() == {"i": [0, 1, 2, 3, 4], "double": [0, 2, 4, 6, 8]}


def test_resource_connection_schema_and_secrets(
    postgres_server: PostgresServer, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHARF_TEST_PGPASSWORD", "hunter2-secret")
    pg = PostgresResource(
        host=postgres_server.host,
        port=postgres_server.port,
        password=dg.EnvVar("WHARF_TEST_PGPASSWORD"),
        schema=pg_schema,
    )
    resolved = pg.resolve_env()
    assert "hunter2-secret" not in repr(resolved)
    assert "hunter2-secret" not in repr(PostgresIOManager(password="hunter2-secret"))
    with resolved.get_connection() as conn:
        conn.execute("CREATE TABLE made_here AS SELECT 1 AS x")
    with resolved.get_connection() as conn:
        assert conn.execute("SELECT current_schema(), x FROM made_here").fetchall() == [
            (pg_schema, 1)
        ]
    with resolved.get_adbc_connection() as conn:
        cursor = conn.cursor()
        cursor.execute(f'SELECT x FROM "{pg_schema}".made_here')
        assert cursor.fetch_arrow_table().column("x").to_pylist() == [1]
        cursor.close()
    with pytest.raises(ConfigError, match="did you mean 'database'"):
        PostgresIOManager(databse="x")


def test_postgres_uri_quotes_every_part() -> None:
    uri = postgres_uri(host="::1", port=5, user="a b", password="p@ss:/", database="d/b")
    assert uri == "postgresql://a%20b:p%40ss%3A%2F@[::1]:5/d%2Fb"


@pytest.mark.parametrize(
    ("host", "hint"),
    [
        ("127.0.0.1:5432", "host and port are separate fields (host='127.0.0.1', port=5432)"),
        ("[::1]:5433", "host and port are separate fields (host='::1', port=5433)"),
        ("db.internal:5432", "host and port are separate fields (host='db.internal', port=5432)"),
        ("postgresql://me@db:5432/shop", "give the URI's parts as the fields host, port"),
    ],
)
def test_a_host_with_a_port_names_the_manager_and_the_fields(host: str, hint: str) -> None:
    for cls in (PostgresIOManager, PostgresResource):
        with pytest.raises(ConfigError) as info:
            cls(host=host)
        assert str(info.value).startswith(f"{cls.__name__} has invalid config: field 'host'")
        assert hint in str(info.value)
    assert PostgresIOManager(host="::1").host == "::1"  # an IPv6 address is one host
    assert PostgresIOManager(host="/run/postgresql").host == "/run/postgresql"


def test_partition_expr_names_fold_to_lower_case(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    """PostgreSQL folds an unquoted name to lower case: ``CAST(DAY AS DATE)`` reads column
    ``day``, while ``KIND`` does not name a column ``Kind`` (DuckDB's rule would match it)."""
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")

    @dg.asset(partitions_def=daily, metadata={"partition_expr": "CAST(DAY AS DATE)"})
    def events(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"day": [context.partition_key] * 2, "n": [1, 2]})

    io = manager(postgres_server, pg_schema)
    for day in ["2024-01-01", "2024-01-02", "2024-01-01"]:
        assert dg.materialize([events], partition_key=day, resources={"io_manager": io}).success
    with postgres_server.connect() as con:
        rows = con.execute(f'SELECT day, count(*) FROM "{pg_schema}".events GROUP BY 1 ORDER BY 1')
        assert rows.fetchall() == [("2024-01-01", 2), ("2024-01-02", 2)]

    @dg.asset(
        partitions_def=dg.StaticPartitionsDefinition(["a"]),
        metadata={"partition_expr": "lower(KIND)"},
    )
    def kinds() -> pd.DataFrame:
        return pd.DataFrame({"Kind": ["a"]})

    with pytest.raises(DefinitionError, match="column 'KIND' matches no column"):
        dg.materialize([kinds], partition_key="a", resources={"io_manager": io})


def test_a_users_type_handler_on_postgres(postgres_server: PostgresServer, pg_schema: str) -> None:
    """A handler of one's own writes over the ADBC connection; wharf swaps its rows in."""

    class Ints(dg.DbTypeHandler[tuple]):  # type: ignore[type-arg]
        def handle_output(self, context: Any, table_slice: Any, obj: Any, connection: Any) -> None:
            cur = connection.cursor()
            name = f'"{table_slice.schema}"."{table_slice.table}"'
            cur.execute(f"CREATE TABLE {name} (x BIGINT)")
            cur.execute(f"INSERT INTO {name} VALUES {', '.join(f'({int(v)})' for v in obj)}")
            cur.close()

        def load_input(self, context: Any, table_slice: Any, connection: Any) -> tuple:  # type: ignore[type-arg]
            cur = connection.cursor()
            cur.execute(f'SELECT x FROM "{table_slice.schema}"."{table_slice.table}" ORDER BY x')
            rows = cur.fetchall()
            cur.close()
            return tuple(r[0] for r in rows)

        @property
        def supported_types(self) -> list[type]:
            return [tuple]

    class WithInts(PostgresIOManager):
        @staticmethod
        def type_handlers() -> list[Any]:
            return [Ints()]

    @dg.asset
    def ints() -> tuple:  # type: ignore[type-arg]
        return (3, 1)

    seen: list[Any] = []

    @dg.asset
    def down(ints: tuple) -> None:  # type: ignore[type-arg]
        seen.append(ints)

    io = manager(postgres_server, pg_schema, WithInts)
    assert dg.materialize([ints, down], resources={"io_manager": io}).success
    assert seen == [(1, 3)]
    assert stage_tables(postgres_server) == []
