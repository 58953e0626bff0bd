"""What every table store speaks: Arrow record batches in, Arrow record batches out.

A table store keeps named tables (:class:`TableRef`) and moves data as a
``pyarrow.RecordBatchReader`` in both directions, so a value larger than memory streams through.
Writes are atomic: a whole-table write replaces the table, a partition write replaces the rows a
:class:`PartitionFilter` selects; a failure at any point leaves the previous value readable.

This module imports neither pyarrow nor any database client.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from wharf._deps import require
from wharf.errors import AssetTypeError, DefinitionError, StorageError, UnsafeNameError, WharfError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    import pyarrow as pa

    from wharf._core.stored_versions import StoredVersion

__all__ = [
    "NativeTables",
    "Partition",
    "PartitionFilter",
    "ReadSessions",
    "SchemaPolicy",
    "StoreReading",
    "TableReading",
    "TableRef",
    "TableStore",
    "VersionedTables",
    "WriteMode",
    "WriteResult",
    "as_filters",
    "as_reader",
    "check_name",
    "check_write_mode",
    "column_diff",
    "describe_filters",
    "schema_dict",
    "store_errors",
    "reading",
    "stream",
    "takes_native",
]

SchemaPolicy = Literal["error", "evolve"]
"""What a partition write does when the data's columns differ from the stored table's:
``"error"`` raises a :class:`~wharf.errors.StorageError` showing the diff, ``"evolve"`` adds the
new columns (old rows get nulls) and fills columns the data lacks with nulls."""


WriteMode = Literal["replace", "append", "merge"]
"""How a write treats the rows already stored (in the table, or in the partition written):
``"replace"`` (the default) replaces them, ``"append"`` adds the new rows beside them,
``"merge"`` replaces the stored rows whose ``merge_keys`` match a new row and adds the others."""

WRITE_MODES: tuple[str, ...] = ("replace", "append", "merge")


def check_write_mode(mode: object, merge_keys: object) -> tuple[str, tuple[str, ...]]:
    """``(mode, merge_keys)`` checked: a known mode; merge keys (distinct column names) exactly
    when the mode is ``"merge"``.

    Examples:
        >>> check_write_mode("merge", ["id"])
        ('merge', ('id',))
        >>> check_write_mode("upsert", None)
        Traceback (most recent call last):
        ...
        wharf.errors.DefinitionError: write_mode 'upsert' is not one of 'replace', 'append', 'merge'
    """
    if mode not in WRITE_MODES:
        known = ", ".join(repr(m) for m in WRITE_MODES)
        msg = f"write_mode {mode!r} is not one of {known}"
        raise DefinitionError(msg, expected=known, got=repr(mode))
    if merge_keys is None or merge_keys == ():
        keys: tuple[str, ...] = ()
    elif isinstance(merge_keys, str) or not isinstance(merge_keys, Sequence):
        msg = f"merge_keys must be a list of column names, got {merge_keys!r}"
        raise DefinitionError(msg, expected="a list of column names", got=repr(merge_keys))
    else:
        keys = tuple(check_name(k, "merge key column") for k in merge_keys)
    if mode == "merge" and not keys:
        msg = "write_mode 'merge' needs merge_keys=[...], the columns that identify a row"
        raise DefinitionError(msg, expected="merge_keys", got="no merge keys")
    if mode != "merge" and keys:
        msg = f"merge_keys {list(keys)} are only for write_mode 'merge', not {mode!r}"
        raise DefinitionError(msg, expected="write_mode='merge'", got=repr(mode))
    if len(set(keys)) != len(keys):
        msg = f"merge_keys {list(keys)} name a column twice"
        raise DefinitionError(msg, expected="distinct columns", got=str(list(keys)))
    return str(mode), keys


@dataclass(frozen=True)
class TableRef:
    """Where a table lives: a schema (namespace) and a table name.

    Examples:
        >>> TableRef("public", "raw_sales_data").display()
        'public.raw_sales_data'
    """

    schema: str
    table: str

    def display(self) -> str:
        """The ``schema.table`` text used in metadata and error messages."""
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class PartitionFilter:
    """The rows of one or more partitions: ``column IN values`` and/or ``start <= column < end``.

    Values are always bound as parameters, never pasted into SQL. ``None`` among ``values``
    selects rows where the column is null.

    Examples:
        >>> PartitionFilter("region", values=("eu", "us")).describe()
        "region IN ('eu', 'us')"
        >>> PartitionFilter("day", start="2024-01-01", end="2024-01-02").describe()
        "'2024-01-01' <= day < '2024-01-02'"
    """

    column: str
    values: tuple[object, ...] | None = None
    start: object | None = None
    end: object | None = None
    #: SQL stores: the ``partition_expr`` to filter on in place of the column, rendered from its
    #: parsed tree (:mod:`wharf._io.partition_expr`), never text a user wrote
    sql: str | None = None

    def __post_init__(self) -> None:
        if self.values is not None and not isinstance(self.values, tuple):
            object.__setattr__(self, "values", tuple(self.values))
        if self.values is None and self.start is None and self.end is None:
            msg = f"PartitionFilter on column {self.column!r} needs values, a start or an end"
            raise DefinitionError(msg, expected="values or start/end", got="nothing")

    def describe(self) -> str:
        """A readable form of the filter for messages (not SQL)."""
        parts, on = [], self.sql or self.column
        if self.values is not None:
            parts.append(f"{on} IN ({', '.join(_show(v) for v in self.values)})")
        if self.start is not None or self.end is not None:
            low = "" if self.start is None else f"{_show(self.start)} <= "
            high = "" if self.end is None else f" < {_show(self.end)}"
            parts.append(f"{low}{on}{high}")
        return " AND ".join(parts)


def _show(value: object) -> str:
    """A value for messages: dates and times in ISO form (``'2024-01-01'``), others as repr."""
    iso = getattr(value, "isoformat", None)
    return repr(iso()) if callable(iso) else repr(value)


Partition = PartitionFilter | Sequence[PartitionFilter]
"""The rows of a partition: one filter, or several that must all hold (one per dimension of a
multi-partitioned asset, e.g. ``day`` in a range AND ``region IN ('eu')``)."""


def as_filters(partition: Partition | None) -> tuple[PartitionFilter, ...]:
    """The filters of ``partition`` as a tuple (empty: the whole table).

    Examples:
        >>> as_filters(PartitionFilter("k", values=("a",)))
        (PartitionFilter(column='k', values=('a',), start=None, end=None, sql=None),)
        >>> as_filters(None)
        ()
    """
    if partition is None:
        return ()
    if isinstance(partition, PartitionFilter):
        return (partition,)
    filters = tuple(partition)
    for f in filters:
        if not isinstance(f, PartitionFilter):
            msg = f"a partition is a PartitionFilter or a sequence of them, got {f!r}"
            raise DefinitionError(msg, expected="PartitionFilter", got=type(f).__name__)
    return filters


def describe_filters(partition: Partition | None) -> str:
    """Every filter of ``partition``, joined with AND, for messages."""
    return " AND ".join(f.describe() for f in as_filters(partition)) or "the whole table"


@dataclass(frozen=True)
class WriteResult:
    """What a write stored, reported as metadata with the same keys for every store.

    Examples:
        >>> WriteResult(2, {"a": "int64"}, '"main"."public"."t"').row_count
        2
    """

    row_count: int
    schema: dict[str, str]
    location: str
    bytes: int | None = None


@runtime_checkable
class TableStore(Protocol):
    """A place that keeps Arrow tables. See the module docstring for the guarantees."""

    name: str

    def write(
        self,
        ref: TableRef,
        data: pa.RecordBatchReader,
        *,
        partition: Partition | None = None,
        mode: WriteMode = "replace",
        merge_keys: Sequence[str] = (),
    ) -> WriteResult:
        """Replace the table (or the rows ``partition`` selects) with ``data``, atomically; or
        add the rows (``mode="append"``), or upsert them by ``merge_keys`` (``mode="merge"``).

        Every row of a partition write must lie inside ``partition`` (all its filters); the
        rows of other partitions are untouched. A store that keeps only whole values (files)
        has no ``mode``: the I/O manager refuses append and merge before calling it.
        """
        ...

    def read(
        self,
        ref: TableRef,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        """Stream the table (only ``columns``, only the rows ``partition`` selects, at most
        ``limit`` rows: the store stops reading there, e.g. SQL ``LIMIT``)."""
        ...

    def schema(self, ref: TableRef) -> pa.Schema:
        """The stored table's Arrow schema, reading no rows."""
        ...

    def exists(self, ref: TableRef) -> bool:
        """Whether the table is stored."""
        ...

    def delete(self, ref: TableRef) -> None:
        """Remove the table; removing a missing table does nothing."""
        ...

    def location(self, ref: TableRef) -> str:
        """The fully qualified table name or the URI where the table is kept."""
        ...


@runtime_checkable
class NativeTables(Protocol):
    """An optional capability of a :class:`TableStore` whose database has lazy values of its
    own (DuckDB: a relation). :meth:`TableStore.write` then also takes such a value as itself (a
    relation on the same database is copied inside it; another is streamed through Arrow), and
    an input annotated with that type is a lazy value on the stored table, read when used.

    A store whose lazy value is a reader of its files rather than a value it can write (Delta
    Lake and Iceberg: a ``polars.LazyFrame`` scan) sets ``native_writes = False``: such values
    are then stored through Arrow like any other (:func:`takes_native`)."""

    #: the frame adapter of the database's own values (``"duckdb"``, ``"polars-lazy"``)
    native_adapter: str

    def read_native(
        self,
        ref: TableRef,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
    ) -> Any:
        """A lazy value of the database on the table (``columns``, the rows of ``partition``);
        nothing is read until it is used."""
        ...


def takes_native(store: object, adapter: str, *, writing: bool = False) -> bool:
    """Whether ``store`` reads (``writing``: writes) values of the frame adapter ``adapter`` as
    its own lazy values (:class:`NativeTables`) rather than through Arrow.

    Examples:
        >>> takes_native(object(), "duckdb")
        False
    """
    if not isinstance(store, NativeTables) or store.native_adapter != adapter:
        return False
    return not writing or bool(getattr(store, "native_writes", True))


@runtime_checkable
class VersionedTables(Protocol):
    """An optional capability of a :class:`TableStore` that keeps every earlier version of a
    table (Delta Lake commits, Iceberg snapshots). Its :meth:`TableStore.write` also takes
    ``run_id=``, kept with the version the write makes."""

    def versions(self, ref: TableRef) -> list[StoredVersion]:
        """The table's versions, newest first (a missing table: ``StoredValueNotFoundError``)."""
        ...

    def at_version(self, ref: TableRef, version: int) -> TableStore:
        """A read-only view of this store in which ``ref`` reads as it was at ``version``."""
        ...


class TableReading(Protocol):
    """Reads of one stored table together: a load of many partitions takes its schema, finds
    the missing partitions and reads the rows through one of these. A store with connections
    (:class:`ReadSessions`) runs them all on one connection; any other store gives
    :class:`StoreReading`. Reads run one after another: a read's stream is done (or closed)
    before the next read starts."""

    ref: TableRef

    @property
    def schema(self) -> pa.Schema:
        """The table's Arrow schema, reading no rows."""
        ...

    def read(
        self,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        """As :meth:`TableStore.read` of the session's table."""
        ...

    def read_native(
        self, *, columns: Sequence[str] | None = None, partition: Partition | None = None
    ) -> Any:
        """As :meth:`NativeTables.read_native` of the session's table (stores that have it)."""
        ...


@runtime_checkable
class ReadSessions(Protocol):
    """An optional capability of a :class:`TableStore` whose reads cost a connection each
    (SQL databases): :meth:`reading` gives one :class:`TableReading` for several reads of a
    table; a missing table raises ``StoredValueNotFoundError`` when it starts."""

    def reading(self, ref: TableRef) -> AbstractContextManager[TableReading]:
        """A session of reads of ``ref``, ended when the block ends (a stream it gave stays
        readable until it is done)."""
        ...


@runtime_checkable
class KeptOpen(Protocol):
    """An optional capability of a :class:`TableStore` whose every connection opens the
    database anew (a DuckDB file: ~15 ms of CPU each): :meth:`kept_open` keeps the database
    open for a block, so the block's sessions (a schema read, then the write) join it instead
    of opening it again. The block holds the database as one of its sessions would."""

    def kept_open(self) -> AbstractContextManager[None]:
        """The database open until the block ends."""
        ...


class StoreReading:
    """The :class:`TableReading` of a store without sessions: each call is the store's own."""

    def __init__(self, store: TableStore, ref: TableRef) -> None:
        self._store, self.ref = store, ref
        self._schema: pa.Schema | None = None

    @property
    def schema(self) -> pa.Schema:
        if self._schema is None:
            self._schema = self._store.schema(self.ref)
        return self._schema

    def read(
        self,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        return self._store.read(self.ref, columns=columns, partition=partition, limit=limit)

    def read_native(
        self, *, columns: Sequence[str] | None = None, partition: Partition | None = None
    ) -> Any:
        store: Any = self._store
        return store.read_native(self.ref, columns=columns, partition=partition)


@contextmanager
def reading(store: TableStore, ref: TableRef) -> Iterator[TableReading]:
    """A :class:`TableReading` of ``ref``: the store's own session (:class:`ReadSessions`),
    else :class:`StoreReading`."""
    if isinstance(store, ReadSessions):
        with store.reading(ref) as session:
            yield session
    else:
        yield StoreReading(store, ref)


def check_name(name: str, what: str) -> str:
    """Return ``name`` if it can be a table, schema or column name, else raise.

    Examples:
        >>> check_name("select", "column")
        'select'
        >>> check_name("a\\x00b", "column")
        Traceback (most recent call last):
        ...
        wharf.errors.UnsafeNameError: column name 'a\\x00b' contains a NUL character
    """
    if not isinstance(name, str) or not name:
        msg = f"{what} name {name!r} must be a non-empty string"
        raise UnsafeNameError(msg, expected="a non-empty string", got=repr(name))
    if "\x00" in name:
        msg = f"{what} name {name!r} contains a NUL character"
        raise UnsafeNameError(msg, expected="no NUL character", got=repr(name))
    return name


def as_reader(data: object) -> pa.RecordBatchReader:
    """Accept a ``RecordBatchReader`` or anything exporting ``__arrow_c_stream__``."""
    pa = require("pyarrow", purpose="table stores")
    if isinstance(data, pa.RecordBatchReader):
        return data
    if isinstance(data, pa.Table):  # not via the C stream, which cuts names at a NUL
        return data.to_reader()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(data)
    msg = f"a table store needs an Arrow record batch stream, got {type(data).__name__}"
    raise AssetTypeError(msg, expected="pyarrow.RecordBatchReader", got=type(data).__name__)


def schema_dict(schema: pa.Schema) -> dict[str, str]:
    """Column name -> Arrow type name, for :attr:`WriteResult.schema`."""
    return {field.name: str(field.type) for field in schema}


def column_diff(stored: Iterable[str], incoming: Iterable[str]) -> str:
    """Describe how two column lists differ, by name.

    Examples:
        >>> column_diff(["a", "b"], ["b", "c"])
        "only in the stored table: ['a']; only in the new data: ['c']"
    """
    old, new = list(stored), list(incoming)
    gone = [c for c in old if c not in new]
    added = [c for c in new if c not in old]
    return f"only in the stored table: {gone}; only in the new data: {added}"


@contextmanager
def store_errors(
    message: str,
    errors: Callable[[], tuple[type[BaseException], ...]],
    source_error: Callable[[], BaseException | None] = lambda: None,
) -> Iterator[None]:
    """Translate a driver's exceptions into :class:`StorageError`, once, at the store boundary.

    ``errors`` is called only when something was raised (driver modules are imported lazily).
    If the incoming data stream raised (``source_error``), that exception is the cause; a
    ``KeyboardInterrupt`` (or another exception that is not an ``Exception``) raised there is
    raised again as it is, so Ctrl-C stops the run on every store.

    Examples:
        >>> with store_errors("demo could not write t", lambda: (KeyError,)):
        ...     raise KeyError("x")
        Traceback (most recent call last):
        ...
        wharf.errors.StorageError: demo could not write t: 'x'
    """
    try:
        yield
    except WharfError:
        raise
    except errors() as exc:
        source = source_error()
        if isinstance(source, WharfError):  # refused inside the stream (a value it cannot keep)
            raise source from exc
        if source is not None and not isinstance(source, Exception):  # Ctrl-C stops the run
            raise source from exc
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if source is not None:
            detail = f"the incoming data stream raised {source!r}"
        msg = f"{message}: {detail}"
        raise StorageError(msg, expected="the store to accept the operation", got=detail) from (
            source or exc
        )


def stream(
    schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    close: Callable[[], object],
    message: str,
    errors: Callable[[], tuple[type[BaseException], ...]],
) -> pa.RecordBatchReader:
    """Wrap ``batches`` in a reader that calls ``close`` exactly once: when exhausted, on error,
    or when the reader is garbage-collected (even if never read).

    Examples:
        >>> import pyarrow as pa
        >>> closed = []
        >>> batch = pa.record_batch({"a": [1, 2]})
        >>> r = stream(batch.schema, iter([batch]), lambda: closed.append(1), "m", lambda: ())
        >>> r.read_all().num_rows, closed
        (2, [1])
    """
    pa = require("pyarrow", purpose="table stores")
    done: list[Any] = []

    def generate() -> Iterator[Any]:
        try:
            with store_errors(message, errors):
                yield from batches
        finally:
            done[0]()

    gen = generate()
    done.append(weakref.finalize(gen, close))
    return pa.RecordBatchReader.from_batches(schema, gen)
