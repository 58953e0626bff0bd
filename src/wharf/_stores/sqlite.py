"""SQLite as a table store: its :class:`~wharf._stores.dialect.Dialect` row and its driver.

Data moves as Arrow through ADBC's SQLite driver (``adbc_driver_sqlite``): a write is
``cursor.adbc_ingest`` into a stage table, a read streams ``cursor.fetch_record_batch()``.
SQLite's DDL is transactional, so a whole-table write is one transaction (``BEGIN IMMEDIATE``;
ingest into the stage; ``DROP`` + ``ALTER TABLE ... RENAME``; ``COMMIT``): a failure or a killed
process leaves the old table (SQLite's journal rolls an interrupted transaction back when the
file is next opened). ``BEGIN IMMEDIATE`` takes the file's write lock at once; another writer
waits for it up to ``lock_timeout`` seconds (SQLite's busy timeout).

SQLite has no schemas: the table of schema ``s`` and name ``t`` is the one table ``"s.t"``
(``"public.orders"``). Names compare ignoring case, as SQLite compares them.

SQLite keeps integers, floats, text and bytes. Other Arrow types are stored as a stand-in and
restored on read from the written Arrow schema, which wharf keeps in the table
``__wharf_tables`` (SQLite has no table comments): decimals, dates, timestamps (ISO 8601; zoned
ones in UTC with ``Z``, so text order is time order and nanoseconds are kept) and ``uint64`` as
text, times and durations as integers (a count of their unit), lists and structs as JSON text.
SQLite would read a float NaN back as NULL: such data is refused, naming the column. A table not
written by wharf reads with the driver's types.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wharf._deps import require
from wharf._stores.base import SchemaPolicy, TableRef
from wharf._stores.dialect import Dialect, Lowering
from wharf._stores.driver import BaseDriver
from wharf._stores.sql import SqlStore

__all__ = ["SQLITE", "SQLiteConnector", "SQLiteDriver", "sqlite_store"]

_META = '"__wharf_tables"'


def _dbapi() -> Any:
    require("adbc_driver_sqlite", purpose="the SQLite store")
    return require("adbc_driver_sqlite.dbapi", purpose="the SQLite store")


def _errors() -> tuple[type[BaseException], ...]:
    return (require("adbc_driver_manager", purpose="the SQLite store").Error,)


def _param(value: object) -> object:
    """A bound value in the form its stand-in column holds (see the module doc), as short as
    it can be so it compares as text with dates and with timestamps of every unit: midnight as
    the bare date (``'2024-01-02' > '2024-01-01 23:00:00'``, and ``<`` every time of that day).

    Examples:
        >>> _param(dt.datetime(2024, 1, 2)), _param(dt.datetime(2024, 1, 2, 3, 4, 5, 6))
        ('2024-01-02', '2024-01-02 03:04:05.000006')
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return str(value.date()) if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | decimal.Decimal):
        return str(value)
    return value


def _cursor(con: Any, sql: str, params: list[object]) -> Any:
    cursor = con.cursor()
    try:
        cursor.execute(sql, parameters=[_param(v) for v in params] if params else None)
    except BaseException:
        cursor.close()
        raise
    return cursor


def _execute(con: Any, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
    cursor = _cursor(con, sql, params)
    try:
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    finally:
        cursor.close()


#: a declared type's affinity (SQLite's rules, in order) -> a value of it for the typed first row
_AFFINITY = (("INT", "0"), ("CHAR", "''"), ("CLOB", "''"), ("TEXT", "''"), ("BLOB", "x''"),
             ("REAL", "0.0"), ("FLOA", "0.0"), ("DOUB", "0.0"))  # fmt: skip


def _typed(con: Any, sql: str, params: list[object]) -> str | None:
    """``sql`` after one row with a value of each column's declared type (of the table the
    store just described), or None when no column has one.

    The driver infers a column's Arrow type from the values of the first rows: a column whose
    first rows are NULL would come as int64, and fail once text arrives. The typed row, dropped
    by :func:`_fetch`, fixes each type."""
    declared: dict[str, str] = getattr(con, "_wharf_types", {})
    nulls: list[object] = [None] * len(params)
    names = _fetch_all(con, f"SELECT * FROM ({sql}) LIMIT 0", nulls).schema.names
    values = []
    for name in names:
        kind = declared.get(name, "").upper()
        values.append(next((v for key, v in _AFFINITY if key in kind), "NULL"))
    if all(v == "NULL" for v in values):
        return None
    row = ", ".join(f"{v} AS {SQLITE.quote_name(n)}" for v, n in zip(values, names, strict=True))
    return f"SELECT {row} UNION ALL SELECT * FROM ({sql})"


def _fetch_all(con: Any, sql: str, params: list[object]) -> Any:
    cursor = _cursor(con, sql, params)
    try:
        return cursor.fetch_arrow_table()
    finally:
        cursor.close()


def _fetch(con: Any, sql: str, params: list[object], batch_size: int) -> Any:
    """Stream a query, with a typed first row (:func:`_typed`) dropped from the result. A
    result of no rows has the declared types (a typed table's, as a user's type handler
    creates it), else no values to type its columns by: they come as Arrow ``null``, which
    casts to the written types."""
    pa = require("pyarrow")
    typed = _typed(con, sql, params)
    cursor = _cursor(con, typed or sql, params)
    try:
        reader = cursor.fetch_record_batch()
        batches_in = iter(reader)
        first = next(batches_in, None)
        if first is not None and typed:
            first = first.slice(1)  # the typed row
        while first is not None and not first.num_rows:
            first = next(batches_in, None)
    except BaseException:
        cursor.close()
        raise
    if first is None:  # typed by the typed row, if there was one (a declared type each)
        cursor.close()
        schema = reader.schema
        if not typed:
            schema = pa.schema([pa.field(f.name, pa.null()) for f in reader.schema])
        return pa.RecordBatchReader.from_batches(schema, [empty(schema)])

    def batches() -> Iterator[Any]:
        try:  # the cursor owns the result stream: it lives as long as its reader
            yield first
            yield from batches_in
        finally:
            cursor.close()

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def empty(schema: Any) -> Any:
    """A batch of no rows of ``schema``."""
    pa = require("pyarrow")
    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def _ingest(con: Any, ref: TableRef, reader: Any) -> None:
    """Create the table ``"schema.table"`` of ``ref`` from an Arrow stream (inside the
    write's transaction)."""
    cursor = con.cursor()
    try:
        cursor.adbc_ingest(f"{ref.schema}.{ref.table}", reader, mode="create")
    finally:
        cursor.close()


def _attach(con: Any, name: str, reader: Any, beside: TableRef) -> str:
    """For partition writes, appends and merges: the stream as a temporary table."""
    cursor = con.cursor()
    try:
        cursor.adbc_ingest(name, reader, mode="create", temporary=True)
    finally:
        cursor.close()
    return f"temp.{SQLITE.quote_name(name)}"


def _detach(con: Any, name: str, beside: TableRef) -> None:
    try:  # the temporary table goes with the connection anyway
        _execute(con, f"DROP TABLE IF EXISTS temp.{SQLITE.quote_name(name)}", [])
    except _errors():
        pass


def _describe(con: Any, ref: TableRef) -> tuple[list[str], str | None]:
    """The table's columns (pragma ``table_info``) and its written schema (``__wharf_tables``,
    which may not exist yet)."""
    name = f"{ref.schema}.{ref.table}"
    rows = _execute(con, "SELECT name, type FROM pragma_table_info(?)", [name])
    con._wharf_types = dict(rows)  # for the typed first row of a read (_typed)
    columns = [r[0] for r in rows]
    if not columns or not _execute(con, "SELECT 1 FROM pragma_table_info(?)", ["__wharf_tables"]):
        return columns, None
    rows = _execute(con, f"SELECT comment FROM {_META} WHERE name = ?", [name])
    return columns, rows[0][0] if rows else None


_LOWERING = Lowering(
    unsigned="int64", uint64="text", decimals="text", dates="text", times="int64",
    timestamps="text", nested="text", nulls="text",
)  # fmt: skip

SQLITE = Dialect(
    name="sqlite",
    lowering=_LOWERING,
    type_names={
        **dict.fromkeys(["bool", "int8", "int16", "int32", "int64"], "INTEGER"),
        **dict.fromkeys(["float", "double"], "REAL"),
        **dict.fromkeys(["string", "large_string", "string_view"], "TEXT"),
        **dict.fromkeys(["binary", "large_binary", "binary_view"], "BLOB"),
    },
    schemas=False,
    floats="no_nan",  # SQLite reads a stored NaN back as NULL
    schema_case="insensitive",
    table_case="insensitive",
    case_insensitive_columns=True,
    begin_sql="BEGIN IMMEDIATE",
    create_schema_sql=(
        f"CREATE TABLE IF NOT EXISTS {_META} (name TEXT PRIMARY KEY, comment TEXT NOT NULL)"
    ),
    replace_sql=(
        "DROP TABLE IF EXISTS {target}",
        f"DELETE FROM {_META} WHERE name = {{target_text}}",
        "ALTER TABLE {stage} RENAME TO {table}",
        f"UPDATE {_META} SET name = {{target_text}} WHERE name = {{stage_text}}",
    ),
    comment_set_sql=(
        f"INSERT OR REPLACE INTO {_META} (name, comment) VALUES ({{target_text}}, '{{text}}')"
    ),
    tables_sql=(  # a schema's tables are the "schema.table" ones: their names after the dot
        "SELECT substr(name, length(?1) + 2) FROM sqlite_master WHERE type = 'table' "
        "AND substr(name, 1, length(?1) + 1) = ?1 || '.'"
    ),
)
"""The SQLite row: names quoted with ``"``, values bound with ``?``, no schemas."""


class SQLiteConnector:
    """Opens ADBC SQLite connections (autocommit on; the store issues ``BEGIN``/``COMMIT``).

    A file database gets a new connection per call, its parent folder created. ``":memory:"``
    is one in-memory database per connector (a shared-cache database kept open by it).

    Examples:
        >>> con = SQLiteConnector(":memory:")()
        >>> _execute(con, "SELECT 42", [])
        [(42,)]
        >>> con.close()
    """

    def __init__(self, database: str | os.PathLike[str], *, lock_timeout: float = 30.0) -> None:
        self.database = os.fspath(database)
        self.lock_timeout = lock_timeout
        self._root: Any = None
        self._guard = threading.Lock()

    def __call__(self) -> Any:
        dbapi = _dbapi()
        if self.database == ":memory:":
            uri = f"file:wharf_{id(self):x}?mode=memory&cache=shared"
            with self._guard:
                if self._root is None:  # closed with this connector
                    self._root = dbapi.connect(uri, autocommit=True)
                    weakref.finalize(self, self._root.close)
            con = dbapi.connect(uri, autocommit=True)
        else:
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
            con = dbapi.connect(self.database, autocommit=True)
        _execute(con, f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}", [])
        return con


class SQLiteDriver(BaseDriver):
    """The :class:`~wharf._stores.driver.Driver` of SQLite (ADBC): Arrow in by
    ``adbc_ingest``, out by ``fetch_record_batch``; tables described by pragma and
    ``__wharf_tables`` (:func:`_describe`)."""

    bulk_ingest = True
    execute = staticmethod(_execute)
    fetch = staticmethod(_fetch)
    ingest = staticmethod(_ingest)
    attach = staticmethod(_attach)
    detach = staticmethod(_detach)
    describe = staticmethod(_describe)
    errors = staticmethod(_errors)


def sqlite_store(
    database: str | os.PathLike[str],
    *,
    lock_timeout: float = 30.0,
    schema_policy: SchemaPolicy = "error",
) -> SqlStore:
    """A table store on a SQLite database file (or ``":memory:"``).

    Examples:
        >>> import pyarrow as pa
        >>> from wharf._stores.base import TableRef
        >>> store = sqlite_store(":memory:")
        >>> store.write(TableRef("public", "t"), pa.table({"a": [1, 2]}).to_reader()).location
        '"public.t"'
        >>> store.read(TableRef("public", "t")).read_all().column("a").to_pylist()
        [1, 2]
    """
    connector = SQLiteConnector(database, lock_timeout=lock_timeout)
    where = connector.database
    if where != ":memory:":
        where = str(Path(where).resolve())
    return SqlStore(
        SQLITE,
        SQLiteDriver(connector),
        database=where,
        schema_policy=schema_policy,
        lock_timeout=0.0,
    )
