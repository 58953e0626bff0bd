"""What differs between SQL databases, as data: a :class:`Dialect` row and its type map.

:class:`~wharf._stores.sql.SqlStore` runs every database through one of these rows and a
:class:`~wharf._stores.driver.Driver` (its client); a new database is a new row (names, SQL
templates, type names, type-lowering flags: data only) and a driver, not a new store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from wharf._deps import require
from wharf._stores.base import check_name
from wharf.errors import StorageError, UnsafeNameError

__all__ = [
    "Dialect",
    "Lowering",
    "Folding",
    "NameCase",
    "check_floats",
    "fold_identifier",
    "lower_type",
    "sql_type",
]

NameCase = Literal["exact", "insensitive"]
"""How a database compares a (quoted) schema or table name wharf gives it: ``"exact"``
(PostgreSQL: case kept) or ``"insensitive"`` (DuckDB: ``Casey`` and ``casey`` are one table even
quoted)."""

Folding = Literal["none", "upper", "lower"]
"""What a database does to an unquoted name (sqlglot's normalization strategies): ``"upper"``
(Snowflake), ``"lower"``, or ``"none"``. wharf writes a plain schema or table name folded the
same way, so its table is the one unquoted SQL finds; any other name is kept exactly."""

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def fold_identifier(rule: NameCase | Folding, name: str) -> str:
    """``name`` folded by ``rule``: a comparison rule (:data:`NameCase`, two names with the
    same folded form are one object) or a :data:`Folding` (of plain identifiers only).

    Examples:
        >>> fold_identifier("insensitive", "Casey"), fold_identifier("exact", "Casey")
        ('casey', 'Casey')
        >>> fold_identifier("upper", "sales"), fold_identifier("upper", "a-b")
        ('SALES', 'a-b')
    """
    if rule == "insensitive":
        return name.casefold()
    if rule in {"upper", "lower"} and _PLAIN.fullmatch(name):
        return name.upper() if rule == "upper" else name.lower()
    return name


@dataclass(frozen=True)
class Lowering:
    """How a database stands in for the Arrow types it cannot hold: one flag per kind of type,
    read by the one shared :func:`lower_type`. The stand-in is what SQL sees; the written Arrow
    schema (kept beside the table) restores the original on read.

    Every database gets ``float16`` as ``float32`` and durations as ``int64`` (a count of the
    unit), and extension types as their storage type (but ``uuid="keep"``).

    Attributes:
        text: the Arrow text type of every stand-in as text: ``"string"`` or ``"large_string"``.
        dictionaries: categoricals ``"keep"`` (the database reads dictionaries) or as their
            ``"values"``.
        uuid: ``arrow.uuid`` ``"keep"`` (a UUID column) or as its ``"bytes"``.
        nulls: a column of Arrow type ``null``: ``"keep"`` or ``"text"``.
        unsigned: unsigned integers below 64 bits ``"keep"``, as ``"int64"``, or as the next
            ``"wider"`` signed type.
        uint64: ``"keep"``, ``"decimal"`` (``decimal128(20, 0)``) or ``"text"``.
        views: ``string_view`` / ``binary_view`` ``"keep"`` or as ``"plain"`` string / binary.
        dates: ``"keep"``; ``"date32"`` (``date64`` as ``date32``); ``"text"`` (``2024-01-31``:
            ordered as text).
        decimals: ``"keep"``; ``"text"`` (``1.50``); ``"narrow"`` (``decimal256`` of precision
            <= 38 as ``decimal128``); ``"narrow_or_text"`` (the others as text).
        decimal_scale_max: a decimal of a larger scale is text.
        times: ``"keep"``, ``"int64"`` (a count of the unit).
        timestamps: ``"keep"``, ``"text"`` (ISO 8601, zoned ones in UTC with ``Z``: text order
            is time order), ``"utc"`` (zoned ones kept as naive UTC).
        finest: the finest unit of kept timestamps and times: ``"us"`` stores nanosecond ones
            as microseconds (a value with nanoseconds is then refused, not cut).
        nested: lists and structs ``"keep"`` as they are, as JSON ``"text"``, or with their
            ``"items"`` (and struct fields) lowered by these rules (list views as lists).
        large_lists: with ``nested="items"``: ``large_list`` ``"keep"`` or as ``"list"``.
        compound: with ``nested="items"``: structs and lists of lists or structs ``"keep"`` or
            as JSON ``"text"`` (a database with arrays of scalars only).
    """

    text: Literal["string", "large_string"] = "large_string"
    dictionaries: Literal["keep", "values"] = "values"
    uuid: Literal["keep", "bytes"] = "bytes"
    nulls: Literal["keep", "text"] = "keep"
    unsigned: Literal["keep", "int64", "wider"] = "keep"
    uint64: Literal["keep", "decimal", "text"] = "keep"
    views: Literal["keep", "plain"] = "keep"
    dates: Literal["keep", "date32", "text"] = "keep"
    decimals: Literal["keep", "text", "narrow", "narrow_or_text"] = "keep"
    decimal_scale_max: int | None = None
    times: Literal["keep", "int64"] = "keep"
    timestamps: Literal["keep", "text", "utc"] = "keep"
    finest: Literal["ns", "us"] = "ns"
    nested: Literal["keep", "text", "items"] = "keep"
    large_lists: Literal["keep", "list"] = "keep"
    compound: Literal["keep", "text"] = "keep"


def lower_type(rules: Lowering, arrow_type: Any) -> Any:
    """The Arrow type a database with these ``rules`` is sent in place of ``arrow_type``.

    Examples:
        >>> import pyarrow as pa
        >>> text = Lowering(decimals="text", timestamps="text", nested="text")
        >>> lower_type(text, pa.decimal128(5, 2)), lower_type(text, pa.list_(pa.int8()))
        (DataType(large_string), DataType(large_string))
        >>> lower_type(Lowering(timestamps="utc"), pa.timestamp("us", "Asia/Tokyo"))
        TimestampType(timestamp[us])
        >>> lower_type(Lowering(nested="items", finest="us"), pa.list_(pa.time64("ns")))
        ListType(list<item: time64[us]>)
    """
    pa = require("pyarrow", purpose="SQL stores")
    t, types = arrow_type, pa.types
    text = pa.string() if rules.text == "string" else pa.large_string()
    if isinstance(t, pa.BaseExtensionType):
        keep = rules.uuid == "keep" and t.extension_name == "arrow.uuid"
        return t if keep else lower_type(rules, t.storage_type)
    if types.is_dictionary(t):
        return t if rules.dictionaries == "keep" else lower_type(rules, t.value_type)
    if types.is_float16(t):
        return pa.float32()
    if types.is_duration(t):
        return pa.int64()
    if types.is_null(t):
        return text if rules.nulls == "text" else t
    if types.is_uint64(t):
        return {"keep": t, "decimal": pa.decimal128(20, 0), "text": text}[rules.uint64]
    if types.is_unsigned_integer(t) and rules.unsigned != "keep":
        wider = {8: pa.int16(), 16: pa.int32(), 32: pa.int64()}[t.bit_width]
        return pa.int64() if rules.unsigned == "int64" else wider
    if (types.is_string_view(t) or types.is_binary_view(t)) and rules.views == "plain":
        return pa.string() if types.is_string_view(t) else pa.binary()
    if types.is_date(t):
        return _lower_date(rules, t, text)
    if types.is_decimal(t):
        return _lower_decimal(rules, t, text)
    if types.is_time(t):
        if rules.times == "int64":
            return pa.int64()
        return pa.time64("us") if rules.finest == "us" and t.unit == "ns" else t
    if types.is_timestamp(t):
        if rules.timestamps == "text":
            return text
        unit = "us" if rules.finest == "us" and t.unit == "ns" else t.unit
        return pa.timestamp(unit, None if rules.timestamps == "utc" else t.tz)
    listed = types.is_list(t) or types.is_large_list(t)
    views = types.is_list_view(t) or types.is_large_list_view(t)
    if not (listed or views or types.is_struct(t) or types.is_fixed_size_list(t)):
        return t
    if rules.nested == "keep" or (rules.nested == "text" and types.is_fixed_size_list(t)):
        return t
    if rules.nested == "text":
        return text
    return _lower_nested(rules, t, text)


def _lower_date(rules: Lowering, t: Any, text: Any) -> Any:
    pa = require("pyarrow")
    if rules.dates == "text":
        return text
    return pa.date32() if rules.dates == "date32" else t


def _lower_decimal(rules: Lowering, t: Any, text: Any) -> Any:
    pa = require("pyarrow")
    if rules.decimals == "text":
        return text
    if rules.decimal_scale_max is not None and t.scale > rules.decimal_scale_max:
        return text
    if rules.decimals != "keep" and pa.types.is_decimal256(t):
        if t.precision <= 38:  # decimal128's largest precision
            return pa.decimal128(t.precision, t.scale)
        return text if rules.decimals == "narrow_or_text" else t
    return t


def _lower_nested(rules: Lowering, t: Any, text: Any) -> Any:
    """A list or struct with its items (fields) lowered (``Lowering.nested = "items"``)."""
    pa = require("pyarrow")
    types = pa.types
    if types.is_struct(t):
        if rules.compound == "text":
            return text
        return pa.struct([f.with_type(lower_type(rules, f.type)) for f in t])
    inner = t.value_type
    deep = types.is_list(inner) or types.is_large_list(inner) or types.is_struct(inner)
    if rules.compound == "text" and (types.is_list(t) or types.is_large_list(t)) and deep:
        return text
    item = lower_type(rules, inner)
    same = item == inner
    if types.is_list_view(t) or types.is_large_list_view(t):
        return pa.list_(item)
    kept = types.is_fixed_size_list(t) or rules.large_lists == "keep"
    return t if same and kept else pa.list_(item)


@dataclass(frozen=True)
class Dialect:
    """One SQL database as data, and data only (frozen, no callables): quoting and folding
    of names, their length limit, the placeholder style, the statement templates, the type
    names and the type-lowering flags. Its client is a :class:`~wharf._stores.driver.Driver`.

    Templates use ``{target}`` (quoted ``schema.table``), ``{stage}``, ``{table}`` (quoted bare
    name), ``{schema}``, ``{columns}``, ``{source}``, ``{where}``; ``replace_sql`` also gets
    ``{old}`` (a free name beside the target, for databases that swap by renaming the target
    away first), ``{target_text}`` and ``{stage_text}`` (the names as SQL string literals) and
    ``{comment}``, the checked base64 text of the written Arrow schema (for databases that set
    the comment as they replace, in the same statement). Values are always bound.

    Attributes:
        columns_sql: parameters schema, table; rows ``(column_name,)`` in table order (unless
            the driver describes tables itself: ``Driver.describe``).
        lowering: the Arrow types sent in place of those the database cannot hold exactly
            (:class:`Lowering`, read by :meth:`storage_type`).
        type_names: Arrow type -> SQL type for added columns (see :func:`sql_type`).
        begin_sql: ``None`` if DDL is not transactional; a failed write then drops its stage.
        partition_begin_sql: where ``begin_sql`` is None, begins a transaction of DML only around
            a partition write's DELETE, INSERT and row count check (ended by ``commit_sql`` or
            ``rollback_sql``).
        replace_rows_sql: where ``begin_sql`` is None, one statement that replaces the rows of a
            partition, atomic by itself, in place of ``delete_rows_sql`` + ``insert_sql``. Its
            ``{source}`` must be a table (``Driver.attach`` loads one), whose rows are checked
            first.
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
            (:data:`NameCase`, after :attr:`folding`); two assets whose names fold to the same
            are refused before a run, since they would be one table.
        folding: how the database folds unquoted names (:data:`Folding`); plain schema and
            table names are written folded (:meth:`fold_name`).
        quote: the identifier quote character; ``escape``: how it is escaped inside a name,
            ``"double"`` (``""``) or ``"backslash"`` (``\\```, and ``\\`` for a backslash).
        comment_get_sql: parameters schema, table; one row ``(comment,)``.
        comment_set_sql: with ``{target}`` and ``{text}``, a checked base64 literal (SQL
            comments take no parameters).
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
        max_name: the longest table, schema or column name (MySQL: 64), in ``name_unit``:
            ``"characters"`` or UTF-8 ``"bytes"`` (PostgreSQL: 63, it would cut longer ones).
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
        >>> Dialect("toy").quote_name('my "odd" name')
        '"my ""odd"" name"'
    """

    name: str
    columns_sql: str = ""
    lowering: Lowering = Lowering()
    type_names: Mapping[str, str] = field(default_factory=dict)
    quote: str = '"'
    escape: Literal["double", "backslash"] = "double"
    folding: Folding = "none"
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
    comment_max: int | None = None
    qualify_catalog: bool = False
    schemas: bool = True
    max_name: int | None = None
    name_unit: Literal["characters", "bytes"] = "characters"
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
        """Quote an identifier (rejecting NUL, and names longer than ``max_name``, which the
        database would refuse or cut), escaping the quote character inside it.

        Examples:
            >>> from wharf._stores.bigquery import BIGQUERY
            >>> from wharf._stores.duckdb import DUCKDB
            >>> DUCKDB.quote_name('my "odd" name'), BIGQUERY.quote_name("a`b")
            ('"my ""odd"" name"', '`a\\\\`b`')
        """
        q, text = self.quote, name if isinstance(name, str) else ""
        size = len(text) if self.name_unit == "characters" else len(text.encode())
        if self.max_name is not None and size > self.max_name:
            limit = f"{self.max_name} {self.name_unit}"
            msg = (
                f"{self.name} names are at most {limit}, and {name!r} has {size}; "
                f"{self.name} would refuse or cut it, so use a shorter name"
            )
            raise UnsafeNameError(msg, expected=f"<= {limit}", got=repr(name))
        name = check_name(name, "SQL")
        if self.escape == "backslash":
            return q + name.replace("\\", "\\\\").replace(q, "\\" + q) + q
        return q + name.replace(q, q + q) + q

    def fold_name(self, name: str) -> str:
        """A schema or table name as wharf writes it (:attr:`folding`).

        Examples:
            >>> from wharf._stores.snowflake import SNOWFLAKE
            >>> SNOWFLAKE.fold_name("sales_summary"), SNOWFLAKE.fold_name("Sales-2024")
            ('SALES_SUMMARY', 'Sales-2024')
        """
        return fold_identifier(self.folding, name)

    def storage_type(self, arrow_type: Any) -> Any:
        """The Arrow type sent in place of ``arrow_type`` (:func:`lower_type` by
        :attr:`lowering`).

        Examples:
            >>> import pyarrow as pa
            >>> from wharf._stores.postgres import POSTGRES
            >>> POSTGRES.storage_type(pa.uint32()), POSTGRES.storage_type(pa.struct([]))
            (DataType(int64), DataType(large_string))
        """
        return lower_type(self.lowering, arrow_type)

    def same_table(self, schema: str, table: str) -> tuple[str, str]:
        """The ``(schema, table)`` pair as this database compares it: equal pairs are one table.

        Examples:
            >>> from wharf._stores.duckdb import DUCKDB
            >>> DUCKDB.same_table("Raw", "Casey") == DUCKDB.same_table("raw", "casey")
            True
        """
        schema, table = self.fold_name(schema), self.fold_name(table)
        return fold_identifier(self.schema_case, schema), fold_identifier(self.table_case, table)


def check_floats(dialect: Dialect, batch: Any) -> None:
    """Refuse a batch holding a float the database cannot keep (``Dialect.floats``).

    Examples:
        >>> import pyarrow as pa
        >>> toy = Dialect("toy", floats="no_nan")
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
