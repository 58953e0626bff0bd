"""Golden SQL: the statements each dialect runs for a partition write through a
``partition_expr`` expression (and a merge), rendered and compared with the checked-in text in
``golden/<dialect>.sql``. A change to what a database is sent shows up as a diff here; after
checking it, ``WHARF_UPDATE_GOLDEN=1`` rewrites the files. Hostile names are part of the input,
so the files also show how each dialect quotes them."""

from __future__ import annotations

import datetime as dt
import importlib
import os
from pathlib import Path
from typing import Any

import pytest

from wharf._io.partition_expr import parse_partition_expr
from wharf._stores.base import PartitionFilter, TableRef
from wharf._stores.bigquery import BIGQUERY
from wharf._stores.dialect import Dialect, sql_type
from wharf._stores.registry import STORES, StoreRow, store_row
from wharf._stores.sql import SqlStore

GOLDEN = Path(__file__).parent / "golden"


def _manager(row: StoreRow) -> Any:
    """The registry row's I/O manager on its example settings (nothing connects)."""
    return getattr(importlib.import_module(row.module), row.manager)(**row.example)


#: every SQL store of the registry: a new store's golden files come with its row
MANAGERS = {row.name: _manager(row) for row in STORES}
DIALECTS: dict[str, Dialect] = {name: m.dialect() for name, m in MANAGERS.items()}
EXPRESSIONS = {row.name: row.expression for row in STORES}
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


# -- the whole dialect: names, every statement template, flags and the type lowering ----------
def _stores() -> dict[str, SqlStore]:
    """Each registry row's store, as its I/O manager builds it on the row's example settings
    (nothing connects), and Snowflake's with timestamps stored as text."""
    stores = {name: m.table_store() for name, m in MANAGERS.items()}
    as_text = {**store_row("snowflake").example, "store_timestamps_as_strings": True}
    stores["snowflake_text_times"] = (
        _manager(store_row("snowflake")).model_copy(update=as_text).table_store()
    )
    return stores


#: schema and table names: plain, mixed case, embedded quotes of every dialect, punctuation
REFS = [
    TableRef("sales", "daily"), TableRef("Sales", "Daily_Summary"),
    TableRef('my "odd"', "it`s \\ here"), TableRef("public", "a-b.c"),
    TableRef("PUBLIC", "ALREADY_UPPER"), TableRef("_x1", "$dollar"),
]  # fmt: skip


def _types() -> list[object]:
    """One Arrow type of every family (and the edge of each: widths, units, zones, precision)."""
    import pyarrow as pa

    ints = [pa.int8(), pa.int16(), pa.int32(), pa.int64()]
    uints = [pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()]
    times = [pa.time32("s"), pa.time32("ms"), pa.time64("us"), pa.time64("ns")]
    stamps = [
        pa.timestamp(u, tz) for tz in (None, "UTC", "Asia/Tokyo") for u in ["s", "ms", "us", "ns"]
    ]
    return [
        pa.null(), pa.bool_(), *ints, *uints, pa.float16(), pa.float32(), pa.float64(),
        pa.string(), pa.large_string(), pa.string_view(),
        pa.binary(), pa.large_binary(), pa.binary_view(), pa.binary(16),
        pa.date32(), pa.date64(), *times, *stamps,
        pa.duration("s"), pa.duration("ns"), pa.month_day_nano_interval(),
        pa.decimal128(12, 2), pa.decimal128(38, 10), pa.decimal128(30, 0), pa.decimal128(20, 12),
        pa.decimal256(20, 2), pa.decimal256(40, 5), pa.decimal256(76, 40),
        pa.list_(pa.string()), pa.large_list(pa.int64()), pa.list_(pa.timestamp("ns", "UTC")),
        pa.list_(pa.uint8()), pa.list_(pa.list_(pa.int32())),
        pa.list_(pa.struct([("a", pa.int32())])), pa.list_(pa.int16(), 3),
        pa.list_view(pa.int32()), pa.large_list_view(pa.string()),
        pa.struct([("a", pa.int32()), ('b "q"', pa.string()), ("t", pa.timestamp("ns"))]),
        pa.map_(pa.string(), pa.int32()), pa.dictionary(pa.int32(), pa.string()),
        pa.dictionary(pa.int8(), pa.int64()), pa.uuid(),
        pa.dense_union([pa.field("i", pa.int32()), pa.field("s", pa.string())]),
        pa.run_end_encoded(pa.int32(), pa.string()),
    ]  # fmt: skip


def _show(run: object) -> str:
    """What ``run()`` gives, or the error it raises (class and message)."""
    try:
        return str(run())  # type: ignore[operator]
    except Exception as exc:  # the refusal is the golden answer
        return f"! {type(exc).__name__}: {exc}"


def render_dialect(name: str, store: SqlStore) -> str:
    """Everything a dialect decides, one fact per line: names as quoted, folded and compared,
    every statement template rendered, its flags, and each Arrow type's stand-in and SQL type."""
    d = store.dialect
    lines = [f"# {name}: {d.name}"]
    for ref in REFS:
        lines.append(f"location {ref} -> {_show(lambda ref=ref: store.location(ref))}")
        lines.append(
            f"same_table {ref} -> {_show(lambda ref=ref: d.same_table(*(ref.schema, ref.table)))}"
        )
    longs = ("x" * 63, "x" * 64, "x" * 65, "é" * 32, "é" * 31, "x" * 300)
    lines += [f"quote {len(n)} chars -> {_show(lambda n=n: d.quote_name(n))}" for n in longs]
    nul = "a\x00b"
    lines.append(f"quote NUL -> {_show(lambda: d.quote_name(nul))}")
    # names no folding changes (folding is pinned by the locations above)
    ref, stage, old = (TableRef("SALES", n) for n in ('Daily "x"', "__STAGE", "__OLD"))
    target = store._target(ref)
    parts = {
        "target": target, "stage": store._target(stage), "old": store._target(old),
        "table": d.quote_name(store._table_name(ref)), "schema": store._schema(ref.schema),
        "target_text": store._literal(ref), "stage_text": store._literal(stage),
        "comment": "c2NoZW1h", "text": "c2NoZW1h", "columns": '"a", "b"', "source": "__src",
        "where": "TRUE", "column": d.quote_name("New Col"), "type": "BIGINT",
        "keys": d.quote_name("k"), "param": d.placeholder.format(n=1),
        "pairs": f"__wharf_s.{d.quote_name('k')} = __wharf_t.{d.quote_name('k')}",
    }  # fmt: skip
    for field in sorted(f for f in vars(d) if f.endswith("_sql")):
        value = getattr(d, field)
        texts = value if isinstance(value, tuple) else (value,)
        lines += [f"{field}: {_show(lambda t=t: t and t.format(**parts))}" for t in texts]
    for where in (
        [PartitionFilter("region", values=(None,))],
        [PartitionFilter("region", values=())],
        [PartitionFilter("region", values=("eu", None, "us"))],
        [PartitionFilter("n", values=tuple(range(70)))],
        [PartitionFilter("n", values=(*range(70), None))],
        [PartitionFilter("Day", start=dt.date(2024, 1, 1))],
        [PartitionFilter("Day", end=dt.datetime(2024, 1, 2, 3))],
        [PartitionFilter("Day", start=1, end=2), PartitionFilter('r"g', values=("x",))],
    ):
        sql, params = store._where(where)
        shown = params if len(params) < 8 else [*params[:3], "...", len(params)]
        lines.append(f"where {sql} params {shown!r}")
    flags = (
        "quote",
        "placeholder",
        "schemas",
        "max_name",
        "comment_max",
        "floats",
        "case_insensitive_columns",
        "schema_case",
        "table_case",
        "qualify_catalog",
        "escape",
        "folding",
        "name_unit",
    )
    lines += [f"flag {f} = {getattr(d, f)!r}" for f in flags if hasattr(d, f)]
    stand_in = d.storage_type
    for t in _types():
        lowered = _show(lambda t=t: stand_in(t))
        lines.append(f"type {t} -> {lowered} -> {_show(lambda t=t: sql_type(d, t))}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", [*MANAGERS, "snowflake_text_times"])
def test_golden_dialect(name: str) -> None:
    """Each dialect's names, templates, flags and type lowering, pinned in
    ``golden/<name>.dialect.txt`` (``WHARF_UPDATE_GOLDEN=1`` rewrites it after checking)."""
    got, path = render_dialect(name, _stores()[name]), GOLDEN / f"{name}.dialect.txt"
    if os.environ.get("WHARF_UPDATE_GOLDEN"):
        path.write_text(got)
    assert got == path.read_text(), f"{name}: the dialect changed; see {path}"


@pytest.mark.parametrize("name", list(DIALECTS))
def test_a_dialect_is_frozen_data_only(name: str) -> None:
    """No callable, nothing mutable in place: a dialect row is text, numbers, flags, a type-name
    table and its lowering flags (the client's code is its Driver)."""
    import dataclasses

    from wharf._stores.dialect import Lowering

    dialect = DIALECTS[name]
    with pytest.raises(dataclasses.FrozenInstanceError):
        dialect.quote = "'"  # type: ignore[misc]
    for f in dataclasses.fields(dialect):
        value = getattr(dialect, f.name)
        if f.name == "type_names":
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        elif f.name == "replace_sql":
            assert isinstance(value, tuple)
            assert all(isinstance(s, str) for s in value)
        elif f.name == "lowering":
            assert isinstance(value, Lowering)
        else:
            assert value is None or isinstance(value, str | int | bool), (f.name, value)
