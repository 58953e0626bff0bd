"""What differs between SQL databases, as data: a :class:`Dialect` row and its type map.

:class:`~wharf._stores.sql.SqlStore` runs every database through one of these rows; a new
database is a new row (SQL templates, a type map, a few driver hooks), not a new store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from wharf._deps import require
from wharf._stores.base import check_name
from wharf.errors import StorageError, UnsafeNameError

__all__ = [
    "Dialect",
    "Lowering",
    "NameCase",
    "check_floats",
    "fold_identifier",
    "lower_type",
    "sql_type",
]

NameCase = Literal["exact", "insensitive", "upper-unquoted"]
"""How a database compares a (quoted) schema or table name wharf gives it: ``"exact"``
(PostgreSQL: case kept), ``"insensitive"`` (DuckDB: ``Casey`` and ``casey`` are one table even
quoted) or ``"upper-unquoted"`` (Snowflake: a plain identifier is upper-cased, as Snowflake does
for unquoted names, other names are kept exactly)."""

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def fold_identifier(rule: NameCase, name: str) -> str:
    """``name`` as the database compares it under ``rule``: two names with the same folded form
    are one object there.

    Examples:
        >>> fold_identifier("insensitive", "Casey"), fold_identifier("exact", "Casey")
        ('casey', 'Casey')
        >>> fold_identifier("upper-unquoted", "sales"), fold_identifier("upper-unquoted", "a-b")
        ('SALES', 'a-b')
    """
    if rule == "insensitive":
        return name.casefold()
    if rule == "upper-unquoted":
        return name.upper() if _PLAIN.fullmatch(name) else name
    return name


@dataclass(frozen=True)
class Lowering:
    """How a database stands in for the Arrow types it cannot hold: one flag per kind of type,
    read by the one shared :func:`lower_type`. The stand-in is what SQL sees; the written Arrow
    schema (kept beside the table) restores the original on read.

    Attributes:
        unsigned: ``"keep"``; ``"int64"``: unsigned integers below 64 bits as ``int64``;
            ``uint64`` is then text (it may not fit).
        decimal, dates: ``"keep"`` or ``"text"`` (``1.50``, ``2024-01-31``: ordered as text).
        times: ``"keep"``, ``"int64"`` (a count of the unit).
        timestamps: ``"keep"``, ``"text"`` (ISO 8601, zoned ones in UTC with ``Z``: text order
            is time order), ``"utc"`` (zoned ones kept as naive UTC).
        nested: lists and structs ``"keep"`` or as JSON ``"text"``.
        nulls: a column of Arrow type ``null``: ``"keep"`` or ``"text"``.
        finest: the finest unit of kept timestamps and times: ``"us"`` stores nanosecond ones
            as microseconds (a value with nanoseconds is then refused, not cut).
    """

    unsigned: Literal["keep", "int64"] = "keep"
    decimal: Literal["keep", "text"] = "keep"
    dates: Literal["keep", "text"] = "keep"
    times: Literal["keep", "int64"] = "keep"
    timestamps: Literal["keep", "text", "utc"] = "keep"
    nested: Literal["keep", "text"] = "keep"
    nulls: Literal["keep", "text"] = "keep"
    finest: Literal["ns", "us"] = "ns"


def lower_type(rules: Lowering, arrow_type: Any) -> Any:
    """The Arrow type a database with these ``rules`` is sent in place of ``arrow_type``.

    Every database gets extension types as their storage type, categoricals as their values,
    ``float16`` as ``float32`` and durations as ``int64`` (a count of the unit).

    Examples:
        >>> import pyarrow as pa
        >>> text = Lowering(decimal="text", timestamps="text", nested="text")
        >>> lower_type(text, pa.decimal128(5, 2)), lower_type(text, pa.list_(pa.int8()))
        (DataType(large_string), DataType(large_string))
        >>> lower_type(Lowering(timestamps="utc"), pa.timestamp("us", "Asia/Tokyo"))
        TimestampType(timestamp[us])
    """
    pa = require("pyarrow", purpose="SQL stores")
    t = arrow_type
    types = pa.types
    if isinstance(t, pa.BaseExtensionType):
        return lower_type(rules, t.storage_type)
    if types.is_dictionary(t):
        return lower_type(rules, t.value_type)
    if types.is_float16(t):
        return pa.float32()
    if types.is_duration(t):
        return pa.int64()
    text = pa.large_string()
    choices: list[tuple[bool, Any]] = [
        (types.is_unsigned_integer(t) and rules.unsigned == "int64", pa.int64()),
        (types.is_decimal(t) and rules.decimal == "text", text),
        (types.is_date(t) and rules.dates == "text", text),
        (types.is_time(t) and rules.times == "int64", pa.int64()),
        (types.is_timestamp(t) and rules.timestamps == "text", text),
        (types.is_null(t) and rules.nulls == "text", text),
    ]
    if types.is_uint64(t) and rules.unsigned == "int64":
        return text
    for hit, lowered in choices:
        if hit:
            return lowered
    unit = "us" if rules.finest == "us" and getattr(t, "unit", "") == "ns" else None
    if types.is_timestamp(t) and (unit or (t.tz and rules.timestamps == "utc")):
        return pa.timestamp(unit or t.unit, None if rules.timestamps == "utc" else t.tz)
    if types.is_time64(t) and unit:
        return pa.time64(unit)
    nested = types.is_list(t) or types.is_large_list(t) or types.is_struct(t)
    nested = nested or types.is_list_view(t) or types.is_large_list_view(t)
    if nested and rules.nested == "text":
        return text
    return t


def _no_lock(exc: BaseException) -> str | None:
    return None


def _same_type(arrow_type: Any) -> Any:
    return arrow_type


@dataclass(frozen=True)
class Dialect:
    """One SQL database as data: SQL templates, a type map and a few driver hooks.

    Templates use ``{target}`` (quoted ``schema.table``), ``{stage}``, ``{table}`` (quoted bare
    name), ``{schema}``, ``{columns}``, ``{source}``, ``{where}``; ``replace_sql`` also gets
    ``{old}`` (a free name beside the target, for databases that swap by renaming the target
    away first), ``{target_text}`` and ``{stage_text}`` (the names as SQL string literals) and
    ``{comment}``, the checked base64 text of the written Arrow schema (for databases that set
    the comment as they replace, in the same statement). Values are always bound.

    Attributes:
        attach: ``(con, name, reader) -> SQL`` makes an Arrow stream queryable (a view, a temp
            table) and returns how to name it in SQL; ``detach(con, name)`` undoes it.
        fetch: ``(con, sql, params, batch_size) -> pa.RecordBatchReader`` streams a query.
        execute: ``(con, sql, params) -> rows`` runs one statement.
        errors: returns the driver's exception classes (imported lazily).
        attach_native: ``(con, name, value) -> SQL | None`` makes a value the database can read
            itself (a DuckDB relation on the same database) queryable without Arrow; None when
            it cannot, and the value is streamed through Arrow instead.
        columns_sql: parameters schema, table; rows ``(column_name,)`` in table order.
        storage_type: the Arrow type to send in place of one the database cannot hold exactly.
        lock_holder: describes who holds the lock if an exception means "locked", else None.
        type_names: Arrow type -> SQL type for added columns (see :func:`sql_type`).
        begin_sql: ``None`` if DDL is not transactional; a failed write then drops its stage.
        partition_begin_sql: where ``begin_sql`` is None, begins a transaction of DML only around
            a partition write's DELETE, INSERT and row count check (ended by ``commit_sql`` or
            ``rollback_sql``).
        replace_rows_sql: where ``begin_sql`` is None, one statement that replaces the rows of a
            partition, atomic by itself, in place of ``delete_rows_sql`` + ``insert_sql``. Its
            ``{source}`` must be a table (``attach`` loads one), whose rows are checked first.
        write_lock_sql: run first in a write's transaction with one parameter, the table's
            ``schema.table``; holds a lock that serialises writers of that table until commit
            (PostgreSQL: two swaps at once would collide on the new name).
        values_list_sql: a filter of many values (over :data:`LIST_AFTER`) as one bound list
            parameter (``{column}``, ``{param}``) in place of one placeholder per value.
        read_lock_sql: with ``{target}``; a read runs ``begin_sql`` and this first, then reads
            the columns, comment and rows in statements of their own. In PostgreSQL a statement
            that waited for a swap's lock still uses the snapshot it took before: it would see
            the new table empty; the next statement sees it whole.
        case_insensitive_columns: column names that differ only in case are one column in
            this database (DuckDB, BigQuery): such data is refused before anything is written.
        schema_case, table_case: how the database compares schema and table names
            (:data:`NameCase`); two assets whose names fold to the same are refused before a
            run, since they would be one table.
        comment_get_sql: parameters schema, table; one row ``(comment,)``.
        comment_set_sql: with ``{target}`` and ``{text}``, a checked base64 literal (SQL
            comments take no parameters).
        ingest: ``(con, schema, table, reader) -> None`` creates the (stage) table ``table``
            from an Arrow stream in one pass, inside the write's transaction (PostgreSQL's
            ADBC bulk COPY). When set, a whole-table write uses it instead of ``attach`` +
            ``create_sql``, so the rows are copied once; partition writes still ``attach``.
        describe: ``(con, schema, table) -> (columns, comment)`` reads a table's column names
            (in table order; empty if there is no table) and comment from the database's own
            catalog API, in place of ``columns_sql`` and ``comment_get_sql`` (BigQuery's
            ``tables.get``: no query job, and no dataset name in SQL text).
        comment_max: the longest comment the database accepts; a longer schema text is not
            kept (the table then reads with the database's own types).
        copy_source_sql: for a database whose attached source can be scanned only once (DuckDB
            scans the incoming stream itself), copies ``{source}`` into the temporary table
            ``{stage}`` when a write reads it more than once (a merge: key check, delete, insert).
        matched_sql: a condition on the target's rows with ``{keys}`` (quoted, comma-separated)
            and ``{pairs}`` (``__wharf_s.k = __wharf_t.k AND ...``): true where the ``{source}``
            has a row with the same merge keys. A merge deletes those rows, then inserts all.
        duplicate_keys_sql: one row ``(keys..., count)`` of a merge key that repeats in
            ``{source}``, or none.
        floats: which float values the database keeps: ``"ieee"`` all, ``"no_nan"`` all but
            NaN (SQLite would read it back as NULL), ``"finite"`` (MySQL); data holding another
            is refused, naming the column (:func:`check_floats`).
        use_schema_sql: with ``{schema}``, run after ``create_schema_sql``: makes the write's
            schema the session's current one (MySQL puts temporary tables there).
        max_name: the longest table, schema or column name, in characters (MySQL: 64).
        schemas: False for a database without schemas (SQLite): the table of schema ``s``
            and name ``t`` is the one table ``"s.t"``.
        tables_sql: one parameter, a schema (also given as ``{schema}``, quoted); rows
            ``(table_name,)`` of its tables. A handler's staging
            (:meth:`~wharf._stores.sql.SqlStore.stage`) first drops the staged tables that
            killed writers left there (older than ``stale_after``).
        qualify_catalog: every table and schema name is written with its catalog
            (``"db"."temp"."t"``): DuckDB's ``temp`` and ``system`` are also catalogs, so a
            schema of that name alone is an ambiguous reference.

    Examples:
        >>> d = Dialect("toy", attach=..., detach=..., fetch=..., execute=..., errors=...,
        ...             columns_sql="...")
        >>> d.quote_name('my "odd" name')
        '"my ""odd"" name"'
    """

    name: str
    attach: Callable[[Any, str, Any], str]
    detach: Callable[[Any, str], None]
    fetch: Callable[[Any, str, list[object], int], Any]
    execute: Callable[[Any, str, list[object]], list[tuple[Any, ...]]]
    errors: Callable[[], tuple[type[BaseException], ...]]
    columns_sql: str
    storage_type: Callable[[Any], Any] = _same_type
    attach_native: Callable[[Any, str, Any], str | None] | None = None
    lock_holder: Callable[[BaseException], str | None] = _no_lock
    type_names: Mapping[str, str] = field(default_factory=dict)
    quote: str = '"'
    placeholder: str = "?"
    begin_sql: str | None = "BEGIN TRANSACTION"
    partition_begin_sql: str | None = None
    commit_sql: str = "COMMIT"
    rollback_sql: str = "ROLLBACK"
    create_schema_sql: str = "CREATE SCHEMA IF NOT EXISTS {schema}"
    create_sql: str = "CREATE TABLE {stage} AS SELECT {columns} FROM {source}"
    replace_sql: tuple[str, ...] = (
        "DROP TABLE IF EXISTS {target}",
        "ALTER TABLE {stage} RENAME TO {table}",
    )
    insert_sql: str = "INSERT INTO {target} ({columns}) SELECT {columns} FROM {source}"
    delete_rows_sql: str = "DELETE FROM {target} WHERE {where}"
    replace_rows_sql: str | None = None
    write_lock_sql: str | None = None
    case_insensitive_columns: bool = False
    schema_case: NameCase = "exact"
    table_case: NameCase = "exact"
    read_lock_sql: str | None = None
    count_sql: str = "SELECT count(*) FROM {target} WHERE {where}"
    drop_sql: str = "DROP TABLE IF EXISTS {target}"
    add_column_sql: str = "ALTER TABLE {target} ADD COLUMN {column} {type}"
    comment_get_sql: str | None = None
    comment_set_sql: str | None = None
    ingest: Callable[[Any, str, str, Any], None] | None = None
    describe: Callable[[Any, str, str], tuple[list[str], str | None]] | None = None
    comment_max: int | None = None
    qualify_catalog: bool = False
    schemas: bool = True
    max_name: int | None = None
    use_schema_sql: str | None = None
    floats: Literal["ieee", "no_nan", "finite"] = "ieee"
    copy_source_sql: str | None = None
    matched_sql: str = "({keys}) IN (SELECT {keys} FROM {source})"
    duplicate_keys_sql: str = (
        "SELECT {keys}, count(*) FROM {source} GROUP BY {keys} HAVING count(*) > 1 LIMIT 1"
    )
    #: a partition filter of many values as one bound list (``{column}``, ``{param}``): a
    #: 12,000-key ``IN (?, ?, ...)`` takes DuckDB over a second to bind, one list a few ms
    values_list_sql: str | None = None
    tables_sql: str | None = None

    def quote_name(self, name: str) -> str:
        """Quote an identifier (rejecting NUL, and names longer than ``max_name`` characters,
        which the database would refuse or cut), doubling the quote character inside it."""
        q = self.quote
        if self.max_name is not None and isinstance(name, str) and len(name) > self.max_name:
            msg = (
                f"{self.name} names are at most {self.max_name} characters, and {name!r} has "
                f"{len(name)}; use a shorter name"
            )
            raise UnsafeNameError(msg, expected=f"<= {self.max_name} characters", got=repr(name))
        return q + check_name(name, "SQL").replace(q, q + q) + q

    def same_table(self, schema: str, table: str) -> tuple[str, str]:
        """The ``(schema, table)`` pair as this database compares it: equal pairs are one table.

        Examples:
            >>> from wharf._stores.duckdb import DUCKDB
            >>> DUCKDB.same_table("Raw", "Casey") == DUCKDB.same_table("raw", "casey")
            True
        """
        return fold_identifier(self.schema_case, schema), fold_identifier(self.table_case, table)


def check_floats(dialect: Dialect, batch: Any) -> None:
    """Refuse a batch holding a float the database cannot keep (``Dialect.floats``).

    Examples:
        >>> import pyarrow as pa
        >>> toy = Dialect("toy", attach=..., detach=..., fetch=..., execute=..., errors=...,
        ...               columns_sql="", floats="no_nan")
        >>> check_floats(toy, pa.record_batch({"x": [float("nan")]}))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        wharf.errors.StorageError: toy cannot store the float NaN, and column 'x' holds one; ...
    """
    if dialect.floats == "ieee":
        return
    pa, pc = require("pyarrow"), require("pyarrow.compute")
    for f, column in zip(batch.schema, batch.columns, strict=True):
        if not pa.types.is_floating(f.type):
            continue
        bad = pc.is_nan(column) if dialect.floats == "no_nan" else pc.invert(pc.is_finite(column))
        if pc.any(bad).as_py():
            what = "NaN" if dialect.floats == "no_nan" else "NaN or infinity"
            msg = (
                f"{dialect.name} cannot store the float {what}, and column {f.name!r} holds "
                "one; replace it (e.g. with null) first"
            )
            raise StorageError(msg, expected=f"floats without {what}", got=what)


def sql_type(dialect: Dialect, arrow_type: Any) -> str:
    """The SQL type for an Arrow type, from ``dialect.type_names``.

    Keys are Arrow type names (``"int64"``; ``"timestamp[us, tz]"`` for any zone) and the
    templates ``"decimal"`` (``{precision}``, ``{scale}``), ``"list"`` (``{item}``) and
    ``"struct"`` (``{fields}``).

    Examples:
        >>> import pyarrow as pa
        >>> from wharf._stores.duckdb import DUCKDB
        >>> sql_type(DUCKDB, pa.list_(pa.timestamp("us", tz="Europe/Paris")))
        'TIMESTAMPTZ[]'
    """
    pa = require("pyarrow", purpose="SQL stores")
    t = dialect.storage_type(arrow_type)
    if pa.types.is_dictionary(t):
        return sql_type(dialect, t.value_type)
    names, key = dialect.type_names, str(t)
    if pa.types.is_timestamp(t):
        key = f"timestamp[{t.unit}{', tz' if t.tz else ''}]"
    if key in names:
        return names[key]
    if pa.types.is_decimal(t) and "decimal" in names:
        return names["decimal"].format(precision=t.precision, scale=t.scale)
    if (pa.types.is_list(t) or pa.types.is_large_list(t)) and "list" in names:
        return names["list"].format(item=sql_type(dialect, t.value_type))
    if pa.types.is_struct(t) and "struct" in names:
        inner = (f"{dialect.quote_name(f.name)} {sql_type(dialect, f.type)}" for f in t)
        return names["struct"].format(fields=", ".join(inner))
    msg = f"{dialect.name} has no column type for the Arrow type {t}"
    raise StorageError(msg, expected="a supported Arrow type", got=str(t))
