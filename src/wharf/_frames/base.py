"""The frame-adapter contract: one dataframe library to and from Arrow.

An adapter is a small object with a name, a ``lazy`` flag and four methods. Every library
(pandas, polars, pyarrow, duckdb, ...) has one module that implements it; the registry
(:mod:`wharf._frames.registry`) holds one instance per library in a plain tuple.

Adapters recognise classes by their dotted names along the MRO, so asking "is this a pandas
DataFrame?" never imports pandas. The library is imported inside the adapter's methods, through
:func:`wharf._deps.require`, the first time a value is actually converted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from wharf._deps import require
from wharf.errors import AssetTypeError

if TYPE_CHECKING:
    from collections.abc import Collection

    import pyarrow as pa

__all__ = [
    "FrameAdapter",
    "as_reader",
    "check_value",
    "class_paths",
    "export",
    "matches_any",
    "table_reader",
    "type_label",
]


@runtime_checkable
class FrameAdapter(Protocol):
    """Converts one dataframe type to a stream of Arrow record batches and back.

    Attributes:
        name: short id, e.g. ``"pandas"``, ``"polars-lazy"``, ``"arrow-reader"``.
        lazy: True when the type streams (``pl.LazyFrame``, ``pa.RecordBatchReader``, a DuckDB
            relation): converting it must not pull all rows into memory.
    """

    name: str
    lazy: bool

    def matches_type(self, tp: type) -> bool:
        """Whether ``tp`` (an annotation or ``type(value)``) is this adapter's type."""
        ...

    def to_arrow(self, obj: Any) -> pa.RecordBatchReader:
        """Stream ``obj`` out as Arrow; lazy inputs are not materialised."""
        ...

    def from_arrow(self, reader: pa.RecordBatchReader, tp: type) -> Any:
        """Build a value of the annotated type ``tp`` from ``reader``."""
        ...

    def type_names(self) -> tuple[str, ...]:
        """Human names of the types handled, for error messages."""
        ...


def class_paths(tp: object) -> list[str]:
    """The ``module.qualname`` of every class in ``tp``'s MRO; empty when ``tp`` is no class.

    Examples:
        >>> class_paths(bool)
        ['builtins.bool', 'builtins.int', 'builtins.object']
        >>> class_paths("not a class")
        []
    """
    if not isinstance(tp, type):
        return []
    return [f"{klass.__module__}.{klass.__qualname__}" for klass in tp.__mro__]


def type_label(obj: object) -> str:
    """A short name for the type of ``obj``, for error messages.

    Examples:
        >>> type_label(3)
        'int'
        >>> type_label(ValueError())
        'ValueError'
    """
    tp = type(obj)
    if tp.__module__ == "builtins":
        return tp.__qualname__
    return f"{tp.__module__.split('.')[0]}.{tp.__qualname__}"


def export(adapter: FrameAdapter, obj: Any, *, asset: str, io_manager: str) -> pa.RecordBatchReader:
    """``adapter.to_arrow(obj)``; a value Arrow cannot represent (a polars ``Int128``, a pandas
    column of mixed objects) is an :class:`AssetTypeError` naming the asset and the I/O manager.
    """
    try:
        return adapter.to_arrow(obj)
    except AssetTypeError as exc:  # the adapter refused the value and said why
        label = type_label(obj)
        msg = f"asset {asset!r} returned a {label} that {io_manager} cannot convert to Arrow: {exc}"
        raise AssetTypeError(
            msg + "; the stored value is unchanged", asset=asset, io_manager=io_manager,
            expected=exc.expected or "a value the store can keep", got=exc.got or label,
        ) from exc  # fmt: skip
    except Exception as exc:
        label = type_label(obj)
        msg = (
            f"asset {asset!r} returned a {label} that {io_manager} cannot convert to Arrow "
            f"({type(exc).__name__}: {exc}): expected columns Arrow can represent; the stored "
            "value is unchanged"
        )
        raise AssetTypeError(
            msg, asset=asset, io_manager=io_manager, expected="columns Arrow can represent",
            got=label,
        ) from exc  # fmt: skip


def check_value(adapter: FrameAdapter, obj: object) -> None:
    """Raise :class:`~wharf.errors.AssetTypeError` unless ``adapter`` handles ``obj``.

    Examples:
        >>> from wharf._frames.arrow import ArrowTableAdapter
        >>> check_value(ArrowTableAdapter(), {"a": [1]})
        Traceback (most recent call last):
        ...
        wharf.errors.AssetTypeError: The arrow-table frame adapter expected pyarrow.Table, got dict.
    """
    if adapter.matches_type(type(obj)):
        return
    expected = " or ".join(adapter.type_names())
    got = type_label(obj)
    msg = f"The {adapter.name} frame adapter expected {expected}, got {got}."
    raise AssetTypeError(msg, expected=expected, got=got)


def matches_any(tp: type, paths: Collection[str]) -> bool:
    """Whether any class in ``tp``'s MRO has one of the dotted ``paths``.

    Examples:
        >>> matches_any(bool, {"builtins.int"})
        True
    """
    return any(path in paths for path in class_paths(tp))


def as_reader(data: Any) -> pa.RecordBatchReader:
    """Return ``data`` as a ``pa.RecordBatchReader``.

    A reader is returned as is; anything else exporting ``__arrow_c_stream__`` (a ``pa.Table``,
    a polars frame, a DuckDB relation) is wrapped without copying.

    Examples:
        >>> import pyarrow as pa
        >>> as_reader(pa.table({"a": [1, 2]})).read_all().num_rows
        2
    """
    pa = require("pyarrow", purpose="Arrow conversion")
    if isinstance(data, pa.RecordBatchReader):
        return data
    if hasattr(data, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(data)
    expected = "pyarrow.RecordBatchReader"
    got = type_label(data)
    msg = f"Expected an Arrow stream ({expected} or an object with __arrow_c_stream__), got {got}."
    raise AssetTypeError(msg, expected=expected, got=got)


def table_reader(table: pa.Table) -> pa.RecordBatchReader:
    """A reader over ``table``'s chunks that yields one empty batch when it has no rows.

    ``Table.to_reader()`` yields no batch at all for an empty table, which loses every
    dictionary (the category list of an empty categorical); one empty batch carries them.

    Examples:
        >>> import pyarrow as pa
        >>> empty = pa.table({"c": pa.array(["a"]).dictionary_encode()}).slice(0, 0)
        >>> [batch.column(0).dictionary.to_pylist() for batch in table_reader(empty)]
        [['a']]
    """
    pa = require("pyarrow", purpose="Arrow conversion")
    if table.num_rows:
        return table.to_reader()
    arrays = [col.chunk(0) if col.num_chunks else pa.array([], col.type) for col in table.columns]
    batch = pa.RecordBatch.from_arrays(arrays, schema=table.schema)
    return pa.RecordBatchReader.from_batches(table.schema, [batch])
