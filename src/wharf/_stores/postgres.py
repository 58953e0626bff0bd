"""PostgreSQL as a table store: its :class:`~wharf._stores.dialect.Dialect` row and connections.

Data moves as Arrow through ADBC (``adbc_driver_postgresql``), never row by row in Python:

- **write**: the stream is bulk-copied (binary ``COPY``) straight into a new stage table by
  ``cursor.adbc_ingest`` (the driver's ``ingest``), inside the
  write's transaction. PostgreSQL's DDL is transactional, so the whole write is one
  transaction: ``BEGIN; <COPY into stage>; COMMENT ON stage; DROP TABLE target; ALTER TABLE
  stage RENAME TO target; COMMIT``. Readers see the old table until the commit, then the new
  one; a failure anywhere (the stream raises, the process is killed, the server goes away)
  rolls everything back, stage included. A partition write bulk-copies into a temporary table,
  then ``DELETE`` + ``INSERT ... SELECT`` (columns by name) in one transaction.
- **read**: ``SELECT <quoted columns> FROM <target>`` through ADBC, which streams the result
  (binary ``COPY ... TO``) as record batches.

Connections run in autocommit mode and the store issues ``BEGIN``/``COMMIT`` itself. Values
are always bound: a statement with parameters is prepared first, and each value is converted
to the type PostgreSQL inferred for its placeholder (so ``'2024-01-01'`` compares with a
``date`` column).

What does not round-trip exactly (everything else comes back as written, because the written
Arrow schema and categorical dictionaries are kept in the table comment):

- Text cannot hold the NUL character (U+0000): such a string fails the write with a message.
- Timestamps and times keep microseconds: a ``timestamp[ns]``/``time64[ns]`` column is stored
  as microseconds and restored as nanoseconds, and a value with nanoseconds fails the write
  (nothing is stored) instead of being cut; ``interval`` keeps microseconds.
- Structs, lists of structs and lists of lists have no column type: they are stored as JSON
  text (queryable as ``col::jsonb``) and parsed back on read. A timestamp, date, decimal or
  bytes value inside one has no JSON form: the write fails, naming the column. Maps and unions
  have no column type at all: the write fails before any data moves, naming the column.
- Types PostgreSQL cannot hold are stored as another type and restored on read, but SQL sees
  the stand-in: unsigned integers as the next larger signed type (``uint64`` as
  ``numeric``), ``float16`` as ``real``, ``duration`` as ``bigint`` (a count of its unit),
  ``date64`` as ``date``, dictionaries (categoricals) as their values, other extension types
  as their storage type.
- Names are at most 63 bytes (PostgreSQL would silently cut longer ones): a longer table,
  schema or column name is an :class:`~wharf.errors.UnsafeNameError`.
- A table not written by wharf (no comment) reads with the driver's types: ``timestamptz`` in
  UTC, ``numeric`` as its decimal text, ``smallint`` as ``int16``.
- A view that depends on the table blocks the replace (``DROP TABLE`` refuses): the write
  fails and the old table stays.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from wharf._deps import require
from wharf._stores.base import SchemaPolicy, TableRef
from wharf._stores.dialect import Dialect, Lowering
from wharf._stores.driver import BaseDriver
from wharf._stores.sql import SqlStore
from wharf.errors import StorageError

__all__ = ["POSTGRES", "PostgresConnector", "PostgresDriver", "postgres_store", "postgres_uri"]


def _dbapi() -> Any:
    require("adbc_driver_postgresql", purpose="the PostgreSQL store")
    return require("adbc_driver_postgresql.dbapi", purpose="the PostgreSQL store")


def _errors() -> tuple[type[BaseException], ...]:
    return (require("adbc_driver_manager", purpose="the PostgreSQL store").Error,)


# -- values in ------------------------------------------------------------------------------
def _param(value: object, target: Any) -> Any:
    """One bound value as a 1-row Arrow array of the type PostgreSQL inferred for it."""
    pa = require("pyarrow")
    if value is None:
        return pa.nulls(1, target)
    given = pa.array([value])
    if given.type == target:
        return given
    try:
        return given.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    if pa.types.is_timestamp(target) and target.tz:  # a zone-less time: taken as UTC
        try:
            return given.cast(pa.timestamp(target.unit)).cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
    return given  # let PostgreSQL say what is wrong with it


def _run(cursor: Any, sql: str, params: list[object]) -> None:
    if not params:
        cursor.execute(sql)
        return
    pa = require("pyarrow")
    expected = cursor.adbc_prepare(sql)  # PostgreSQL infers each placeholder's type
    arrays = [_param(v, f.type) for v, f in zip(params, expected, strict=True)]
    fields = [pa.field(f.name, a.type) for f, a in zip(expected, arrays, strict=True)]
    cursor.execute(sql, pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields)))


def _execute(con: Any, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
    cursor = con.cursor()
    try:
        _run(cursor, sql, params)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    finally:
        cursor.close()


# -- values out -----------------------------------------------------------------------------
def _plain(field: Any) -> Any:
    """``numeric`` (and other types ADBC cannot map) arrive as ``arrow.opaque`` text: unwrap."""
    pa = require("pyarrow")
    t = field.type
    if isinstance(t, pa.BaseExtensionType) and t.extension_name == "arrow.opaque":
        return field.with_type(t.storage_type)
    return field


def _fetch(con: Any, sql: str, params: list[object], batch_size: int) -> Any:
    pa = require("pyarrow")
    cursor = con.cursor()
    try:
        _run(cursor, sql, params)
        reader = cursor.fetch_record_batch()
    except BaseException:
        cursor.close()
        raise
    schema = pa.schema([_plain(f) for f in reader.schema], metadata=reader.schema.metadata)
    unwrap = not schema.equals(reader.schema)

    def batches() -> Iterator[Any]:
        sent = False
        try:  # the cursor lives as long as its reader: it owns the result stream
            for batch in reader:
                sent = True
                if not unwrap:
                    yield batch
                    continue
                columns = [getattr(c, "storage", c) for c in batch.columns]
                yield pa.RecordBatch.from_arrays(columns, schema=schema)
        finally:
            cursor.close()
        if not sent:  # one empty batch, which carries the categories of an empty categorical
            yield pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


# -- Arrow types ----------------------------------------------------------------------------
def _is_list(t: Any) -> bool:
    pa = require("pyarrow")
    return bool(pa.types.is_list(t) or pa.types.is_large_list(t))


def _unsupported(t: Any) -> bool:
    pa = require("pyarrow")
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        inner = t.value_type
        return _unsupported(inner) or pa.types.is_list(inner) or pa.types.is_large_list(inner)
    return bool(
        pa.types.is_struct(t) or pa.types.is_map(t) or pa.types.is_union(t)
        or pa.types.is_run_end_encoded(t) or pa.types.is_dictionary(t)
    )  # fmt: skip


def _ingest(con: Any, ref: TableRef, reader: Any) -> None:
    """Bulk-copy ``reader`` into a new table ``ref`` (binary COPY through ADBC)."""
    for field in reader.schema:
        if _unsupported(field.type):
            msg = (
                f"PostgreSQL has no column type for column {field.name!r} of Arrow type "
                f"{field.type} (maps, unions); convert it first, e.g. to a struct or JSON text"
            )
            raise StorageError(msg, expected="a PostgreSQL-compatible type", got=str(field.type))
    cursor = con.cursor()
    try:
        cursor.adbc_ingest(ref.table, reader, mode="create", db_schema_name=ref.schema)
    except _errors() as exc:
        if "0x00" in str(exc):
            msg = (
                "PostgreSQL text cannot hold the NUL character (U+0000), and a string in the "
                "data contains one; remove it, or store such values as binary"
            )
            raise StorageError(msg, expected="text without NUL", got="a NUL character") from exc
        raise
    finally:
        cursor.close()


def _attach(con: Any, name: str, reader: Any, beside: TableRef) -> str:
    """For partition writes: bulk-copy the stream into a temporary table."""
    _ingest_temporary(con, name, reader)
    return POSTGRES.quote_name(name)


def _ingest_temporary(con: Any, name: str, reader: Any) -> None:
    cursor = con.cursor()
    try:
        cursor.adbc_ingest(name, reader, mode="create", temporary=True)
    finally:
        cursor.close()


def _detach(con: Any, name: str, beside: TableRef) -> None:
    try:  # the temporary table goes with the connection anyway
        _execute(con, f"DROP TABLE IF EXISTS pg_temp.{POSTGRES.quote_name(name)}", [])
    except _errors():
        pass


_TYPE_NAMES = {
    "null": "TEXT",
    "bool": "BOOLEAN",
    **dict.fromkeys(["int8", "int16"], "SMALLINT"),
    "int32": "INTEGER",
    "int64": "BIGINT",
    "float": "REAL",
    "double": "DOUBLE PRECISION",
    **dict.fromkeys(["string", "large_string", "string_view"], "TEXT"),
    **dict.fromkeys(["binary", "large_binary", "binary_view"], "BYTEA"),
    "date32[day]": "DATE",
    **dict.fromkeys(["time32[s]", "time32[ms]", "time64[us]", "time64[ns]"], "TIME"),
    **{f"timestamp[{u}]": "TIMESTAMP" for u in ("s", "ms", "us", "ns")},
    **{f"timestamp[{u}, tz]": "TIMESTAMPTZ" for u in ("s", "ms", "us", "ns")},
    "month_day_nano_interval": "INTERVAL",
    "extension<arrow.uuid>": "UUID",
    "decimal": "NUMERIC",
    "list": "{item}[]",
}

_CLASS = (
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND c.relname = $2"
)


#: the stand-ins (see the module doc); structs and nested lists as JSON text
_LOWERING = Lowering(
    uuid="keep", unsigned="wider", uint64="decimal", dates="date32", finest="us",
    nested="items", compound="text",
)  # fmt: skip

POSTGRES = Dialect(
    name="postgres",
    columns_sql=(
        "SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c "
        "ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum"
    ),
    lowering=_LOWERING,
    type_names=_TYPE_NAMES,
    placeholder="${n}",
    max_name=63,  # NAMEDATALEN - 1: PostgreSQL would silently cut a longer name
    name_unit="bytes",
    begin_sql="BEGIN",
    write_lock_sql="SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
    read_lock_sql="LOCK TABLE {target} IN ACCESS SHARE MODE",
    comment_get_sql=f"SELECT pg_catalog.obj_description(c.oid, 'pg_class') {_CLASS}",
    comment_set_sql="COMMENT ON TABLE {target} IS '{text}'",
    tables_sql="SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = $1",
)
"""The PostgreSQL row: names quoted with ``"`` (case kept), values bound as ``$1``, ``$2``."""


class PostgresDriver(BaseDriver):
    """The :class:`~wharf._stores.driver.Driver` of PostgreSQL (ADBC): whole tables
    bulk-copied straight into their stage, partition rows into a temporary table."""

    bulk_ingest = True
    execute = staticmethod(_execute)
    fetch = staticmethod(_fetch)
    ingest = staticmethod(_ingest)
    attach = staticmethod(_attach)
    detach = staticmethod(_detach)
    errors = staticmethod(_errors)


def postgres_uri(
    *,
    host: str = "localhost",
    port: int = 5432,
    user: str = "postgres",
    password: str | None = None,
    database: str = "postgres",
    options: dict[str, str] | None = None,
) -> str:
    """A libpq connection URI, every part percent-encoded.

    A ``host`` starting with ``/`` is a Unix socket folder.

    Examples:
        >>> postgres_uri(host="db", user="me", password="p@ss/word", database="sales")
        'postgresql://me:p%40ss%2Fword@db:5432/sales'
        >>> postgres_uri(host="/run/postgresql", options={"sslmode": "disable"})
        'postgresql://postgres@/postgres?host=%2Frun%2Fpostgresql&port=5432&sslmode=disable'
    """
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    query = dict(options or {})
    if host.startswith("/"):
        where, query = "", {"host": host, "port": str(port), **query}
    else:
        where = f"[{host}]" if ":" in host else quote(host, safe="")
        where += f":{port}"
    tail = "&".join(f"{quote(k, safe='')}={quote(str(v), safe='')}" for k, v in query.items())
    return f"postgresql://{auth}@{where}/{quote(database, safe='')}" + (f"?{tail}" * bool(tail))


def _describe(uri: str) -> str:
    """The URI without its password, for messages and metadata."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}@{netloc}").geturl()


class PostgresConnector:
    """Opens ADBC connections (autocommit on) for a :class:`~wharf._stores.sql.SqlStore`.

    A connection error never shows the password.

    Examples:
        >>> PostgresConnector("postgresql://me:secret@db:5432/sales")
        PostgresConnector('postgresql://me@db:5432/sales')
    """

    def __init__(self, uri: str) -> None:
        self._uri = uri
        self.description = _describe(uri)
        self.database = urlsplit(uri).path.lstrip("/") or "postgres"

    def __repr__(self) -> str:
        return f"PostgresConnector({self.description!r})"

    def __call__(self) -> Any:
        dbapi = _dbapi()
        try:
            return dbapi.connect(self._uri, autocommit=True)
        except _errors() as exc:
            password = urlsplit(self._uri).password
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            if password:
                detail = detail.replace(password, "***")
            msg = f"could not connect to PostgreSQL at {self.description}: {detail}"
            raise StorageError(msg, expected="a reachable PostgreSQL server", got=detail) from None


def postgres_store(uri: str, *, schema_policy: SchemaPolicy = "error") -> SqlStore:
    """A table store on a PostgreSQL database, given a libpq URI (see :func:`postgres_uri`).

    Examples:
        >>> store = postgres_store("postgresql://me:secret@db:5432/sales")
        >>> from wharf._stores.base import TableRef
        >>> store.location(TableRef("public", "Orders"))
        '"sales"."public"."Orders"'
        >>> store
        SqlStore('postgres', database='postgresql://me@db:5432/sales')
    """
    connector = PostgresConnector(uri)
    return SqlStore(
        POSTGRES,
        PostgresDriver(connector),
        database=connector.description,
        catalog=connector.database,
        schema_policy=schema_policy,
        lock_timeout=0.0,
    )
