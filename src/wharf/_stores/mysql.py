"""MySQL and MariaDB as a table store: its :class:`~wharf._stores.dialect.Dialect` row and its
driver (``pymysql``).

**Write.** MySQL commits DDL by itself, so the whole-table replace is not a transaction; it is a
swap instead: the stream is bulk-loaded into a new stage table (multi-row ``INSERT`` statements
of up to ``max_allowed_packet`` each, not a statement per row), its row count checked, the
written Arrow schema set as its comment, then ``RENAME TABLE target TO old, stage TO target``
(one atomic statement: readers see the old table or the new one) and the old table dropped. A
failure before the rename drops the stage and leaves the old table; a process killed before it
leaves the old table too (and a stage table named ``__wharf_stage_...``). A partition write,
an append and a merge load a temporary table, then ``DELETE`` + ``INSERT ... SELECT`` in one
InnoDB transaction.

**Read.** An unbuffered cursor streams the rows, ``batch_size`` at a time, into Arrow arrays of
the column types; the written schema restores the Arrow types.

What does not round-trip exactly:

- Floats cannot be NaN or infinite in MySQL: such data fails the write, naming the column.
- Timestamps and times keep microseconds (a value with nanoseconds fails the write); zoned
  timestamps are stored as DATETIME in UTC (restored with their zone); dates and timestamps
  must lie in MariaDB's DATETIME range (years 1000 to 9999, earlier ones mostly work).
- Lists and structs are JSON text; times and durations integers (a count of their unit).
- Column names ignore case; names are at most 64 characters; a name holding ``%`` cannot be
  used in a partitioned read (pymysql formats bound statements with ``%``).
- The written schema must fit a table comment (2,048 characters, zipped if need be).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from wharf._deps import require
from wharf._stores.base import SchemaPolicy, TableRef, check_name
from wharf._stores.dialect import Dialect, Lowering, sql_type
from wharf._stores.driver import BaseDriver
from wharf._stores.sql import SqlStore
from wharf.errors import StorageError

__all__ = ["MYSQL", "MySQLConnector", "MySQLDriver", "mysql_store"]

_ROWS_PER_INSERT = 5_000  # rows per executemany call; pymysql packs them in few statements


def _pymysql() -> Any:
    return require("pymysql", purpose="the MySQL store")


def _errors() -> tuple[type[BaseException], ...]:
    return (_pymysql().Error,)


def _execute(con: Any, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
    with con.cursor() as cursor:
        cursor.execute(sql, params or None)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


# -- values out -----------------------------------------------------------------------------
def _arrow_type(field: Any) -> Any:
    """The Arrow type of a result column, from pymysql's field (type code, flags, charset)."""
    pa = require("pyarrow")
    codes = _pymysql().constants.FIELD_TYPE
    code, unsigned = field.type_code, bool(field.flags & 32)
    integers = {codes.TINY, codes.SHORT, codes.INT24, codes.LONG, codes.LONGLONG, codes.YEAR}
    if code in integers:
        return pa.uint64() if unsigned else pa.int64()
    if code in {codes.FLOAT, codes.DOUBLE}:
        return pa.float64()
    if code in {codes.DATETIME, codes.TIMESTAMP}:
        return pa.timestamp("us")
    if code in {codes.DATE, codes.NEWDATE}:
        return pa.date32()
    if code == codes.TIME:
        return pa.duration("us")
    if code == codes.NULL:
        return pa.null()
    if code in {codes.DECIMAL, codes.NEWDECIMAL, codes.JSON}:  # DECIMAL: its exact digits
        return pa.large_string()
    if code == codes.BIT or field.charsetnr == 63:  # 63: the binary character set
        return pa.large_binary()
    return pa.large_string()


def _fetch(con: Any, sql: str, params: list[object], batch_size: int) -> Any:
    pa = require("pyarrow")
    cursor = con.cursor(_pymysql().cursors.SSCursor)  # unbuffered: rows stream
    try:
        cursor.execute(sql, params or None)
        fields = cursor._result.fields  # the result's column definitions
        schema = pa.schema([pa.field(f.name, _arrow_type(f)) for f in fields])
    except BaseException:
        cursor.close()
        raise

    def batches() -> Iterator[Any]:
        try:
            while rows := cursor.fetchmany(batch_size):
                columns = zip(*rows, strict=True)
                arrays = [_array(c, f.type) for c, f in zip(columns, schema, strict=True)]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        finally:
            with contextlib.suppress(_pymysql().Error, AttributeError):  # closed already
                cursor.close()

    return pa.RecordBatchReader.from_batches(schema, batches())


def _array(values: tuple[Any, ...], arrow_type: Any) -> Any:
    pa = require("pyarrow")
    if pa.types.is_large_string(arrow_type):
        values = tuple(v if v is None or isinstance(v, str) else str(v) for v in values)
    return pa.array(values, arrow_type)


# -- values in ------------------------------------------------------------------------------
def _create(con: Any, target: str, schema: Any, *, temporary: bool = False) -> None:
    columns = ", ".join(f"{MYSQL.quote_name(f.name)} {sql_type(MYSQL, f.type)}" for f in schema)
    kind = "TEMPORARY TABLE" if temporary else "TABLE"
    _execute(con, f"CREATE {kind} {target} ({columns}) ENGINE=InnoDB", [])


def _load(con: Any, target: str, reader: Any) -> None:
    """Bulk-load the stream: multi-row INSERTs (pymysql's ``executemany``), a batch at a time."""
    names = ", ".join(MYSQL.quote_name(check_name(n, "column")) for n in reader.schema.names)
    marks = ", ".join(["%s"] * len(reader.schema))
    sql = f"INSERT INTO {target} ({names}) VALUES ({marks})"
    with con.cursor() as cursor:
        for batch in reader:  # floats were checked (Dialect.floats)
            for start in range(0, batch.num_rows, _ROWS_PER_INSERT):
                part = batch.slice(start, _ROWS_PER_INSERT)
                rows = list(zip(*(c.to_pylist() for c in part.columns), strict=True))
                cursor.executemany(sql, rows)


def _ingest(con: Any, ref: TableRef, reader: Any) -> None:
    """Create the (stage) table and bulk-load the stream into it."""
    target = f"{MYSQL.quote_name(ref.schema)}.{MYSQL.quote_name(ref.table)}"
    _create(con, target, reader.schema)
    _load(con, target, reader)


def _attach(con: Any, name: str, reader: Any, beside: TableRef) -> str:
    """For partition writes, appends and merges: the stream as a temporary table."""
    target = MYSQL.quote_name(name)
    _create(con, target, reader.schema, temporary=True)
    _load(con, target, reader)
    return target


def _detach(con: Any, name: str, beside: TableRef) -> None:
    try:  # the temporary table goes with the connection anyway
        _execute(con, f"DROP TEMPORARY TABLE IF EXISTS {MYSQL.quote_name(name)}", [])
    except _errors():
        pass


_TYPE_NAMES = {
    "null": "LONGTEXT",
    "bool": "BOOLEAN",
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INT",
    "int64": "BIGINT",
    "uint8": "TINYINT UNSIGNED",
    "uint16": "SMALLINT UNSIGNED",
    "uint32": "INT UNSIGNED",
    "uint64": "BIGINT UNSIGNED",
    "float": "FLOAT",
    "double": "DOUBLE",
    **dict.fromkeys(["string", "large_string", "string_view"], "LONGTEXT"),
    **dict.fromkeys(["binary", "large_binary", "binary_view"], "LONGBLOB"),
    **dict.fromkeys(["date32[day]", "date64[ms]"], "DATE"),
    **{f"timestamp[{u}]": f"DATETIME({n})" for u, n in (("s", 0), ("ms", 3), ("us", 6))},
    "decimal": "DECIMAL({precision},{scale})",
}  # fmt: skip

_INFO = "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"

MYSQL = Dialect(
    name="mysql",
    columns_sql=(
        f"SELECT COLUMN_NAME FROM information_schema.COLUMNS {_INFO} ORDER BY ORDINAL_POSITION"
    ),
    lowering=Lowering(timestamps="utc", times="int64", nested="text", nulls="text", finest="us"),
    type_names=_TYPE_NAMES,
    quote="`",
    placeholder="%s",
    max_name=64,
    floats="finite",
    use_schema_sql="USE {schema}",  # temporary tables live in the current database
    case_insensitive_columns=True,
    begin_sql=None,  # DDL commits by itself: the replace is an atomic RENAME TABLE
    partition_begin_sql="START TRANSACTION",  # ... and InnoDB's DML is transactional
    replace_sql=(
        "CREATE TABLE IF NOT EXISTS {target} LIKE {stage}",
        "RENAME TABLE {target} TO {old}, {stage} TO {target}",
        "DROP TABLE {old}",
    ),
    comment_get_sql=f"SELECT TABLE_COMMENT FROM information_schema.TABLES {_INFO}",
    comment_set_sql="ALTER TABLE {target} COMMENT = '{text}'",
    comment_max=2048,
    tables_sql="SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
)
"""The MySQL / MariaDB row: names quoted with backticks, values bound as ``%s``."""


class MySQLConnector:
    """Opens pymysql connections (autocommit, utf8mb4, strict SQL mode, UTC session).

    A connection error never shows the password.

    Examples:
        >>> MySQLConnector(host="db", user="me", password="secret")
        MySQLConnector('me@db:3306')
    """

    def __init__(
        self, *, host: str = "localhost", port: int = 3306, user: str = "root",
        password: str | None = None, connect_timeout: float = 10.0,
    ) -> None:  # fmt: skip
        self.host, self.port, self.user = host, port, user
        self._password = password
        self.connect_timeout = connect_timeout
        self.description = f"{user}@{host}:{port}"

    def __repr__(self) -> str:
        return f"MySQLConnector({self.description!r})"

    def __call__(self) -> Any:
        pymysql = _pymysql()
        try:
            return _connection_class()(
                host=self.host, port=self.port, user=self.user, password=self._password or "",
                autocommit=True, charset="utf8mb4", connect_timeout=self.connect_timeout,
                init_command="SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION',"
                " time_zone = '+00:00'",
            )  # fmt: skip
        except pymysql.Error as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            if self._password:
                detail = detail.replace(self._password, "***")
            msg = f"could not connect to MySQL at {self.description}: {detail}"
            raise StorageError(msg, expected="a reachable MySQL server", got=detail) from None


@functools.cache
def _connection_class() -> type:
    """pymysql's connection, whose ``close`` also ends a read that was not drained.

    A read streams its rows (an unbuffered result); when the reader stops early (a row limit,
    a partition found) the connection closes with rows still unread, and pymysql would try to
    read them after the socket is gone. Closing drops them with the socket instead."""
    base: type = _pymysql().connections.Connection

    class Connection(base):  # type: ignore[misc]
        def close(self) -> None:
            result = getattr(self, "_result", None)
            if result is not None and result.unbuffered_active:
                result.unbuffered_active = False
            super().close()

    return Connection


class MySQLDriver(BaseDriver):
    """The :class:`~wharf._stores.driver.Driver` of MySQL / MariaDB (``pymysql``): Arrow in by
    multi-row INSERTs, out through an unbuffered cursor."""

    bulk_ingest = True
    execute = staticmethod(_execute)
    fetch = staticmethod(_fetch)
    ingest = staticmethod(_ingest)
    attach = staticmethod(_attach)
    detach = staticmethod(_detach)
    errors = staticmethod(_errors)


def mysql_store(connector: MySQLConnector, *, schema_policy: SchemaPolicy = "error") -> SqlStore:
    """A table store on a MySQL or MariaDB server; a schema is a MySQL database.

    Examples:
        >>> from wharf._stores.base import TableRef
        >>> mysql_store(MySQLConnector(host="db")).location(TableRef("shop", "orders"))
        '`shop`.`orders`'
    """
    return SqlStore(
        MYSQL, MySQLDriver(connector), database=connector.description, schema_policy=schema_policy,
        lock_timeout=0.0,
    )  # fmt: skip
