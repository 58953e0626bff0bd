"""polars: ``pl.DataFrame`` (eager) and ``pl.LazyFrame`` (lazy) to and from Arrow.

Both directions go through the Arrow PyCapsule stream (``__arrow_c_stream__``), which is zero
copy; polars exports strings and binaries as Arrow ``string_view``/``binary_view``, and
categoricals and enums as dictionaries whose field metadata lets ``pl.from_arrow`` restore them.

A ``LazyFrame`` goes out through ``collect_batches(lazy=True)``: its query runs on the streaming
engine when the reader is first read, one batch at a time. Coming back, see
:func:`_scan_spilled` for why the stream is first spilled to a temporary file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import weakref
from typing import TYPE_CHECKING, Any

from wharf._deps import require
from wharf._frames.base import as_reader, check_value, matches_any

if TYPE_CHECKING:
    from collections.abc import Iterator

    import polars as pl
    import pyarrow as pa

__all__ = ["PolarsAdapter", "PolarsLazyAdapter"]


class PolarsAdapter:
    """``polars.DataFrame``, eager and lossless through Arrow.

    Examples:
        >>> import polars as pl
        >>> df = pl.DataFrame({"c": ["x", None]}, schema={"c": pl.Categorical})
        >>> adapter = PolarsAdapter()
        >>> adapter.from_arrow(adapter.to_arrow(df), pl.DataFrame).equals(df)
        True
    """

    name: str = "polars"
    lazy: bool = False
    _paths = frozenset({"polars.dataframe.frame.DataFrame", "polars.DataFrame"})

    def matches_type(self, tp: type) -> bool:
        """Whether ``tp`` is ``pl.DataFrame`` or a subclass."""
        return matches_any(tp, self._paths)

    def to_arrow(self, obj: Any) -> pa.RecordBatchReader:
        """Export the frame's chunks through ``__arrow_c_stream__`` (no copy)."""
        check_value(self, obj)
        pa = require("pyarrow", purpose="converting polars to Arrow")
        if _has_categories(obj.schema):
            return _portable(obj).to_reader()
        return pa.RecordBatchReader.from_stream(obj)

    def from_arrow(self, reader: pa.RecordBatchReader, tp: type) -> Any:
        """Read every batch into one ``pl.DataFrame``."""
        pl = require("polars", purpose="loading a polars.DataFrame")
        return pl.DataFrame(as_reader(reader))

    def type_names(self) -> tuple[str, ...]:
        """``("polars.DataFrame",)``."""
        return ("polars.DataFrame",)


class PolarsLazyAdapter:
    """``polars.LazyFrame``: streamed out batch by batch, re-scannable when read back.

    Examples:
        >>> import polars as pl
        >>> adapter = PolarsLazyAdapter()
        >>> lf = adapter.from_arrow(adapter.to_arrow(pl.LazyFrame({"a": [1, 2]})), pl.LazyFrame)
        >>> lf.select(pl.col("a").sum()).collect().item(), lf.collect().height
        (3, 2)
    """

    name: str = "polars-lazy"
    lazy: bool = True
    _paths = frozenset({"polars.lazyframe.frame.LazyFrame", "polars.LazyFrame"})

    def matches_type(self, tp: type) -> bool:
        """Whether ``tp`` is ``pl.LazyFrame`` or a subclass."""
        return matches_any(tp, self._paths)

    def to_arrow(self, obj: Any) -> pa.RecordBatchReader:
        """A reader that runs the query on the streaming engine as batches are pulled."""
        check_value(self, obj)
        pa = require("pyarrow", purpose="converting polars to Arrow")
        if _has_categories(obj.collect_schema()):
            schema = _portable(obj.clear().collect()).schema
            chunks = (_portable(df) for df in obj.collect_batches(lazy=True))
            return pa.RecordBatchReader.from_batches(
                schema, (batch for chunk in chunks for batch in chunk.to_batches())
            )
        return pa.RecordBatchReader.from_stream(obj.collect_batches(lazy=True))

    def from_arrow(self, reader: pa.RecordBatchReader, tp: type) -> Any:
        """A ``pl.LazyFrame`` over the stream, spilled to disk (see :func:`_scan_spilled`)."""
        return _scan_spilled(as_reader(reader))

    def type_names(self) -> tuple[str, ...]:
        """``("polars.LazyFrame",)``."""
        return ("polars.LazyFrame",)


def _has_categories(schema: Any) -> bool:
    """Whether a polars schema holds Categorical or Enum columns (at the top level)."""
    pl = require("polars")
    return any(isinstance(t, pl.Categorical | pl.Enum) for t in schema.values())


def _portable(df: Any) -> Any:
    """``df`` as a ``pa.Table`` whose dictionaries have ``large_string`` values.

    polars exports Categorical/Enum as ``dictionary<string_view>``, which DuckDB and Parquet
    cannot take; the oldest compat level gives ``dictionary<large_string>`` (and keeps the
    polars field metadata, so they come back as Categorical/Enum).
    """
    pl = require("polars")
    return df.to_arrow(compat_level=pl.CompatLevel.oldest())


def _scan_spilled(reader: pa.RecordBatchReader) -> pl.LazyFrame:
    """Write ``reader`` to a temporary Arrow IPC stream file and scan that file lazily.

    ``pl.scan_arrow_c_stream(reader)`` would need no file, but it reads its one-shot source
    once: a second ``collect()`` of the frame, or of another frame derived from it, silently
    returns 0 rows. A spill file is read batch by batch on every collect (plain reads: a memory
    map would keep every page it touched resident, so RSS would grow with the data), so memory
    stays bounded and the frame can be scanned any number of times. The file lives as
    long as some query plan refers to the scan (a finalizer on the scan function deletes it).
    """
    pa = require("pyarrow")
    plugins = require("polars.io.plugins")
    fd, path = tempfile.mkstemp(prefix="wharf-", suffix=".arrows")
    os.close(fd)
    try:
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
    except BaseException:
        _unlink(path)
        raise
    schema = require("polars").DataFrame(reader.schema.empty_table()).schema

    def scan(
        columns: list[str] | None, predicate: Any, n_rows: int | None, _batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        return _read_spill(path, columns, predicate, n_rows)

    weakref.finalize(scan, _unlink, path)
    lazy_frame: pl.LazyFrame = plugins.register_io_source(
        scan, schema=schema, explain_name="wharf spill"
    )
    return lazy_frame


def _read_spill(
    path: str, columns: list[str] | None, predicate: Any, n_rows: int | None
) -> Iterator[pl.DataFrame]:
    """Yield the spill file's batches as frames, projected, filtered and limited."""
    pa = require("pyarrow")
    pl = require("polars")
    left = n_rows
    if left == 0:
        return
    with pa.OSFile(path, "rb") as source:  # read, not mapped: mapped pages would stay in RSS
        for batch in pa.ipc.open_stream(source):
            frame = pl.DataFrame(batch)
            if columns is not None:
                frame = frame.select(columns)
            if predicate is not None:
                frame = frame.filter(predicate)
            if left is not None:
                frame = frame.head(left)
                left -= frame.height
            yield frame
            if left == 0:
                return


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
