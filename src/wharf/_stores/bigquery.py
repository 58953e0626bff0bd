"""BigQuery as a table store: its :class:`~wharf._stores.dialect.Dialect` row and connections.

**Arrow in** (``Driver.ingest``): the stream is written to a local Parquet file (batch by batch,
so it may be larger than memory) and loaded into a new stage table by one load job
(``load_table_from_file``: a resumable upload, with an explicit schema built from the Arrow
types, so nothing is auto-detected). **Arrow out**: a query job's result pages as Arrow record
batches (``RowIterator.to_arrow_iterable``), through the REST API: wharf does not need the
BigQuery Storage API package.

**Atomic replace.** BigQuery allows no DDL inside a transaction (``Dialect.begin_sql = None``).
Its atomic equivalent is one statement: ``CREATE OR REPLACE TABLE <target> OPTIONS(description
= '<schema>') AS SELECT * FROM <stage>`` replaces the table in one job (readers see the old
table or the new one), carrying the written Arrow schema as the table description. Then the
stage is dropped. A write that fails earlier drops its stage; the old table is untouched.

**Atomic partition writes.** One DML statement is atomic in BigQuery (a transaction over several
needs one script, where the local emulator binds no query parameters, or a session, which it does
not keep), so a partition write is one (``Dialect.replace_rows_sql``): its rows are loaded into a
table and counted there (rows outside the partition fail the write before anything changes),
then ``MERGE <target> USING <source> ON FALSE WHEN NOT MATCHED BY SOURCE AND <partition> THEN
DELETE WHEN NOT MATCHED THEN INSERT ...`` deletes the partition's old rows and inserts the new
ones in one job, or changes nothing if it fails.

**Metadata** (column names, the description) comes from the tables API (``tables.get``), not
from ``INFORMATION_SCHEMA`` queries: no query job, and no dataset name in SQL text
(``Driver.describe``).

Names are quoted with backticks (a backtick or backslash inside is escaped); tables are
case-sensitive in BigQuery, column names are not (two columns that differ only in case cannot
share a table), and datasets can be made case-insensitive (the emulator's are), so two assets
whose datasets differ only in case are refused before a run if their tables are one name.

What does not round-trip exactly (the written Arrow schema, kept as the table description when
it fits in BigQuery's 16,384 characters, restores the rest: time zones, integer widths,
categoricals, decimals):

- timestamps keep microseconds: a nanosecond value fails the write instead of being cut;
- a list column cannot hold NULL (BigQuery ARRAYs are never NULL): it reads back as ``[]``;
- decimals beyond NUMERIC (more than 9 fractional or 29 integer digits) are BIGNUMERIC, which
  the local emulator cannot load.
"""

from __future__ import annotations

import datetime as dt
import decimal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wharf._deps import require
from wharf._stores.base import SchemaPolicy, TableRef
from wharf._stores.dialect import Dialect, Lowering
from wharf._stores.driver import BaseDriver
from wharf._stores.parquet import write_parquet
from wharf._stores.sql import SqlStore
from wharf.errors import StorageError

__all__ = [
    "BIGQUERY",
    "BigQueryConnection",
    "BigQueryConnector",
    "BigQueryDriver",
    "bigquery_store",
    "ensure_dataset",
]


def _bigquery() -> Any:
    return require("google.cloud.bigquery", purpose="the BigQuery store")


@dataclass
class BigQueryConnection:
    """What a BigQuery "connection" is to the store: a client plus the job settings.

    ``describe`` answers are cached until the next statement runs (a read asks twice);
    ``datasets`` (shared by the connector's connections) holds those known to exist.
    """

    client: Any
    location: str | None = None
    timeout: float | None = None
    datasets: set[str] = field(default_factory=set, repr=False)
    _described: dict[tuple[str, str], tuple[list[str], str | None]] = field(
        default_factory=dict, repr=False
    )

    @property
    def project(self) -> str:
        project: str = self.client.project
        return project

    def table_id(self, schema: str, table: str) -> str:
        return f"{self.project}.{schema}.{table}"

    def close(self) -> None:
        self.client.close()


def _param(value: object) -> Any:
    """A positional query parameter with BigQuery's type for ``value``."""
    bigquery = _bigquery()
    if isinstance(value, bool):
        kind = "BOOL"
    elif isinstance(value, int):
        kind = "INT64"
    elif isinstance(value, float):
        kind = "FLOAT64"
    elif isinstance(value, decimal.Decimal):
        kind = "NUMERIC"
    elif isinstance(value, dt.datetime):
        kind = "TIMESTAMP" if value.tzinfo else "DATETIME"
    elif isinstance(value, dt.date):
        kind = "DATE"
    elif isinstance(value, dt.time):
        kind = "TIME"
    elif isinstance(value, bytes):
        kind = "BYTES"
    else:
        kind, value = "STRING", str(value)
    return bigquery.ScalarQueryParameter(None, kind, value)


def _job_config(params: list[object]) -> Any:
    return _bigquery().QueryJobConfig(query_parameters=[_param(v) for v in params])


def _run(con: BigQueryConnection, sql: str, params: list[object], **result: Any) -> Any:
    con._described.clear()
    job = con.client.query(
        sql, job_config=_job_config(params), location=con.location, timeout=con.timeout
    )
    return job.result(timeout=con.timeout, **result)


def _execute(con: BigQueryConnection, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
    if not sql:  # an empty template: the step is done through the API (create_schema_sql)
        return []
    return [tuple(row.values()) for row in _run(con, sql, params)]


def ensure_dataset(con: BigQueryConnection, dataset: str) -> None:
    """Create ``dataset`` if missing: one datasets API call per connector, not a query job."""
    if dataset in con.datasets:
        return
    bigquery = _bigquery()
    found = bigquery.Dataset(f"{con.project}.{dataset}")
    if con.location:
        found.location = con.location
    con.client.create_dataset(found, exists_ok=True, timeout=con.timeout)
    con.datasets.add(dataset)


def _fetch(con: BigQueryConnection, sql: str, params: list[object], batch_size: int) -> Any:
    pa = require("pyarrow", purpose="the BigQuery store")
    rows = _run(con, sql, params, page_size=batch_size)
    batches = rows.to_arrow_iterable(bqstorage_client=None)
    first = next(batches, None)
    if first is None:
        return rows.to_arrow(create_bqstorage_client=False).to_reader()

    def chain() -> Iterator[Any]:
        yield first
        yield from batches

    return pa.RecordBatchReader.from_batches(first.schema, chain())


def _errors() -> tuple[type[BaseException], ...]:
    _bigquery()  # a missing client names the right extra
    exceptions = require("google.api_core.exceptions")
    auth = require("google.auth.exceptions")
    return (exceptions.GoogleAPIError, auth.GoogleAuthError)


def _describe(con: BigQueryConnection, ref: TableRef) -> tuple[list[str], str | None]:
    key = (ref.schema, ref.table)
    if key not in con._described:
        not_found = require("google.api_core.exceptions").NotFound
        try:
            found = con.client.get_table(con.table_id(*key), timeout=con.timeout)
        except not_found:
            con._described[key] = ([], None)
        else:
            con._described[key] = ([f.name for f in found.schema], found.description)
    return con._described[key]


def _decimal_type(t: Any) -> tuple[str, int, int]:
    integer_digits = t.precision - t.scale
    kind = "NUMERIC" if t.scale <= 9 and integer_digits <= 29 else "BIGNUMERIC"
    return kind, t.precision, t.scale


def _field(name: str, t: Any) -> Any:
    """A BigQuery ``SchemaField`` for an Arrow (storage) type."""
    bigquery, pa = _bigquery(), require("pyarrow")
    schema_field = bigquery.SchemaField
    if pa.types.is_list(t):
        inner = _field(name, t.value_type)
        if inner.mode == "REPEATED":
            msg = f"BigQuery cannot store column {name!r}: a list of lists ({t})"
            raise StorageError(msg, expected="at most one level of lists", got=str(t))
        return schema_field(name, inner.field_type, mode="REPEATED", fields=inner.fields)
    if pa.types.is_struct(t):
        return schema_field(name, "RECORD", fields=[_field(f.name, f.type) for f in t])
    if pa.types.is_decimal(t):
        kind, precision, scale = _decimal_type(t)
        return schema_field(name, kind, precision=precision, scale=scale)
    simple = _SIMPLE.get(str(t))
    if simple is None:
        if not pa.types.is_timestamp(t):
            msg = f"BigQuery has no column type for column {name!r} of Arrow type {t}"
            raise StorageError(msg, expected="a supported Arrow type", got=str(t))
        simple = "TIMESTAMP" if t.tz else "DATETIME"
    return schema_field(name, simple)


_SIMPLE = {
    "bool": "BOOL",
    **dict.fromkeys(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"], "INT64"),
    **dict.fromkeys(["halffloat", "float", "double"], "FLOAT64"),
    **dict.fromkeys(["string", "large_string"], "STRING"),
    **dict.fromkeys(["binary", "large_binary"], "BYTES"),
    "date32[day]": "DATE",
    **dict.fromkeys(["time32[s]", "time32[ms]", "time64[us]"], "TIME"),
}

_TYPE_NAMES = {
    **_SIMPLE,
    "null": "STRING",
    **{f"timestamp[{u}]": "DATETIME" for u in ("s", "ms", "us", "ns")},
    **{f"timestamp[{u}, tz]": "TIMESTAMP" for u in ("s", "ms", "us", "ns")},
    "decimal": "NUMERIC({precision}, {scale})",
    "list": "ARRAY<{item}>",
    "struct": "STRUCT<{fields}>",
}


def _ingest(con: BigQueryConnection, ref: TableRef, reader: Any) -> None:
    """Create the table ``ref`` with ``reader``'s schema and load its rows (one load job)."""
    bigquery = _bigquery()
    fields = [_field(f.name, f.type) for f in reader.schema]
    destination = con.table_id(ref.schema, ref.table)
    con._described.clear()
    ensure_dataset(con, ref.schema)
    with tempfile.TemporaryDirectory(prefix="wharf-bigquery-") as tmp:
        path = Path(tmp, "part.parquet")
        rows = write_parquet(reader, path)  # a failing stream fails here, before any job
        if not rows:
            con.client.create_table(bigquery.Table(destination, schema=fields), timeout=con.timeout)
            return
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            schema=fields,
            write_disposition=bigquery.WriteDisposition.WRITE_EMPTY,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
        )
        options = bigquery.ParquetOptions()
        options.enable_list_inference = True
        config.parquet_options = options
        with path.open("rb") as data:  # no size given: a resumable upload, streamed from disk
            job = con.client.load_table_from_file(
                data, destination, job_config=config, location=con.location, timeout=con.timeout
            )
        job.result(timeout=con.timeout)


def _attach(con: BigQueryConnection, name: str, reader: Any, beside: TableRef) -> str:
    """For partition writes: load the stream into a table ``name`` beside the target, in its
    dataset."""
    _ingest(con, TableRef(beside.schema, name), reader)
    return f"{BIGQUERY.quote_name(beside.schema)}.{BIGQUERY.quote_name(name)}"


def _detach(con: BigQueryConnection, name: str, beside: TableRef) -> None:
    table = con.table_id(beside.schema, name)
    con.client.delete_table(table, not_found_ok=True, timeout=con.timeout)


#: what BigQuery (or Parquet into BigQuery) cannot take
_LOWERING = Lowering(
    text="string", nulls="text", uint64="decimal", views="plain", dates="date32",
    decimals="narrow", decimal_scale_max=38, finest="us", nested="items",
    large_lists="list",
)  # fmt: skip

BIGQUERY = Dialect(
    name="bigquery",
    case_insensitive_columns=True,
    schema_case="insensitive",  # a dataset may be case-insensitive (and is in the emulator)
    lowering=_LOWERING,
    type_names=_TYPE_NAMES,
    quote="`",
    escape="backslash",  # a backtick or backslash inside a name
    begin_sql=None,  # no DDL in BigQuery transactions: the replace is one atomic statement
    replace_rows_sql=(  # a partition's rows, replaced in one atomic statement too
        "MERGE {target} AS __wharf_t USING {source} ON FALSE "
        "WHEN NOT MATCHED BY SOURCE AND {where} THEN DELETE "
        "WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({columns})"
    ),
    create_schema_sql="",  # datasets are created through the API when a table is loaded
    replace_sql=(
        "CREATE OR REPLACE TABLE {target} OPTIONS(description = '{comment}') "
        "AS SELECT * FROM {stage}",
        "DROP TABLE IF EXISTS {stage}",
    ),
    comment_max=16_384,
    # a row-value IN is not BigQuery SQL: the keys are matched by a correlated EXISTS
    matched_sql="EXISTS (SELECT 1 FROM {source} AS __wharf_s WHERE {pairs})",
    tables_sql="SELECT table_name FROM {schema}.INFORMATION_SCHEMA.TABLES",
)
"""The BigQuery row: names quoted with backticks, values bound as ``?`` query parameters."""


class BigQueryConnector:
    """Opens BigQuery clients for a :class:`~wharf._stores.sql.SqlStore`.

    Args:
        project: the project that runs the jobs and holds the datasets.
        location: where jobs run and datasets are created (``"EU"``, ``"us-central1"``).
        credentials: a ``google.auth`` credentials object; None means Application Default
            Credentials, or anonymous ones when ``api_endpoint`` is set (a local emulator).
        api_endpoint: another BigQuery endpoint (``http://127.0.0.1:9050``).
        timeout: seconds for each job and API call.

    Examples:
        >>> BigQueryConnector("my-project", location="EU").project
        'my-project'
    """

    def __init__(
        self,
        project: str | None,
        *,
        location: str | None = None,
        credentials: Any = None,
        api_endpoint: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.project, self.location, self.credentials = project, location, credentials
        self.api_endpoint, self.timeout = api_endpoint, timeout
        self._known: set[str] = set()  # datasets seen to exist

    def client(self) -> Any:
        """A new ``bigquery.Client`` (the caller closes it)."""
        bigquery = _bigquery()
        kwargs: dict[str, Any] = {"project": self.project, "location": self.location}
        credentials = self.credentials
        if self.api_endpoint:
            options = require("google.api_core.client_options", purpose="the BigQuery store")
            kwargs["client_options"] = options.ClientOptions(api_endpoint=self.api_endpoint)
            if credentials is None:  # an emulator: never fall back to the metadata server
                credentials = require("google.auth.credentials").AnonymousCredentials()
        if credentials is not None:
            kwargs["credentials"] = credentials
        return bigquery.Client(**kwargs)

    def __call__(self) -> BigQueryConnection:
        client = self.client()
        return BigQueryConnection(client, self.location, self.timeout, self._known)


class BigQueryDriver(BaseDriver):
    """The :class:`~wharf._stores.driver.Driver` of BigQuery (``google-cloud-bigquery``): Arrow
    in as Parquet (one load job), out as a query's result pages; tables described by the
    tables API."""

    bulk_ingest = True
    execute = staticmethod(_execute)
    fetch = staticmethod(_fetch)
    ingest = staticmethod(_ingest)
    attach = staticmethod(_attach)
    detach = staticmethod(_detach)
    describe = staticmethod(_describe)
    errors = staticmethod(_errors)


def bigquery_store(
    connector: BigQueryConnector,
    *,
    schema_policy: SchemaPolicy = "error",
    batch_size: int = 100_000,
) -> SqlStore:
    """A table store on a BigQuery project.

    Examples:
        >>> store = bigquery_store(BigQueryConnector("my-project"))
        >>> store.location(TableRef("sales", "daily"))
        '`my-project`.`sales`.`daily`'
    """
    where = connector.project or "(default project)"
    if connector.api_endpoint:
        where += f" at {connector.api_endpoint}"
    return SqlStore(
        BIGQUERY,
        BigQueryDriver(connector),
        database=where,
        catalog=connector.project,
        schema_policy=schema_policy,
        batch_size=batch_size,
    )
