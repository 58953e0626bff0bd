"""``partition_expr`` as Dagster's DuckDB, Snowflake and BigQuery pages use it: expressions over
columns (``TO_TIMESTAMP(TIME)``), names matched as the database matches unquoted identifiers,
quoted names, one per dimension; and everything hostile refused or quoted, never pasted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

import wharf as dg
from tests.warehouse_fixtures import bigquery_server, fakesnow_server, unique_name, warehouse_env
from wharf._io.partition_expr import parse_partition_expr
from wharf._stores.base import TableRef
from wharf.duckdb import DuckDBPandasIOManager
from wharf.errors import DefinitionError, StorageError

__all__ = ["bigquery_server", "fakesnow_server", "warehouse_env"]

SPECIES = ["Iris-setosa", "Iris-virginica"]


def _epoch(day: str, hour: int = 0) -> int:
    return int(dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC).timestamp())


def _iris(day: str, species: str | None = None) -> pd.DataFrame:
    """A day of rows whose ``time`` is seconds since the epoch, as in Dagster's example."""
    names = [species] * 2 if species else SPECIES
    return pd.DataFrame({"species": names, "time": [_epoch(day, 1), _epoch(day, 23)]})


@dataclass(frozen=True)
class Database:
    """A row of Dagster's partition examples: the store, its I/O manager and the page's
    expression for a ``time`` column of seconds since the epoch."""

    name: str
    io_manager: Callable[[Any, Path], Any]  # (server or None, folder) -> the I/O manager
    time_expr: str
    fixture: str | None = None


def _snowflake(server: Any, tmp: Path) -> Any:
    from wharf.snowflake import SnowflakePandasIOManager

    return SnowflakePandasIOManager(**server.config(unique_name("SF").upper()))


def _bigquery(server: Any, tmp: Path) -> Any:
    from wharf.bigquery import BigQueryPandasIOManager

    return BigQueryPandasIOManager(**server.config(unique_name("bq")))


DATABASES = [
    Database("duckdb", lambda _, tmp: DuckDBPandasIOManager(database=str(tmp / "t.duckdb")),
             "TO_TIMESTAMP(TIME)"),
    Database("snowflake", _snowflake, "TO_TIMESTAMP(TIME::INT)", "fakesnow_server"),
    Database("bigquery", _bigquery, "TIMESTAMP_SECONDS(TIME)", "bigquery_server"),
]  # fmt: skip


@pytest.fixture(params=DATABASES, ids=[d.name for d in DATABASES])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Database, Any]:
    """A row of :data:`DATABASES` and its I/O manager (on the server the row names)."""
    row: Database = request.param
    server = request.getfixturevalue(row.fixture) if row.fixture else None
    return row, row.io_manager(server, tmp_path)


def _count(io: Any, table: str) -> int:
    """The rows of ``table`` in the manager's schema, read through its store."""
    ref = TableRef(io.default_schema() or "public", table)
    return int(io.table_store().read(ref).read_all().num_rows)


def _rows(db: str, sql: str) -> list[Any]:
    with duckdb.connect(db) as con:
        return con.sql(sql).fetchall()


def test_time_partitions_by_an_expression(db: tuple[Database, Any]) -> None:
    """Dagster's time-partition example, with each page's expression over ``TIME``."""
    database, io = db
    daily = dg.DailyPartitionsDefinition(start_date="2023-01-01")

    @dg.asset(partitions_def=daily, metadata={"partition_expr": database.time_expr})
    def iris_data_per_day(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return _iris(context.partition_key)

    seen: list[pd.DataFrame] = []

    @dg.asset(partitions_def=daily)
    def count_per_day(iris_data_per_day: pd.DataFrame) -> None:
        seen.append(iris_data_per_day)

    for day in ["2023-01-01", "2023-01-02", "2023-01-01"]:  # a rewrite replaces its day only
        dg.materialize([iris_data_per_day], partition_key=day, resources={"io_manager": io})
    assert _count(io, "iris_data_per_day") == 4
    dg.materialize(
        [iris_data_per_day, count_per_day],
        partition_key="2023-01-02",
        resources={"io_manager": io},
        selection=[count_per_day],
    )
    assert sorted(seen[0]["time"]) == _iris("2023-01-02")["time"].tolist()


def test_rows_outside_an_expression_partition_are_refused(tmp_path: Path) -> None:
    daily = dg.DailyPartitionsDefinition(start_date="2023-01-01")

    @dg.asset(partitions_def=daily, metadata={"partition_expr": "TO_TIMESTAMP(TIME)"})
    def iris_data_per_day() -> pd.DataFrame:
        return _iris("2023-03-01")  # not the partition asked for

    io = DuckDBPandasIOManager(database=str(tmp_path / "o.duckdb"))
    with pytest.raises(StorageError, match="must belong to its partition"):
        dg.materialize(
            [iris_data_per_day], partition_key="2023-01-01", resources={"io_manager": io}
        )


def test_static_and_multi_partitions_with_names_in_another_case(db: tuple[Database, Any]) -> None:
    """Dagster's static and multi-partition examples: ``SPECIES`` names the column ``species``
    (each database matches unquoted names ignoring case), the date by the page's expression."""
    database, io = db
    species = dg.StaticPartitionsDefinition(SPECIES)

    @dg.asset(partitions_def=species, metadata={"partition_expr": "SPECIES"})
    def iris_by_species(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return _iris("2023-01-01", context.partition_key)

    multi = dg.MultiPartitionsDefinition(
        {"date": dg.DailyPartitionsDefinition(start_date="2023-01-01"), "species": species}
    )

    @dg.asset(
        partitions_def=multi,
        metadata={"partition_expr": {"date": database.time_expr, "species": "SPECIES"}},
    )
    def iris_multi(context: dg.AssetExecutionContext) -> pd.DataFrame:
        key = context.partition_key.keys_by_dimension
        return _iris(key["date"], key["species"])

    for name in SPECIES:
        dg.materialize([iris_by_species], partition_key=name, resources={"io_manager": io})
    for key in ["2023-01-01|Iris-setosa", "2023-01-02|Iris-setosa", "2023-01-01|Iris-setosa"]:
        dg.materialize([iris_multi], partition_key=key, resources={"io_manager": io})
    assert _count(io, "iris_by_species") == 4
    assert _count(io, "iris_multi") == 4


def test_a_quoted_name_matches_exactly_and_a_cast_works_on_text(tmp_path: Path) -> None:
    db = str(tmp_path / "q.duckdb")
    daily = dg.DailyPartitionsDefinition(start_date="2023-01-01")

    @dg.asset(partitions_def=daily, metadata={"partition_expr": "CAST(day AS DATE)"})
    def events(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"day": [context.partition_key], "n": [1]})

    io = DuckDBPandasIOManager(database=db)
    dg.materialize([events], partition_key="2023-01-05", resources={"io_manager": io})
    assert _rows(db, "SELECT day FROM public.events") == [("2023-01-05",)]

    @dg.asset(
        partitions_def=dg.StaticPartitionsDefinition(["a"]), metadata={"partition_expr": '"Kind"'}
    )
    def kinds() -> pd.DataFrame:
        return pd.DataFrame({"kind": ["a"]})

    with pytest.raises(
        DefinitionError, match=r"column 'Kind' matches no column of the data \(exactly\)"
    ):
        dg.materialize([kinds], partition_key="a", resources={"io_manager": io})


@pytest.mark.parametrize(
    ("expr", "what"),
    [
        ("day; DROP TABLE t", "a ';'"),
        ("day -- comment", "a comment"),
        ("day /* c */", "a comment"),
        ("(SELECT max(day) FROM t)", "a subquery"),
        ("day IN (SELECT 1)", "a "),
        ("t.day", "a qualified column"),
        ("day = ?", "a placeholder"),
        ("*", "a star"),
    ],
)
def test_hostile_partition_exprs_are_refused_when_defined(expr: str, what: str) -> None:
    with pytest.raises(DefinitionError, match=f"is refused: it holds {what}"):
        dg.TableOptions(partition_expr=expr)
    with pytest.raises(DefinitionError, match="is refused"):
        parse_partition_expr(expr, "postgres")


def test_hostile_partition_expr_in_untyped_metadata_is_refused_before_the_run(
    tmp_path: Path,
) -> None:
    @dg.asset(
        partitions_def=dg.StaticPartitionsDefinition(["a"]),
        metadata={"partition_expr": "k; DROP TABLE x"},
    )
    def t() -> pd.DataFrame:
        return pd.DataFrame({"k": ["a"]})

    db = str(tmp_path / "h.duckdb")
    with pytest.raises(DefinitionError, match=r"asset 't' \(DuckDBPandasIOManager\).*holds a ';'"):
        dg.materialize(
            [t], partition_key="a", resources={"io_manager": DuckDBPandasIOManager(database=db)}
        )


HOSTILE = 'x"; DROP TABLE victim; --'


def test_hostile_column_names_are_quoted_in_partitions_merge_keys_and_columns(
    tmp_path: Path,
) -> None:
    """A partition column, a merge key and a projected column whose names are SQL are quoted
    identifiers: the data round-trips and the other table survives."""
    db = str(tmp_path / "names.duckdb")
    with duckdb.connect(db) as con:
        con.execute("CREATE TABLE victim AS SELECT 1 AS v")

    @dg.asset(
        partitions_def=dg.StaticPartitionsDefinition(["a", "b"]),
        metadata={"partition_expr": HOSTILE},
    )
    def parts(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({HOSTILE: [context.partition_key], "n": [1]})

    @dg.asset(metadata={"write_mode": "merge", "merge_keys": [HOSTILE]})
    def merged() -> pd.DataFrame:
        return pd.DataFrame({HOSTILE: ["a", "b"], "n": [1, 2]})

    seen: list[pd.DataFrame] = []

    @dg.asset(ins={"merged": dg.AssetIn(metadata={"columns": [HOSTILE]})})
    def projected(merged: pd.DataFrame) -> None:
        seen.append(merged)

    io = DuckDBPandasIOManager(database=db)
    for key in ["a", "b"]:
        dg.materialize([parts], partition_key=key, resources={"io_manager": io})
    dg.materialize([merged], resources={"io_manager": io})
    dg.materialize([merged, projected], resources={"io_manager": io})
    assert seen[0].columns.tolist() == [HOSTILE]
    assert sorted(seen[0][HOSTILE]) == ["a", "b"]
    assert _rows(db, "SELECT count(*) FROM public.parts") == [(2,)]
    assert _rows(db, "SELECT v FROM victim") == [(1,)]


def test_an_expression_is_refused_by_a_store_without_sql(tmp_path: Path) -> None:
    from wharf.deltalake import DeltaLakePandasIOManager

    @dg.asset(
        partitions_def=dg.StaticPartitionsDefinition(["a"]), metadata={"partition_expr": "lower(k)"}
    )
    def t() -> pd.DataFrame:
        return pd.DataFrame({"k": ["a"]})

    io = DeltaLakePandasIOManager(root_uri=str(tmp_path / "lake"))
    with pytest.raises(DefinitionError, match="'lower\\(k\\)' matches no column"):
        dg.materialize([t], partition_key="a", resources={"io_manager": io})


def test_dynamic_partitions_by_an_expression(db: tuple[Database, Any]) -> None:
    """Dagster's dynamic example: releases added at run time, the partition an expression over a
    column whose case differs (``lower(RELEASE)``)."""
    _, io = db
    releases = dg.DynamicPartitionsDefinition(name="releases")

    @dg.asset(partitions_def=releases, metadata={"partition_expr": "lower(RELEASE)"})
    def release_files(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"release": [context.partition_key.upper()] * 2, "n": [1, 2]})

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("releases", ["v1", "v2"])
    for key in ["v1", "v2", "v1"]:
        dg.materialize(
            [release_files], partition_key=key, resources={"io_manager": io}, instance=instance
        )
    ref = TableRef(io.default_schema() or "public", "release_files")
    got = io.table_store().read(ref).read_all().to_pydict()
    assert sorted(got["release"]) == ["V1", "V1", "V2", "V2"]
