"""Dagster's type handlers for table I/O managers: :class:`DbTypeHandler`, :class:`TableSlice`,
:class:`TablePartitionDimension`, and the built-in handlers (the Arrow path).

A table I/O manager handles the types its ``type_handlers()`` name, tried in order:

- a built-in :class:`FrameTypeHandler` (``DuckDBPandasTypeHandler``,
  ``SnowflakePySparkTypeHandler``, ...) names frame adapters; its values go through Arrow and
  the store's own write (streamed, atomic, the written schema kept). The default
  ``type_handlers()`` is one handler for every frame type.
- a user's :class:`DbTypeHandler` for another type (a numpy array, a class of its own) writes the
  value itself, over the connection it is given, into the table its :class:`TableSlice` names.
  That table is a fresh one wharf names (``__wharf_src_...``, in the asset's schema); once the
  handler returns, the store moves its rows into the asset's table with the same atomic write as
  a dataframe's (replace, partition, ``append``, ``merge``; the rows-outside-the-partition check
  included; its columns named as the table names them, ignoring case, as a frame's are) and
  drops it. A handler that raises leaves the table as it was; one killed mid-write
  leaves its staged table, which a later staging in that schema drops once it is
  ``SqlStore.stale_after`` old (every SQL store lists a schema's tables). On load, the
  handler reads the asset's own table (``TableSlice`` with its columns and partitions).

Which handler loads an input: the one whose types include the input's annotation; an input
without one loads as ``default_load_type()`` (a type, as in Dagster) or, when that is None and
there is a single handler of a single type, as that type.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeVar

from wharf._core.typecheck import type_name
from wharf._frames import adapter_for_annotation, adapter_for_value
from wharf._frames.registry import ADAPTERS, adapter_named
from wharf.errors import AssetTypeError, StorageError

if TYPE_CHECKING:
    from wharf._frames.base import FrameAdapter

__all__ = [
    "DbTypeHandler",
    "FrameTypeHandler",
    "TablePartitionDimension",
    "TableSlice",
    "frame_handler",
    "handler_for_load",
    "handler_for_value",
    "is_frame_path",
]

T = TypeVar("T")

#: how an input that names no type is annotated
_UNANNOTATED: tuple[object, ...] = (Any, object, None)


class TablePartitionDimension(NamedTuple):
    """One partition dimension of a :class:`TableSlice`: the ``partition_expr`` that holds it
    and the partitions asked for (a :class:`~wharf.TimeWindow`, or a list of partition keys)."""

    partition_expr: str
    partitions: Any


class TableSlice(NamedTuple):
    """The table (and part of it) a type handler writes or reads.

    Examples:
        >>> TableSlice(table="orders", schema="sales").columns is None
        True
    """

    table: str
    schema: str
    database: str | None = None
    columns: Sequence[str] | None = None
    partition_dimensions: Sequence[TablePartitionDimension] | None = None


class DbTypeHandler(ABC, Generic[T]):
    """Stores and loads values of ``supported_types`` in a database table (Dagster's contract).

    Examples:
        >>> class Tuples(DbTypeHandler[tuple]):
        ...     def handle_output(self, context, table_slice, obj, connection):
        ...         connection.execute(
        ...             f'CREATE TABLE "{table_slice.schema}"."{table_slice.table}" (x BIGINT)')
        ...         connection.executemany(
        ...             f'INSERT INTO "{table_slice.schema}"."{table_slice.table}" VALUES (?)',
        ...             [[x] for x in obj])
        ...     def load_input(self, context, table_slice, connection):
        ...         sql = f'SELECT x FROM "{table_slice.schema}"."{table_slice.table}"'
        ...         return tuple(x for (x,) in connection.execute(sql).fetchall())
        ...     @property
        ...     def supported_types(self):
        ...         return [tuple]
        >>> Tuples().supported_types
        [<class 'tuple'>]
    """

    @abstractmethod
    def handle_output(
        self, context: Any, table_slice: TableSlice, obj: T, connection: Any
    ) -> Mapping[str, Any] | None:
        """Create the table ``table_slice`` names and write ``obj`` into it; return metadata."""

    @abstractmethod
    def load_input(self, context: Any, table_slice: TableSlice, connection: Any) -> T:
        """Read the rows (and columns) ``table_slice`` names as a value of this handler's type."""

    @property
    @abstractmethod
    def supported_types(self) -> Sequence[type[object]]:
        """The types this handler stores and loads."""


class FrameTypeHandler(DbTypeHandler[Any]):
    """A built-in handler: values of its frame types are stored and loaded by the I/O manager
    through Arrow (streamed, atomic, schema kept); ``adapters`` names the frame adapters.

    Examples:
        >>> FrameTypeHandler().type_names()[:2]
        ['pandas.DataFrame', 'polars.DataFrame']
    """

    adapters: ClassVar[tuple[str, ...]] = tuple(a.name for a in ADAPTERS)

    def handle_output(
        self, context: Any, table_slice: TableSlice, obj: Any, connection: Any
    ) -> Mapping[str, Any] | None:
        """Not called: the I/O manager stores these values itself."""
        raise StorageError(self._direct("store"), expected="the I/O manager", got="a direct call")

    def load_input(self, context: Any, table_slice: TableSlice, connection: Any) -> Any:
        """Not called: the I/O manager loads these values itself."""
        raise StorageError(self._direct("load"), expected="the I/O manager", got="a direct call")

    def _direct(self, verb: str) -> str:
        return (
            f"{type(self).__name__} is a built-in handler: its I/O manager {verb}s "
            f"{', '.join(self.type_names())} through Arrow itself; return the handler from "
            "type_handlers() instead of calling it (a handler of your own subclasses DbTypeHandler)"
        )

    @property
    def supported_types(self) -> Sequence[type[object]]:
        """The frame classes (their libraries are imported here)."""
        import importlib

        found = []
        for name in self.type_names():
            module, _, cls = name.rpartition(".")
            try:
                found.append(getattr(importlib.import_module(module), cls))
            except ImportError:
                continue  # a library that is not installed: no value can be of its type
        return found

    def type_names(self) -> list[str]:
        """Names of the handled types, for messages; imports nothing."""
        return [n for a in self.adapters for n in adapter_named(a).type_names()]


def frame_handler(name: str, adapters: tuple[str, ...], doc: str) -> type[FrameTypeHandler]:
    """A named built-in handler class (``DuckDBPandasTypeHandler``) for ``adapters``."""
    return type(name, (FrameTypeHandler,), {"adapters": adapters, "__doc__": doc})


def is_frame_path(handler: DbTypeHandler[Any]) -> bool:
    """Whether the I/O manager stores ``handler``'s values through Arrow itself: a built-in
    handler whose ``handle_output`` is not overridden."""
    return isinstance(handler, FrameTypeHandler) and (
        type(handler).handle_output is FrameTypeHandler.handle_output
    )


def _handlers(manager: Any) -> list[DbTypeHandler[Any]]:
    handlers = list(type(manager).type_handlers())
    for h in handlers:
        if not isinstance(h, DbTypeHandler):
            name = type(manager).__name__
            msg = (
                f"{name}.type_handlers() returned {type_name(type(h))}: expected DbTypeHandler "
                "instances (such as DuckDBPandasTypeHandler(), or a subclass of DbTypeHandler)"
            )
            raise AssetTypeError(
                msg, io_manager=name, expected="DbTypeHandler", got=type_name(type(h))
            )
    return handlers


def _names(handlers: Sequence[DbTypeHandler[Any]]) -> str:
    names: list[str] = []
    for h in handlers:
        if isinstance(h, FrameTypeHandler):
            names += h.type_names()
        else:
            names += [type_name(t) for t in h.supported_types]
    return ", ".join(dict.fromkeys(names)) or "none"


def handler_for_value(
    manager: Any, obj: object, label: str
) -> tuple[DbTypeHandler[Any], FrameAdapter | None]:
    """The first of ``manager``'s handlers for ``obj``, and the frame adapter when the manager
    stores it through Arrow itself (None: the handler writes it)."""
    handlers = _handlers(manager)
    adapter = adapter_for_value(obj)
    for h in handlers:
        if is_frame_path(h):
            if adapter is not None and adapter.name in getattr(h, "adapters", ()):
                return h, adapter
        elif isinstance(obj, tuple(h.supported_types)):
            return h, None
    name, expected = type(manager).__name__, _names(handlers)
    msg = (
        f"asset {label!r} returned {type_name(type(obj))}, which {name} cannot store as a "
        f"table: expected one of {expected}; the stored table is unchanged"
    )
    raise AssetTypeError(
        msg, asset=label, io_manager=name, expected=expected, got=type_name(type(obj))
    )


def default_load(manager: Any) -> object:
    """The manager's ``default_load_type``: an adapter name (a wharf preset's class attribute),
    a type (Dagster's ``default_load_type()``), or None."""
    value = type(manager).default_load_type
    return value() if callable(value) and not isinstance(value, type) else value


def handler_for_load(
    manager: Any, annotation: object, where: str, asset: str
) -> tuple[DbTypeHandler[Any], FrameAdapter | None, object]:
    """The handler that loads an input annotated ``annotation``, the frame adapter when the
    manager loads through Arrow (else None), and the type to build."""
    handlers = _handlers(manager)
    wanted: object = annotation
    if annotation in _UNANNOTATED or annotation is _empty():
        wanted = default_load(manager)
        if wanted is None and len(handlers) == 1:  # Dagster: the one handler's first type
            (h,) = handlers
            first = getattr(h, "adapters", ())[:1] if is_frame_path(h) else h.supported_types[:1]
            wanted = first[0] if first else None
    adapter = adapter_named(wanted) if isinstance(wanted, str) else adapter_for_annotation(wanted)
    for h in handlers:
        if is_frame_path(h):
            if adapter is not None and adapter.name in getattr(h, "adapters", ()):
                return h, adapter, annotation if isinstance(wanted, str) else wanted
        elif isinstance(wanted, type) and any(issubclass(wanted, t) for t in h.supported_types):
            return h, None, wanted
    name, expected = type(manager).__name__, _names(handlers)
    msg = (
        f"{where} is annotated {type_name(annotation)}, which {name} cannot load a table as: "
        f"expected one of {expected}"
    )
    raise AssetTypeError(
        msg, asset=asset, io_manager=name, expected=expected, got=type_name(annotation)
    )


def _empty() -> object:
    import inspect

    return inspect.Parameter.empty
