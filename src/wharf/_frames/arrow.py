"""pyarrow: ``pa.Table`` (eager) and ``pa.RecordBatchReader`` (lazy) to and from Arrow.

Both are Arrow already, so these adapters only change the container: a table becomes a reader
over its chunks, a reader is passed through untouched (still one-shot, still unread).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wharf._frames.base import as_reader, check_value, matches_any, table_reader

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ArrowReaderAdapter", "ArrowTableAdapter"]


class ArrowTableAdapter:
    """``pyarrow.Table``: streamed out chunk by chunk, read back with ``read_all()``.

    Examples:
        >>> import pyarrow as pa
        >>> adapter = ArrowTableAdapter()
        >>> reader = adapter.to_arrow(pa.table({"a": [1, 2]}))
        >>> adapter.from_arrow(reader, pa.Table).column("a").to_pylist()
        [1, 2]
    """

    name: str = "arrow-table"
    lazy: bool = False
    _paths = frozenset({"pyarrow.lib.Table"})

    def matches_type(self, tp: type) -> bool:
        """Whether ``tp`` is ``pa.Table`` or a subclass."""
        return matches_any(tp, self._paths)

    def to_arrow(self, obj: Any) -> pa.RecordBatchReader:
        """Return a reader over the table's record batches (no copy; see :func:`table_reader`)."""
        check_value(self, obj)
        return table_reader(obj)

    def from_arrow(self, reader: pa.RecordBatchReader, tp: type) -> Any:
        """Read every batch into one ``pa.Table``."""
        return as_reader(reader).read_all()

    def type_names(self) -> tuple[str, ...]:
        """``("pyarrow.Table",)``."""
        return ("pyarrow.Table",)


class ArrowReaderAdapter:
    """``pyarrow.RecordBatchReader``: passed through, never read.

    Examples:
        >>> import pyarrow as pa
        >>> reader = pa.table({"a": [1]}).to_reader()
        >>> ArrowReaderAdapter().from_arrow(reader, pa.RecordBatchReader) is reader
        True
    """

    name: str = "arrow-reader"
    lazy: bool = True
    _paths = frozenset({"pyarrow.lib.RecordBatchReader"})

    def matches_type(self, tp: type) -> bool:
        """Whether ``tp`` is ``pa.RecordBatchReader`` or a subclass (e.g. an IPC reader)."""
        return matches_any(tp, self._paths)

    def to_arrow(self, obj: Any) -> pa.RecordBatchReader:
        """Return the reader itself."""
        check_value(self, obj)
        reader: pa.RecordBatchReader = obj
        return reader

    def from_arrow(self, reader: pa.RecordBatchReader, tp: type) -> Any:
        """Return the reader itself (a table or other Arrow stream is wrapped as a reader)."""
        return as_reader(reader)

    def type_names(self) -> tuple[str, ...]:
        """``("pyarrow.RecordBatchReader",)``."""
        return ("pyarrow.RecordBatchReader",)
