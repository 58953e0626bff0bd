"""Golden SQL: the statements each dialect runs for a partition write through a
``partition_expr`` expression (and a merge), rendered and compared with the checked-in text in
``golden/<dialect>.sql``. A change to what a database is sent shows up as a diff here; after
checking it, ``WHARF_UPDATE_GOLDEN=1`` rewrites the files. Hostile names are part of the input,
so the files also show how each dialect quotes them."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from wharf._io.partition_expr import parse_partition_expr
from wharf._stores.base import PartitionFilter, TableRef
from wharf._stores.bigquery import BIGQUERY
from wharf._stores.dialect import Dialect, sql_type
from wharf._stores.duckdb import DUCKDB
from wharf._stores.mysql import MYSQL
from wharf._stores.postgres import POSTGRES
from wharf._stores.snowflake import SNOWFLAKE
from wharf._stores.sql import SqlStore
from wharf._stores.sqlite import SQLITE

GOLDEN = Path(__file__).parent / "golden"
DIALECTS = {
    "duckdb": DUCKDB, "postgres": POSTGRES, "snowflake": SNOWFLAKE, "bigquery": BIGQUERY,
    "sqlite": SQLITE, "mysql": MYSQL,
}  # fmt: skip
EXPRESSIONS = {
    "duckdb": "TO_TIMESTAMP(TIME)",
    "postgres": "to_timestamp(time)",
    "snowflake": "TO_TIMESTAMP(TIME::INT)",
    "bigquery": "TIMESTAMP_SECONDS(TIME)",
    "sqlite": "datetime(time, 'unixepoch')",
    "mysql": "FROM_UNIXTIME(time)",
}
HOSTILE = 'k"`; DROP TABLE t; --'
COLUMNS = ["time", HOSTILE, "value"]
INNER = 'd"; DROP TABLE t; --'


def _ddl() -> list[tuple[str, object]]:
    import pyarrow as pa

    return [
        (HOSTILE, pa.int64()), ("ts", pa.timestamp("ns", "Asia/Tokyo")),
        ("amount", pa.decimal128(12, 2)), ("day", pa.date32()), ("tags", pa.list_(pa.string())),
        ("flag", pa.bool_()), ("blob", pa.binary()),
    ]  # fmt: skip


DDL = _ddl()


def render(name: str, dialect: Dialect) -> str:
    """Every statement of a partition write, a merge and a read, one per line."""
    store = SqlStore(dialect, lambda: None, database="golden")
    column, sql = parse_partition_expr(EXPRESSIONS[name], dialect.name).resolve(
        COLUMNS, asset="a", manager="M"
    )
    window = PartitionFilter(
        column, start=dt.datetime(2024, 1, 1), end=dt.datetime(2024, 1, 2), sql=sql
    )
    where, params = store._where([window, PartitionFilter(HOSTILE, values=("eu", None))])
    target = store._target(TableRef("sales", "daily"))
    cols = ", ".join(dialect.quote_name(c) for c in COLUMNS)
    parts = {"target": target, "columns": cols, "source": "__src", "where": where}
    merge_where = f"TRUE AND {store._matched('__src', [HOSTILE])}"
    # a hostile name inside an expression (sqlglot reads no backslash escape in a BigQuery
    # name: such a name is refused in an expression, test_bigquery_backtick_escape_is_refused)
    quoted = f"CAST({dialect.quote_name(INNER)} AS DATE)"
    _, cast = parse_partition_expr(quoted, dialect.name).resolve(
        [*COLUMNS, INNER], asset="a", manager="M"
    )
    lines = [
        f"-- params: {params!r}",
        f"-- {quoted} -> {cast}",
        dialect.delete_rows_sql.format(**parts),
        dialect.insert_sql.format(**parts),
        dialect.count_sql.format(**parts),
        dialect.delete_rows_sql.format(**{**parts, "where": merge_where}),
        dialect.duplicate_keys_sql.format(keys=dialect.quote_name(HOSTILE), source="__src"),
        f"SELECT {cols} FROM {target} WHERE {where}",
    ]
    if dialect.replace_rows_sql:
        lines.append(dialect.replace_rows_sql.format(**parts))
    if name in ("sqlite", "mysql"):  # the whole-table swap (with its {old} name), and its DDL
        stage, old = TableRef("sales", "__stage"), TableRef("sales", "__old")
        swap = {
            **parts, "stage": store._target(stage), "old": store._target(old),
            "table": dialect.quote_name(store._table_name(TableRef("sales", "daily"))),
            "target_text": store._literal(TableRef("sales", "daily")),
            "stage_text": store._literal(stage), "comment": "", "text": "c2NoZW1h",
        }  # fmt: skip
        lines += [statement.format(**swap) for statement in dialect.replace_sql]
        lines.append((dialect.comment_set_sql or "").format(**swap))
        types = ", ".join(f"{dialect.quote_name(c)} {sql_type(dialect, t)}" for c, t in DDL)
        lines.append(f"CREATE TABLE {store._target(stage)} ({types})")
    return "\n".join(" ".join(line.split()) for line in lines) + "\n"


@pytest.mark.parametrize("name", list(DIALECTS))
def test_golden_sql(name: str) -> None:
    got, path = render(name, DIALECTS[name]), GOLDEN / f"{name}.sql"
    if os.environ.get("WHARF_UPDATE_GOLDEN"):
        path.write_text(got)
    assert got == path.read_text(), f"{name}: the SQL sent changed; see {path}"


def test_bigquery_backtick_escape_is_refused() -> None:
    """A BigQuery name with an escaped backtick cannot be read back by sqlglot inside an
    expression: refused, never pasted (a plain partition column of that name works)."""
    from wharf.errors import DefinitionError

    with pytest.raises(DefinitionError, match="is refused"):
        parse_partition_expr(f"CAST({BIGQUERY.quote_name(HOSTILE)} AS DATE)", "bigquery")
