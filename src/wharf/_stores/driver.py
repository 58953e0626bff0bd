"""How :class:`~wharf._stores.sql.SqlStore` talks to one database's client: a :class:`Driver`.

What differs in SQL between databases is data (:class:`~wharf._stores.dialect.Dialect`); what
differs in their client libraries is a driver of a few methods. A driver opens connections,
runs a statement, streams a query as Arrow, loads an Arrow stream into a table
(:class:`~wharf._stores.base.TableRef`), describes a table where the database has an API for
it, and names the exceptions its client raises: the store translates exactly those into
:class:`~wharf.errors.StorageError` (``raise ... from exc``), once, at its boundary.

:class:`BaseDriver` gives the optional methods their defaults; a store's driver subclasses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from wharf._stores.base import TableRef

__all__ = ["BaseDriver", "Driver"]


class Driver(Protocol):
    """One database client, as :class:`~wharf._stores.sql.SqlStore` uses it.

    Attributes:
        bulk_ingest: whether a whole-table write loads its stream with :meth:`ingest` (one
            pass, straight into the stage table) rather than :meth:`attach` + the dialect's
            ``create_sql``.
        native_values: whether :meth:`attach_native` may read values of the database's own
            (DuckDB relations) without Arrow.
    """

    bulk_ingest: bool
    native_values: bool

    def connect(self, *, reading: bool = False) -> Any:
        """A new connection (the store closes it); ``reading``: for an operation that writes
        nothing (DuckDB opens a read-only file read-only)."""
        ...

    def close(self, con: Any) -> None:
        """Close a connection of :meth:`connect` (every close of the store's comes here)."""
        ...

    def execute(self, con: Any, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
        """Run one statement with bound ``params``; its rows (none for a statement without)."""
        ...

    def fetch(self, con: Any, sql: str, params: list[object], batch_size: int) -> Any:
        """Stream a query's rows as a ``pyarrow.RecordBatchReader``."""
        ...

    def ingest(self, con: Any, ref: TableRef, reader: Any) -> None:
        """Create the table ``ref`` from an Arrow stream, in one pass (where ``bulk_ingest``)."""
        ...

    def attach(self, con: Any, name: str, reader: Any, beside: TableRef) -> str:
        """Make an Arrow stream queryable as ``name`` (a view, a temporary table, a table
        beside ``beside``: the write's target) and return how SQL names it."""
        ...

    def detach(self, con: Any, name: str, beside: TableRef) -> None:
        """Undo :meth:`attach`."""
        ...

    def attach_native(self, con: Any, name: str, value: Any) -> str | None:
        """Make a value the database reads itself (a DuckDB relation on the same database)
        queryable as ``name`` without Arrow; None if it cannot (it is streamed instead)."""
        ...

    def describe(self, con: Any, ref: TableRef) -> tuple[list[str], str | None] | None:
        """The table's column names (in order; none if there is no table) and comment, from
        the database's own API; None to read them with the dialect's ``columns_sql`` and
        ``comment_get_sql``."""
        ...

    def errors(self) -> tuple[type[BaseException], ...]:
        """The exception classes the client raises (imported when asked)."""
        ...

    def lock_holder(self, exc: BaseException) -> str | None:
        """Who holds the lock, if ``exc`` means "locked" (the store retries then), else None."""
        ...


class BaseDriver:
    """A driver on a ``connector`` (a callable that opens a connection), with the optional
    :class:`Driver` methods' defaults: no bulk ingest, no native values, no describe API, no
    lock to wait for. A store's driver sets the others (often as ``staticmethod`` of its
    module's functions)."""

    bulk_ingest = False
    native_values = False

    def __init__(self, connector: Callable[[], Any]) -> None:
        self.connector = connector

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.connector!r})"

    def connect(self, *, reading: bool = False) -> Any:
        """A new connection from the connector (the same for reads)."""
        return self.connector()

    def close(self, con: Any) -> None:
        """``con.close()``."""
        con.close()

    def ingest(self, con: Any, ref: TableRef, reader: Any) -> None:
        """Not offered (``bulk_ingest`` is False)."""
        msg = f"{type(self).__name__} has no bulk ingest"
        raise NotImplementedError(msg)

    def attach_native(self, con: Any, name: str, value: Any) -> str | None:
        """None: every value is streamed through Arrow."""
        return None

    def describe(self, con: Any, ref: TableRef) -> tuple[list[str], str | None] | None:
        """None: columns and comment are read with the dialect's SQL."""
        return None

    def lock_holder(self, exc: BaseException) -> str | None:
        """None: no error means "locked"."""
        return None
