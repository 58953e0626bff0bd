"""What wharf.snowflake (on fakesnow) and wharf.bigquery (on bqemulator) must both do: metadata,
time zones and NULLs, empty frames and projection, and the pandas and PySpark presets.

Each test runs once for each row of :data:`WAREHOUSES`; the store-specific tests stay in
``tests/snowflake`` and ``tests/bigquery``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import wharf as dg
from tests.warehouse_fixtures import store_and_load, unique_name
from wharf.bigquery import BigQueryIOManager, BigQueryPandasIOManager, BigQueryPySparkIOManager
from wharf.snowflake import SnowflakeIOManager, SnowflakePandasIOManager, SnowflakePySparkIOManager


@dataclass(frozen=True)
class Warehouse:
    """One store under test: its I/O managers, its server fixture and its naming."""

    name: str
    fixture: str
    io_manager: type[Any]
    pandas_preset: type[Any]
    pyspark_preset: type[Any]
    namespace: Callable[[], str]  # a fresh database / dataset name
    table_name: Callable[[Any, str], str]  # (server, namespace) -> the metadata name of "t"
    stamps_unit: str | None  # what the time-zone test converts its timestamps to


WAREHOUSES = [
    Warehouse(
        "snowflake", "fakesnow_server",
        SnowflakeIOManager, SnowflakePandasIOManager, SnowflakePySparkIOManager,
        lambda: unique_name("SF").upper(),  # as Snowflake names an unquoted database
        lambda server, database: f'"{database}"."PUBLIC"."T"',
        None,
    ),
    Warehouse(
        "bigquery", "bigquery_server",
        BigQueryIOManager, BigQueryPandasIOManager, BigQueryPySparkIOManager,
        lambda: unique_name("bq"),
        lambda server, dataset: f"`{server.project}`.`{dataset}`.`t`",
        "us",  # BigQuery keeps microseconds
    ),
]  # fmt: skip


@pytest.fixture(params=WAREHOUSES, ids=[w.name for w in WAREHOUSES])
def warehouse(request: pytest.FixtureRequest) -> Warehouse:
    found: Warehouse = request.param
    return found


@pytest.fixture
def server(warehouse: Warehouse, request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(warehouse.fixture)


@pytest.fixture
def namespace(warehouse: Warehouse) -> str:
    return warehouse.namespace()


@pytest.fixture
def io(warehouse: Warehouse, server: Any, namespace: str) -> Any:
    return warehouse.io_manager(**server.config(namespace))


def test_metadata_keys(io: Any, warehouse: Warehouse, server: Any, namespace: str) -> None:
    _, result = store_and_load(io, pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), pd.DataFrame)
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert {"row_count", "schema", "table", "duration_s"} <= set(meta)
    assert meta["row_count"].value == 2
    assert meta["table"].value == warehouse.table_name(server, namespace)
    assert list(meta["schema"].value) == ["a", "b"]


def test_time_zones_and_nulls_kept(io: Any, warehouse: Warehouse) -> None:
    stamps = pd.to_datetime(
        ["2024-01-01 12:00", None, "2024-07-01 08:30:00.123456"], format="ISO8601"
    )
    if warehouse.stamps_unit is not None:
        stamps = stamps.as_unit(warehouse.stamps_unit)
    df = pd.DataFrame(
        {
            "paris": stamps.tz_localize("Europe/Paris"),
            "utc": stamps.tz_localize("UTC"),
            "naive": stamps,
            "day": pd.Series([dt.date(2024, 1, 1), None, dt.date(1, 1, 1)], dtype=object),
        }
    )
    got, _ = store_and_load(io, df, pd.DataFrame)
    pd.testing.assert_frame_equal(got, df)
    polars_df = pl.DataFrame({"tokyo": [dt.datetime(2024, 1, 1), None]}).with_columns(
        pl.col("tokyo").dt.replace_time_zone("Asia/Tokyo")
    )
    got_pl, _ = store_and_load(io, polars_df, pl.DataFrame, "t2")
    assert got_pl.equals(polars_df)
    assert got_pl.schema == polars_df.schema


def test_empty_frame_keeps_columns_and_projection(io: Any) -> None:
    empty = pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())})
    got, _ = store_and_load(io, empty, pa.Table)
    assert got.schema == empty.schema
    assert got.num_rows == 0

    seen: list[Any] = []

    @dg.asset
    def wide() -> pd.DataFrame:
        return pd.DataFrame({"a": [1], "b": ["x"], "c": [2.5]})

    @dg.asset(ins={"wide": dg.AssetIn(metadata={"columns": ["c", "a"]})})
    def narrow(wide: pd.DataFrame) -> None:
        seen.append(wide)

    assert dg.materialize([wide, narrow], resources={"io_manager": io}).success
    assert list(seen[0].columns) == ["c", "a"]


def test_presets_differ_only_in_the_default_load_type(warehouse: Warehouse) -> None:
    assert warehouse.pandas_preset.default_load_type == "pandas"
    assert warehouse.pyspark_preset.default_load_type == "pyspark"
    assert issubclass(warehouse.pyspark_preset, warehouse.io_manager)


def test_pyspark_preset_loads_unannotated_inputs_as_spark(
    spark: Any, warehouse: Warehouse, server: Any, namespace: str
) -> None:
    io = warehouse.pyspark_preset(**server.config(namespace))
    seen: list[Any] = []

    @dg.asset
    def events():  # type: ignore[no-untyped-def]
        return spark.createDataFrame(pa.table({"userId": [1, 2], "kind": ["a", None]}))

    @dg.asset
    def counted(events) -> None:  # type: ignore[no-untyped-def]
        seen.append(events)

    assert dg.materialize([events, counted], resources={"io_manager": io}).success
    assert type(seen[0]).__name__ == "DataFrame"
    assert type(seen[0]).__module__.startswith("pyspark")
    assert sorted(seen[0].collect()) == sorted(
        spark.createDataFrame(pa.table({"userId": [1, 2], "kind": ["a", None]})).collect()
    )


class _Pairs(dg.DbTypeHandler[tuple]):  # type: ignore[type-arg]
    """A user's handler: a tuple of ints as a one-column table, written over the connection
    Dagster's handlers get (a Snowflake connection; a BigQuery client)."""

    @staticmethod
    def _run(connection: Any, sql: str) -> list[Any]:
        if hasattr(connection, "query"):  # google.cloud.bigquery.Client
            return [tuple(row.values()) for row in connection.query(sql).result()]
        cur = connection.cursor()
        try:
            cur.execute(sql)
            return list(cur.fetchall()) if cur.description else []
        finally:
            cur.close()

    def handle_output(self, context: Any, table_slice: Any, obj: tuple, connection: Any) -> None:  # type: ignore[type-arg]
        name = f"{table_slice.schema}.{table_slice.table}"
        self._run(connection, f"CREATE TABLE {name} (x INTEGER)")
        values = ", ".join(f"({int(v)})" for v in obj)
        self._run(connection, f"INSERT INTO {name} (x) VALUES {values}")

    def load_input(self, context: Any, table_slice: Any, connection: Any) -> tuple:  # type: ignore[type-arg]
        sql = f"SELECT x FROM {table_slice.schema}.{table_slice.table} ORDER BY x"
        return tuple(row[0] for row in self._run(connection, sql))

    @property
    def supported_types(self) -> list[type]:
        return [tuple]


def test_a_users_type_handler_round_trips(
    warehouse: Warehouse, server: Any, namespace: str
) -> None:
    class WithPairs(warehouse.io_manager):  # type: ignore[name-defined,misc]
        @staticmethod
        def type_handlers() -> list[Any]:
            return [_Pairs(), *warehouse.io_manager.type_handlers()]

    io = WithPairs(**server.config(namespace))
    got, _ = store_and_load(io, (3, 1, 2), tuple)
    assert got == (1, 2, 3)
    got_again, _ = store_and_load(io, (5,), tuple)  # replaced, the old rows gone
    assert got_again == (5,)


PARTITION_EXPR = {"snowflake": "TO_TIMESTAMP(TIME::INT)", "bigquery": "TIMESTAMP_SECONDS(TIME)"}


def test_a_table_dagster_wrote_loads_with_dagsters_column_names(
    warehouse: Warehouse, io: Any, server: Any, namespace: str
) -> None:
    _dagster_table(io, warehouse, "legacy", {"OWNER": "STRING", "AMOUNT": "INTEGER"}, [("ann", 3)])
    seen: list[pd.DataFrame] = []

    @dg.asset(ins={"legacy": dg.AssetIn(metadata={"columns": ["owner", "amount"]})})
    def report(legacy: pd.DataFrame) -> None:
        seen.append(legacy)

    legacy = dg.AssetSpec("legacy")
    assert dg.materialize(
        [legacy, report], resources={"io_manager": io}, selection=[report]
    ).success
    assert seen[0].to_dict("list") == {"owner": ["ann"], "amount": [3]}
    exact = warehouse.io_manager(**server.config(namespace), column_names="exact")
    got, _ = store_and_load(exact, pd.DataFrame({"Owner": ["bo"]}), pd.DataFrame, "mine")
    assert list(got.columns) == ["Owner"]  # a table wharf wrote keeps its names, in any mode

    @dg.asset
    def raw(legacy: pd.DataFrame) -> None:
        seen.append(legacy)

    dg.materialize([legacy, raw], resources={"io_manager": exact}, selection=[raw])
    assert list(seen[-1].columns) == ["OWNER", "AMOUNT"]


def _dagster_table(io: Any, warehouse: Warehouse, name: str, columns: dict[str, str],
                   rows: list[tuple[object, ...]]) -> None:  # fmt: skip
    """Table ``name`` as Dagster's pandas handlers leave it: upper-case columns (``columns``:
    name -> SQL type), ``rows`` in them, no schema of wharf's."""
    from wharf._stores.base import TableRef
    from wharf._stores.bigquery import ensure_dataset

    store, schema = io.table_store(), io.default_schema() or "public"
    target, q = store.location(TableRef(schema, name)), store.dialect.quote_name
    con = store.connect()
    try:
        if warehouse.name == "bigquery":
            ensure_dataset(con, schema)
        else:
            store.driver.execute(con, f"CREATE SCHEMA IF NOT EXISTS {target.rsplit('.', 1)[0]}", [])
        typed = ", ".join(f"{q(c)} {t}" for c, t in columns.items())
        store.driver.execute(con, f"CREATE TABLE {target} ({typed})", [])
        for row in rows:
            values = ", ".join(repr(v) for v in row)
            store.driver.execute(con, f"INSERT INTO {target} VALUES ({values})", [])
    finally:
        con.close()


def _stored(warehouse: Warehouse, server: Any, namespace: str, name: str) -> dict[str, list[Any]]:
    """The table's rows under its real column names, sorted by the first column."""
    exact = warehouse.io_manager(**server.config(namespace), column_names="exact")
    spec = dg.AssetSpec(name)
    seen: list[pd.DataFrame] = []

    @dg.asset(ins={"t": dg.AssetIn(key=name)})
    def look(t: pd.DataFrame) -> None:
        seen.append(t)

    dg.materialize([spec, look], resources={"io_manager": exact}, selection=[look])
    first = seen[0].columns[0]
    return seen[0].sort_values(first).to_dict("list")


def test_partition_append_and_merge_writes_into_tables_dagster_wrote(
    warehouse: Warehouse, io: Any, server: Any, namespace: str
) -> None:
    """Dagster's code unchanged: its lower-case frames go into the upper-case columns of the
    tables its I/O manager wrote, for partition, append and merge writes."""
    kinds = {"OWNER": "STRING", "AMOUNT": "INTEGER"}
    for name in ("by_owner", "added", "merged"):
        _dagster_table(io, warehouse, name, kinds, [("ann", 3), ("bo", 4)])
    owners = dg.StaticPartitionsDefinition(["ann", "bo"])

    @dg.asset(partitions_def=owners, metadata={"partition_expr": "OWNER"})
    def by_owner(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"owner": [context.partition_key], "amount": [7]})

    @dg.asset(metadata={"write_mode": "append"})
    def added() -> pd.DataFrame:
        return pd.DataFrame({"owner": ["cy"], "amount": [5]})

    @dg.asset(metadata={"write_mode": "merge", "merge_keys": ["owner"]})
    def merged() -> pd.DataFrame:
        return pd.DataFrame({"owner": ["bo", "cy"], "amount": [8, 9]})

    resources = {"io_manager": io}
    assert dg.materialize([by_owner], partition_key="bo", resources=resources).success
    assert dg.materialize([added, merged], resources=resources).success
    assert _stored(warehouse, server, namespace, "by_owner") == {
        "OWNER": ["ann", "bo"], "AMOUNT": [3, 7],
    }  # fmt: skip
    assert _stored(warehouse, server, namespace, "added") == {
        "OWNER": ["ann", "bo", "cy"], "AMOUNT": [3, 4, 5],
    }  # fmt: skip
    assert _stored(warehouse, server, namespace, "merged") == {
        "OWNER": ["ann", "bo", "cy"], "AMOUNT": [3, 8, 9],
    }  # fmt: skip
    seen: list[pd.DataFrame] = []

    @dg.asset(partitions_def=owners)
    def report(by_owner: pd.DataFrame) -> None:
        seen.append(by_owner)

    dg.materialize([by_owner, report], partition_key="bo", resources=resources, selection=[report])
    assert seen[0].to_dict("list") == {"owner": ["bo"], "amount": [7]}


def test_an_expression_partition_on_a_table_dagster_wrote(
    warehouse: Warehouse, io: Any, server: Any, namespace: str
) -> None:
    """Dagster's time-partition example on the table its I/O manager left: the expression
    names the table's upper-case ``TIME``; the frame's ``time`` goes into it."""
    day = int(dt.datetime(2023, 1, 2, tzinfo=dt.UTC).timestamp())
    kinds = {"SPECIES": "STRING", "TIME": "INTEGER"}
    _dagster_table(
        io, warehouse, "iris_data_per_day", kinds, [("old", day), ("kept", day + 3 * 86_400)]
    )
    daily = dg.DailyPartitionsDefinition(start_date="2023-01-01")

    @dg.asset(partitions_def=daily, metadata={"partition_expr": PARTITION_EXPR[warehouse.name]})
    def iris_data_per_day() -> pd.DataFrame:
        return pd.DataFrame({"species": ["new"], "time": [day + 60]})

    seen: list[pd.DataFrame] = []

    @dg.asset(partitions_def=daily)
    def down(iris_data_per_day: pd.DataFrame) -> None:
        seen.append(iris_data_per_day)

    resources = {"io_manager": io}
    assert dg.materialize([iris_data_per_day], partition_key="2023-01-02", resources=resources)
    dg.materialize(
        [iris_data_per_day, down], partition_key="2023-01-02", resources=resources,
        selection=[down],
    )  # fmt: skip
    assert seen[0].to_dict("list") == {"species": ["new"], "time": [day + 60]}
    assert _stored(warehouse, server, namespace, "iris_data_per_day") == {
        "SPECIES": ["kept", "new"], "TIME": [day + 3 * 86_400, day + 60],
    }  # fmt: skip


def _outside_sql(io: Any, name: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (``{t}``: the table ``name``) as code outside wharf runs it, its column
    names unquoted."""
    from wharf._stores.base import TableRef

    store = io.table_store()
    con = store.connect()
    try:
        target = store.location(TableRef(io.default_schema() or "public", name))
        return sorted(store.driver.execute(con, sql.format(t=target), []))
    finally:
        con.close()


def test_a_replace_keeps_the_column_names_of_a_table_dagster_wrote(
    warehouse: Warehouse, io: Any, server: Any, namespace: str
) -> None:
    """Dagster truncates and appends, keeping the table's upper-case names: so does wharf's
    whole-table replace (atomically, by its swap), and the table still loads as written."""
    _dagster_table(io, warehouse, "legacy", {"OWNER": "STRING", "AMOUNT": "INTEGER"}, [("ann", 3)])
    frame = pd.DataFrame({"owner": ["bo", "cy"], "amount": [7, 8]})
    got, _ = store_and_load(io, frame, pd.DataFrame, "legacy")
    pd.testing.assert_frame_equal(got, frame)  # the written types, under the frame's names
    assert _outside_sql(io, "legacy", "SELECT owner, amount FROM {t}") == [("bo", 7), ("cy", 8)]
    assert list(_stored(warehouse, server, namespace, "legacy")) == ["OWNER", "AMOUNT"]

    @dg.asset(name="legacy")
    def failing() -> pa.RecordBatchReader:
        def batches() -> Any:
            yield pa.record_batch({"owner": ["dee"], "amount": [1]})
            raise RuntimeError("source broke")

        schema = pa.schema([("owner", pa.string()), ("amount", pa.int64())])
        return pa.RecordBatchReader.from_batches(schema, batches())

    assert not dg.materialize([failing], resources={"io_manager": io}, raise_on_error=False).success
    assert _outside_sql(io, "legacy", "SELECT owner, amount FROM {t}") == [("bo", 7), ("cy", 8)]

    # a schema change still replaces the table: a column gone, one added (upper-cased, as
    # Dagster's handlers write it), and a pandas index kept
    changed = pd.DataFrame({"owner": ["eve"], "region": ["north"]}, index=pd.Index([4], name="k"))
    got, _ = store_and_load(io, changed, pd.DataFrame, "legacy")
    pd.testing.assert_frame_equal(got, changed)
    assert _outside_sql(io, "legacy", "SELECT owner, region, k FROM {t}") == [("eve", "north", 4)]
    assert list(_stored(warehouse, server, namespace, "legacy")) == ["OWNER", "REGION", "K"]
    exact = warehouse.io_manager(**server.config(namespace), column_names="exact")
    got, _ = store_and_load(exact, pd.DataFrame({"Owner": ["fay"]}), pd.DataFrame, "mine")
    got, _ = store_and_load(io, pd.DataFrame({"owner": ["gil"]}), pd.DataFrame, "mine")
    assert list(got.columns) == ["owner"]  # a table wharf wrote: replaced with the frame's names


class _Ledger:
    """A user's type: ``(owner, amount)`` rows."""

    def __init__(self, rows: list[tuple[str, int]]) -> None:
        self.rows = rows


class _Ledgers(dg.DbTypeHandler[_Ledger]):
    """A user's handler that creates its table with quoted lower-case names, as a writer that
    quotes a frame's labels does (``write_pandas(quote_identifiers=True)``)."""

    def handle_output(self, context: Any, table_slice: Any, obj: _Ledger, connection: Any) -> None:
        q = "`" if hasattr(connection, "query") else '"'
        name = f"{table_slice.schema}.{table_slice.table}"
        _Pairs._run(connection, f"CREATE TABLE {name} ({q}owner{q} STRING, {q}amount{q} INTEGER)")
        values = ", ".join(f"('{o}', {int(a)})" for o, a in obj.rows)
        _Pairs._run(connection, f"INSERT INTO {name} VALUES {values}")

    def load_input(self, context: Any, table_slice: Any, connection: Any) -> _Ledger:
        sql = f"SELECT owner, amount FROM {table_slice.schema}.{table_slice.table}"
        return _Ledger(sorted(_Pairs._run(connection, sql)))

    @property
    def supported_types(self) -> list[type]:
        return [_Ledger]


def test_a_handlers_rows_go_into_a_table_dagster_wrote_by_name(
    warehouse: Warehouse, server: Any, namespace: str
) -> None:
    """A user's handler's staged rows are mapped to the table's upper-case names as a frame's
    are, for a replace, a partition, an append and a merge."""

    class WithLedgers(warehouse.io_manager):  # type: ignore[name-defined,misc]
        @staticmethod
        def type_handlers() -> list[Any]:
            return [_Ledgers(), *warehouse.io_manager.type_handlers()]

    io = WithLedgers(**server.config(namespace))
    for name in ("replaced", "by_owner", "added", "merged"):
        kinds = {"OWNER": "STRING", "AMOUNT": "INTEGER"}
        _dagster_table(io, warehouse, name, kinds, [("ann", 3), ("bo", 4)])
    owners = dg.StaticPartitionsDefinition(["ann", "bo"])

    @dg.asset
    def replaced() -> _Ledger:
        return _Ledger([("cy", 5)])

    @dg.asset(partitions_def=owners, metadata={"partition_expr": "OWNER"})
    def by_owner(context: dg.AssetExecutionContext) -> _Ledger:
        return _Ledger([(context.partition_key, 7)])

    @dg.asset(metadata={"write_mode": "append"})
    def added() -> _Ledger:
        return _Ledger([("cy", 5)])

    @dg.asset(metadata={"write_mode": "merge", "merge_keys": ["owner"]})
    def merged() -> _Ledger:
        return _Ledger([("bo", 8), ("cy", 9)])

    resources = {"io_manager": io}
    assert dg.materialize([replaced, added, merged], resources=resources).success
    assert dg.materialize([by_owner], partition_key="bo", resources=resources).success
    expected = {
        "replaced": {"OWNER": ["cy"], "AMOUNT": [5]},
        "by_owner": {"OWNER": ["ann", "bo"], "AMOUNT": [3, 7]},
        "added": {"OWNER": ["ann", "bo", "cy"], "AMOUNT": [3, 4, 5]},
        "merged": {"OWNER": ["ann", "bo", "cy"], "AMOUNT": [3, 8, 9]},
    }
    for name, rows in expected.items():
        assert _stored(warehouse, server, namespace, name) == rows, name
    assert _outside_sql(io, "replaced", "SELECT owner, amount FROM {t}") == [("cy", 5)]
