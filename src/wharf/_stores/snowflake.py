"""Snowflake as a table store: its :class:`~wharf._stores.dialect.Dialect` row and connections.

**Arrow in** (``Driver.ingest``): the stream is written to a local Parquet file (batch by
batch, so it may be larger than memory), then ``CREATE TRANSIENT TABLE <stage> (typed
columns)``, ``PUT`` of the file to a temporary named stage, and ``COPY INTO <stage> ...
MATCH_BY_COLUMN_NAME = CASE_SENSITIVE`` (columns by exact name, Parquet logical types kept).
This is the path the connector's ``write_pandas`` takes, without pandas. **Arrow out**:
``fetch_arrow_batches()``, one Arrow table per result chunk; integer columns are widened to
``int64`` and timestamp units made the same in every chunk (the server picks them per chunk).

**Atomic replace.** Snowflake commits DDL implicitly, so "stage, then swap inside a
transaction" is impossible there (``Dialect.begin_sql = None``). Its atomic equivalent is one
statement: ``CREATE OR REPLACE TABLE <target> COPY GRANTS COMMENT = '<schema>' AS SELECT * FROM
<stage>`` (Snowflake runs a ``CREATE OR REPLACE`` as one transaction: readers see the old table
or the new one, and the written Arrow schema arrives with the data). Then the stage is dropped.
A write that fails before that statement drops its stage and leaves the old table untouched.
(``ALTER TABLE ... SWAP WITH`` would avoid the server-side copy but the local stand-in, fakesnow,
does not implement it; the copy happens inside the warehouse, not over the network.)

**Atomic partition writes.** DML is transactional in Snowflake, so a partition write loads its
rows into a table first (DDL), then runs ``BEGIN; DELETE ... WHERE <partition>; INSERT ...``,
checks the partition's row count and commits (``Dialect.partition_begin_sql``); any failure
rolls back and leaves every partition as it was.

**Names.** Every identifier is quoted. A schema or table name that is a plain SQL identifier
(``sales_summary``) is upper-cased first, as Snowflake does for unquoted names, so wharf's
tables are the ones ``SELECT * FROM public.sales_summary`` and Dagster find; any other name is
kept exactly. Column names are always kept exactly, so mixed case (``"userId"``) round-trips.

Lists and structs are stored as ARRAY / OBJECT, which Snowflake returns as JSON text; the
written Arrow schema (kept as the table comment, with time zones, integer widths, categoricals
and decimals) parses them back. Maps, and lists or structs holding timestamps, dates or
decimals, do not round-trip (JSON has no such types).
"""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wharf._deps import require
from wharf._stores.base import SchemaPolicy, TableRef
from wharf._stores.dialect import Dialect, Lowering, sql_type
from wharf._stores.driver import BaseDriver
from wharf._stores.parquet import write_parquet
from wharf._stores.sql import SqlStore

__all__ = ["SNOWFLAKE", "SnowflakeConnector", "SnowflakeDriver", "snowflake_store"]


def _connector_module() -> Any:
    return require("snowflake.connector", purpose="the Snowflake store")


_INT = "NUMBER(38,0)"
_TYPE_NAMES = {
    "null": "VARCHAR",
    "bool": "BOOLEAN",
    **dict.fromkeys(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"], _INT),
    "uint64": "NUMBER(20,0)",
    **dict.fromkeys(["halffloat", "float", "double"], "FLOAT"),
    **dict.fromkeys(["string", "large_string", "string_view"], "VARCHAR"),
    **dict.fromkeys(["binary", "large_binary", "binary_view"], "BINARY"),
    **dict.fromkeys(["date32[day]", "date64[ms]"], "DATE"),
    **dict.fromkeys(["time32[s]", "time32[ms]", "time64[us]"], "TIME(6)"),
    "time64[ns]": "TIME(9)",
    **dict.fromkeys(["timestamp[s]", "timestamp[ms]", "timestamp[us]"], "TIMESTAMP_NTZ(6)"),
    "timestamp[ns]": "TIMESTAMP_NTZ(9)",
    **dict.fromkeys(
        ["timestamp[s, tz]", "timestamp[ms, tz]", "timestamp[us, tz]"], "TIMESTAMP_TZ(6)"
    ),
    "timestamp[ns, tz]": "TIMESTAMP_TZ(9)",
    "decimal": "NUMBER({precision},{scale})",
    "list": "ARRAY",
    "struct": "OBJECT",
}


def _execute(con: Any, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
    with con.cursor() as cur:
        cur.execute(sql, params or None)
        rows: list[tuple[Any, ...]] = cur.fetchall()
        return rows


def _errors() -> tuple[type[BaseException], ...]:
    return (_connector_module().errors.Error,)


def _ingest(con: Any, ref: TableRef, reader: Any) -> None:
    """Create ``ref`` with typed columns and load ``reader`` into it (PUT + COPY)."""
    q, schema = SNOWFLAKE.quote_name, ref.schema
    target = f"{q(schema)}.{q(ref.table)}"
    columns = ", ".join(f"{q(f.name)} {sql_type(SNOWFLAKE, f.type)}" for f in reader.schema)
    with tempfile.TemporaryDirectory(prefix="wharf-snowflake-") as tmp:
        path = Path(tmp, "part.parquet")
        rows = write_parquet(reader, path)  # a failing stream fails here, before any DDL
        # TRANSIENT: a stage needs no Fail-safe copy (nor does it cost storage for one)
        _execute(con, f"CREATE TRANSIENT TABLE {target} ({columns})", [])
        if not rows:
            return
        # a temporary stage lives as long as this session (one store operation)
        stage = f"{q(schema)}.{q(f'__wharf_put_{uuid.uuid4().hex[:12]}')}"
        _execute(con, f"CREATE TEMPORARY STAGE {stage}", [])
        with con.cursor() as cur, path.open("rb") as data:
            cur.execute(
                f"PUT 'file://part.parquet' @{stage} AUTO_COMPRESS = FALSE OVERWRITE = TRUE",
                file_stream=data,
            )
            cur.execute(
                f"COPY INTO {target} FROM @{stage} FILE_FORMAT = (TYPE = PARQUET "
                "USE_LOGICAL_TYPE = TRUE BINARY_AS_TEXT = FALSE) "
                "MATCH_BY_COLUMN_NAME = CASE_SENSITIVE ON_ERROR = ABORT_STATEMENT "
                "PURGE = TRUE"
            )


def _attach(con: Any, name: str, reader: Any, beside: TableRef) -> str:
    """For partition writes: load the stream into a table ``name`` in the session's schema."""
    schema = _execute(con, "SELECT CURRENT_SCHEMA()", [])[0][0]
    _ingest(con, TableRef(schema, name), reader)
    return f"{SNOWFLAKE.quote_name(schema)}.{SNOWFLAKE.quote_name(name)}"


def _detach(con: Any, name: str, beside: TableRef) -> None:
    schema = _execute(con, "SELECT CURRENT_SCHEMA()", [])[0][0]
    q = SNOWFLAKE.quote_name
    _execute(con, f"DROP TABLE IF EXISTS {q(schema)}.{q(name)}", [])


def _fetch(con: Any, sql: str, params: list[object], batch_size: int) -> Any:
    """Stream a query's result chunks as one Arrow schema (see :func:`_unify`)."""
    pa = require("pyarrow", purpose="the Snowflake store")
    cur = con.cursor()
    try:
        cur.execute(sql, params or None)
        scales = [getattr(d, "scale", None) for d in cur.description]
        chunks = cur.fetch_arrow_batches()
        first = next(chunks, None)
        if first is None:  # no rows: the connector returns a table only when forced
            cur.execute(sql, params or None)
            first = cur.fetch_arrow_all(force_return_table=True)
    except BaseException:
        cur.close()
        raise
    schema = _unified_schema(first.schema, scales)

    def batches() -> Iterator[Any]:
        try:
            yield from _unify(first, schema).to_batches(max_chunksize=batch_size) or [
                pa.record_batch([pa.array([], f.type) for f in schema], schema=schema)
            ]  # an empty result is one empty batch (a categorical keeps its categories)
            for table in chunks:
                yield from _unify(table, schema).to_batches(max_chunksize=batch_size)
        finally:
            cur.close()

    return pa.RecordBatchReader.from_batches(schema, batches())


def _unified_schema(schema: Any, scales: list[Any]) -> Any:
    """The result schema without Snowflake's field metadata, ints as ``int64``, and timestamps
    of columns declared with at most 6 fractional digits in microseconds (the server sends
    nanoseconds when a chunk's values fit, microseconds otherwise)."""
    pa = require("pyarrow")
    fields = []
    for f, scale in zip(schema, scales, strict=False):
        t = f.type
        if pa.types.is_integer(t):
            t = pa.int64()
        elif pa.types.is_timestamp(t) and scale is not None and scale <= 6:
            t = pa.timestamp("us", t.tz)
        fields.append(pa.field(f.name, t))
    return pa.schema(fields)


def _unify(table: Any, schema: Any) -> Any:
    return table if table.schema.equals(schema) else table.cast(schema)


#: what Snowflake (or Parquet into Snowflake) cannot take
_LOWERING = Lowering(
    text="string", nulls="text", uint64="decimal", views="plain", dates="date32",
    decimals="narrow_or_text",
)  # fmt: skip

SNOWFLAKE = Dialect(
    name="snowflake",
    folding="upper",  # plain names as Snowflake folds unquoted ones
    columns_sql=(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
        "AND table_name = ? ORDER BY ordinal_position"
    ),
    lowering=_LOWERING,
    type_names=_TYPE_NAMES,
    begin_sql=None,  # DDL commits implicitly: the replace below is one atomic statement
    partition_begin_sql="BEGIN TRANSACTION",  # ... but DML is transactional
    replace_sql=(
        "CREATE OR REPLACE TABLE {target} COPY GRANTS COMMENT = '{comment}' "
        "AS SELECT * FROM {stage}",
        "DROP TABLE IF EXISTS {stage}",
    ),
    comment_get_sql=(
        "SELECT comment FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
    ),
    comment_max=16_384,  # Snowflake's limit for comments; a longer schema text is zipped
    tables_sql="SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
)
"""The Snowflake row: names quoted with ``"``, values bound with ``?`` (``paramstyle="qmark"``)."""


class SnowflakeConnector:
    """Opens Snowflake connections for a :class:`~wharf._stores.sql.SqlStore`.

    Args:
        connect_args: keyword arguments for ``snowflake.connector.connect`` (account, user,
            password or private_key, database, warehouse, role, host/port/protocol, ...).
            ``paramstyle`` is always ``"qmark"`` and ``autocommit`` True; ``schema`` defaults to
            ``PUBLIC`` (a session needs a current schema).

    Examples:
        >>> SnowflakeConnector({"account": "acme", "user": "me", "database": "sales"}).catalog
        'SALES'
    """

    def __init__(self, connect_args: dict[str, Any]) -> None:
        self.connect_args = {k: v for k, v in connect_args.items() if v is not None}
        self.connect_args.setdefault("schema", "PUBLIC")

    @property
    def catalog(self) -> str | None:
        """The database name as Snowflake stores it."""
        database = self.connect_args.get("database")
        return SNOWFLAKE.fold_name(str(database)) if database else None

    def __call__(self) -> Any:
        connector = _connector_module()
        args = dict(self.connect_args)
        known = getattr(connector.connection, "DEFAULT_CONFIGURATION", None)
        if known is not None and "platform_detection_timeout_seconds" not in known:
            args.pop("platform_detection_timeout_seconds", None)  # connectors before 3.16
        return connector.connect(**args, paramstyle="qmark", autocommit=True)


class SnowflakeDriver(BaseDriver):
    """The :class:`~wharf._stores.driver.Driver` of Snowflake (``snowflake-connector-python``):
    Arrow in as Parquet (PUT + COPY INTO), out as the result's Arrow chunks."""

    bulk_ingest = True
    execute = staticmethod(_execute)
    fetch = staticmethod(_fetch)
    ingest = staticmethod(_ingest)
    attach = staticmethod(_attach)
    detach = staticmethod(_detach)
    errors = staticmethod(_errors)


def snowflake_store(
    connect_args: dict[str, Any],
    *,
    timestamps_as_strings: bool = False,
    schema_policy: SchemaPolicy = "error",
    batch_size: int = 122_880,
) -> SqlStore:
    """A table store on the Snowflake database named in ``connect_args``.

    Args:
        connect_args: see :class:`SnowflakeConnector`.
        timestamps_as_strings: store timestamp columns as VARCHAR (ISO 8601); the written
            Arrow schema still restores them on read.

    Examples:
        >>> store = snowflake_store({"account": "acme", "user": "me", "database": "sales"})
        >>> store.location(TableRef("public", "daily"))
        '"SALES"."PUBLIC"."DAILY"'
    """
    connector = SnowflakeConnector(connect_args)
    args = connector.connect_args
    where = f"{args.get('account', '?')}/{connector.catalog or '?'}"
    dialect = SNOWFLAKE
    if timestamps_as_strings:
        as_text = dataclasses.replace(SNOWFLAKE.lowering, timestamps="text")
        dialect = dataclasses.replace(SNOWFLAKE, lowering=as_text)
    return SqlStore(
        dialect,
        SnowflakeDriver(connector),
        database=where,
        catalog=connector.catalog,
        schema_policy=schema_policy,
        batch_size=batch_size,
    )
