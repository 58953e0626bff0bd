"""DuckDB as a table store: its :class:`~wharf._stores.dialect.Dialect` row and connections.

Arrow goes in through a registered view over the incoming ``RecordBatchReader`` (DuckDB scans it
without a copy in Python) and comes out through ``con.sql(...).to_arrow_reader()``.

A database file can be open for writing in one process at a time. Each operation opens and
closes its own connection, so processes take turns; a connection refused because another
process holds the file is retried for ``lock_timeout`` seconds, first come first served among
wharf processes (:mod:`wharf._stores.turns`), then :class:`~wharf.errors.StoreLockedError`
names the file and the holder (with its PID).
``":memory:"`` is one in-memory database per :class:`DuckDBConnector`; each operation gets a
cursor on it.

What does not round-trip exactly (everything else comes back as written, because the written
Arrow schema and categorical dictionaries are kept in the table comment):

- ``month_day_nano_interval``: DuckDB's INTERVAL keeps microseconds; nanoseconds are lost.
- ``list_view`` / ``large_list_view`` come back as ``list`` (Arrow cannot cast back); any
  other type Arrow cannot cast back also reads as DuckDB returns it.
- Types DuckDB cannot hold are stored as another type and restored on read, but SQL sees the
  stand-in: ``float16`` as FLOAT, ``duration`` as BIGINT (a count of its unit), ``decimal256``
  as DECIMAL (precision <= 38) or VARCHAR, extension types (``arrow.uuid``) as their storage
  type (BLOB). Inside lists and structs these fail the write.
- Column names that differ only in case cannot share a table (DuckDB names are case-insensitive):
  such data fails the write, naming both columns.
- A table not written by wharf (no comment) reads with DuckDB's own types: TIMESTAMPTZ in UTC,
  categoricals as strings, large types as their normal variants.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from wharf._deps import require
from wharf._stores.base import Partition, SchemaPolicy, TableRef
from wharf._stores.dialect import Dialect, Lowering
from wharf._stores.driver import BaseDriver
from wharf._stores.sql import SqlStore

__all__ = ["DUCKDB", "DuckDBConnector", "DuckDBDriver", "DuckDBStore", "duckdb_store"]

_LOCK = re.compile(
    r"Could not set lock on file .*?(?:Conflicting lock is held in (.+?)(?:\. See|$)|$)"
)


def _duckdb() -> Any:
    return require("duckdb", purpose="the DuckDB store")


def _attach(con: Any, name: str, reader: Any, beside: TableRef) -> str:
    con.register(name, reader)
    return DUCKDB.quote_name(name)


def _attach_native(con: Any, name: str, value: Any) -> str | None:
    """Register a DuckDB relation as a view when it reads this connection's database.

    DuckDB refuses (``InvalidInputException``) a relation of another database; the caller then
    streams it through Arrow.
    """
    duckdb = _duckdb()
    if not isinstance(value, duckdb.DuckDBPyRelation):
        return None
    try:
        con.register(name, value)
    except duckdb.InvalidInputException:
        return None
    return DUCKDB.quote_name(name)


def _detach(con: Any, name: str, beside: TableRef) -> None:
    con.unregister(name)


def _fetch(con: Any, sql: str, params: list[object], batch_size: int) -> Any:
    return con.sql(sql, params=params or None).to_arrow_reader(batch_size)


def _execute(con: Any, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = con.execute(sql, params).fetchall()
    return rows


def _errors() -> tuple[type[BaseException], ...]:
    return (_duckdb().Error,)


def _lock_holder(exc: BaseException) -> str | None:
    found = _LOCK.search(str(exc))
    if found is None:
        return None
    return found.group(1) or "another process"


_TYPE_NAMES = {
    "null": "INTEGER",
    "bool": "BOOLEAN",
    **{
        f"int{n}": t for n, t in [(8, "TINYINT"), (16, "SMALLINT"), (32, "INTEGER"), (64, "BIGINT")]
    },
    **{
        f"uint{n}": f"U{t}"
        for n, t in [(8, "TINYINT"), (16, "SMALLINT"), (32, "INTEGER"), (64, "BIGINT")]
    },
    "float": "FLOAT",
    "double": "DOUBLE",
    **dict.fromkeys(["string", "large_string", "string_view"], "VARCHAR"),
    **dict.fromkeys(["binary", "large_binary", "binary_view"], "BLOB"),
    **dict.fromkeys(["date32[day]", "date64[ms]"], "DATE"),
    **dict.fromkeys(["time32[s]", "time32[ms]", "time64[us]"], "TIME"),
    "time64[ns]": "TIME_NS",
    "timestamp[s]": "TIMESTAMP_S",
    "timestamp[ms]": "TIMESTAMP_MS",
    "timestamp[us]": "TIMESTAMP",
    "timestamp[ns]": "TIMESTAMP_NS",
    **dict.fromkeys(["timestamp[s, tz]", "timestamp[ms, tz]", "timestamp[us, tz]"], "TIMESTAMPTZ"),
    "timestamp[ns, tz]": "TIMESTAMPTZ_NS",
    "decimal": "DECIMAL({precision},{scale})",
    "list": "{item}[]",
    "struct": "STRUCT({fields})",
}


DUCKDB = Dialect(
    name="duckdb",
    case_insensitive_columns=True,
    schema_case="insensitive",
    table_case="insensitive",
    columns_sql=(  # duckdb_columns(): a third of information_schema.columns' time
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?) "
        "ORDER BY column_index"
    ),
    # extension types as their storage, float16 as FLOAT, durations as BIGINT, decimal256 as
    # DECIMAL (precision <= 38) or VARCHAR; categoricals are read as they are
    lowering=Lowering(text="string", dictionaries="keep", decimals="narrow_or_text"),
    type_names=_TYPE_NAMES,
    comment_get_sql=(
        "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
        "AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?)"
    ),
    comment_set_sql="COMMENT ON TABLE {target} IS '{text}'",
    qualify_catalog=True,
    copy_source_sql="CREATE TEMP TABLE {stage} AS SELECT * FROM {source}",
    values_list_sql="{column} IN (SELECT UNNEST({param}))",
    tables_sql=(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND lower(schema_name) = lower(?)"
    ),
)
"""The DuckDB row: names are quoted with ``"``, values bound with ``?``."""


@contextmanager
def _file_guard(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the database's folder while DuckDB opens or closes it.

    DuckDB's own lock (``fcntl`` on the file) leaves two gaps that lose data, both closed here
    for every wharf process on the machine:

    - Opening: DuckDB reads the file's headers *before* it takes its lock (seen with strace on
      DuckDB 2.0). A process whose open raced another's close took the lock right after that
      close had written new headers, but used the old ones it had read: its own write then
      dropped the table the closer had just committed (8 processes writing 8 tables into one
      file under load lost one table in about 1 round of 20, every process reporting success).
    - Creating: DuckDB creates the file, then locks it; a second process that opened it in
      between found it empty and failed with "not a valid DuckDB database file".

    Closing (:meth:`DuckDBDriver.close`) is where a connection checkpoints: writes the new
    headers, then releases DuckDB's lock. With the guard around both, no open overlaps a close.
    The folder is locked rather than a file of wharf's own, so nothing is created beside the
    database and a read-only mount still works; other databases in the same folder wait only
    while one of them opens or checkpoints."""
    if os.name != "posix":
        yield
        return
    import fcntl

    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:  # no folder, or one that cannot be read: DuckDB's open reports it
        yield
        return
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)  # releases the flock


class DuckDBConnector:
    """Opens DuckDB connections for a :class:`~wharf._stores.sql.SqlStore`.

    A file database gets a new connection per call (closed by the store), so the file is open
    only while in use. ``":memory:"`` gets a cursor on one database kept by this object.

    Args:
        database: a file path, or ``":memory:"``.
        config: passed to ``duckdb.connect(config=...)`` (e.g. ``{"threads": 2}``).

    Examples:
        >>> DuckDBConnector("data/sales.duckdb").catalog
        'sales'
        >>> con = DuckDBConnector(":memory:")()
        >>> con.sql("SELECT 42").fetchall()
        [(42,)]
    """

    def __init__(
        self, database: str | os.PathLike[str] = ":memory:", config: dict[str, Any] | None = None
    ) -> None:
        self.database = os.fspath(database)
        self.config = dict(config or {})
        self._root: Any = None
        self._guard = threading.Lock()

    @property
    def in_memory(self) -> bool:
        """Whether this is an in-memory database."""
        return self.database == ":memory:"

    @property
    def catalog(self) -> str:
        """DuckDB's name for the database: the file name up to its first dot, or ``memory``."""
        # DuckDB names the catalog after the file name up to its first dot
        return "memory" if self.in_memory else Path(self.database).name.split(".")[0]

    def __call__(self) -> Any:
        duckdb = _duckdb()
        if not self.in_memory:
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
            with _file_guard(Path(self.database)):
                return duckdb.connect(self.database, config=self.config)
        with self._guard:
            if self._root is None:
                self._root = duckdb.connect(":memory:", config=self.config)
            return self._root.cursor()

    def reader(self) -> Any:
        """A connection for a load: read-write like the others (one process may not mix
        both modes on one file), but read-only where the file cannot be written (a read-only
        mount, a file without write permission)."""
        duckdb = _duckdb()
        if self.in_memory:
            return self()
        with suppress(OSError):  # a read-only place fails below, naming the file
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            with _file_guard(Path(self.database)):
                return duckdb.connect(self.database, config=self.config)
        except duckdb.IOException as exc:
            text = str(exc)
            if "Read-only file system" not in text and "Permission denied" not in text:
                raise
            return duckdb.connect(self.database, read_only=True, config=self.config)

    def close(self, con: Any) -> None:
        """Close a connection this connector opened: where it checkpoints (writes the
        database's new headers, then releases DuckDB's lock), under :func:`_file_guard`, so no
        other wharf process opens the file halfway through."""
        if self.in_memory:
            con.close()
            return
        with _file_guard(Path(self.database)):
            con.close()


class DuckDBDriver(BaseDriver):
    """The :class:`~wharf._stores.driver.Driver` of DuckDB: Arrow in through a registered view
    over the stream, out through ``to_arrow_reader``; its relations are native values."""

    native_values = True

    def __init__(self, connector: DuckDBConnector) -> None:
        super().__init__(connector)
        self.duckdb = connector

    def connect(self, *, reading: bool = False) -> Any:
        """A connection; for a read, read-only where the file cannot be written."""
        return self.duckdb.reader() if reading else self.duckdb()

    def close(self, con: Any) -> None:
        """Close ``con`` with no other wharf process opening the file meanwhile."""
        self.duckdb.close(con)

    execute = staticmethod(_execute)
    fetch = staticmethod(_fetch)
    attach = staticmethod(_attach)
    detach = staticmethod(_detach)
    attach_native = staticmethod(_attach_native)
    errors = staticmethod(_errors)
    lock_holder = staticmethod(_lock_holder)


class DuckDBStore(SqlStore):
    """The :class:`SqlStore` on DuckDB, with its relations as native values
    (:class:`~wharf._stores.base.NativeTables`)."""

    native_adapter = "duckdb"

    @contextmanager
    def kept_open(self) -> Iterator[None]:
        """The database file open for the block (:class:`~wharf._stores.base.KeptOpen`): a
        connection opened while another is open joins the open database (DuckDB opens a file
        once per process), so a schema read and the write that follows open it once. The
        connection held waits for the file's lock as any other; nothing runs on it."""
        if self.database == ":memory:":  # cursors on one database already
            yield
            return
        with self._session("open the database"):
            yield

    def read_native(
        self,
        ref: TableRef,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
    ) -> Any:
        """A ``DuckDBPyRelation`` on the table itself: nothing is read until it is used, and
        storing it (or a relation built on it) copies inside DuckDB."""
        with self.reading(ref) as session:
            return session.read_native(columns=columns, partition=partition)

    @staticmethod
    def native_value(con: Any, sql: str, params: list[object]) -> Any:
        """The relation of a bound ``SELECT`` on ``con`` (which the relation keeps open)."""
        return con.sql(sql, params=params or None)


def duckdb_store(
    database: str | os.PathLike[str] = ":memory:",
    *,
    connection_config: dict[str, Any] | None = None,
    lock_timeout: float = 30.0,
    schema_policy: SchemaPolicy = "error",
) -> DuckDBStore:
    """A table store on a DuckDB database file (or ``":memory:"``).

    Examples:
        >>> import pyarrow as pa
        >>> from wharf._stores.base import TableRef
        >>> store = duckdb_store(":memory:")
        >>> store.write(TableRef("public", "t"), pa.table({"a": [1, 2]}).to_reader()).row_count
        2
        >>> store.read(TableRef("public", "t"), columns=["a"]).read_all().column("a").to_pylist()
        [1, 2]
    """
    connector = DuckDBConnector(database, connection_config)
    where = connector.database if connector.in_memory else str(Path(connector.database).resolve())
    return DuckDBStore(
        DUCKDB,
        DuckDBDriver(connector),
        database=where,
        catalog=connector.catalog,
        schema_policy=schema_policy,
        lock_timeout=lock_timeout,
    )
