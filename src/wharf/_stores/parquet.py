"""Parquet files in a local directory as a table store.

Layout under ``base_dir``::

    <schema>/<table>.parquet                     a whole table
    <schema>/<table>/<value>.parquet             one file per partition value
    <schema>/<table>/range=<start>..<end>.parquet  a range partition (start <= column < end)
    <schema>/<table>/<value>/<value 2>.parquet   several filters (one folder level per filter)

Names become paths only after a check (no separators, no ``.``/``..``, no NUL); partition
values are percent-encoded (also ``.``), so any value is one safe file name. Every file is
written batch by batch to a temporary file in its own directory, flushed, then moved into place
with ``os.replace``: a crash leaves the previous file. A write of several partition values
replaces each file atomically, not the set at once.

Reads stream ``ParquetFile.iter_batches``. A partition read by values reads those files; a range
read (or a read of a table that only has partition files) scans every partition file, keeping
the rows in range. The Arrow schema, pandas metadata and categorical dictionaries are kept by
Parquet itself; a file of no rows keeps its dictionaries in the key-value metadata
(:mod:`wharf._stores.schema_codec`), since Parquet writes one only with the rows using it.
"""

from __future__ import annotations

import base64
import itertools
import os
import shutil
import uuid
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from wharf._deps import require
from wharf._stores.base import (
    Partition,
    PartitionFilter,
    SchemaPolicy,
    TableRef,
    WriteResult,
    as_filters,
    as_reader,
    check_name,
    column_diff,
    describe_filters,
    schema_dict,
    store_errors,
    stream,
)
from wharf._stores.schema_codec import DictionaryNotes, empty_batch, kept_dictionaries
from wharf.errors import StorageError, StoredValueNotFoundError, UnsafeNameError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import pyarrow as pa

__all__ = ["ParquetStore"]


def _path_part(name: str, what: str) -> str:
    check_name(name, what)
    if name in {".", ".."} or any(sep in name for sep in ("/", "\\", os.sep)):
        msg = f"{what} name {name!r} cannot be a file name (separator, '.' or '..')"
        raise UnsafeNameError(msg, expected="a name without path separators", got=repr(name))
    return name


def _key(value: object) -> str:
    """A partition value as a file name: percent-encoded, never hidden, never a separator."""
    if value is None:
        return "%null"  # quote() never emits '%n'
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if not text:
        msg = "an empty partition value cannot name a file"
        raise UnsafeNameError(msg, expected="a non-empty partition value", got=repr(value))
    return quote(text, safe="").replace(".", "%2E")


class ParquetStore:
    """A :class:`~wharf._stores.base.TableStore` of Parquet files under ``base_dir``.

    Args:
        base_dir: the local directory holding ``<schema>/<table>.parquet`` files.
        schema_policy: partition files whose columns differ from the others': ``"error"`` or
            ``"evolve"`` (reads then fill missing columns with nulls).
        batch_size: rows per batch when reading.

    Examples:
        >>> import tempfile, pyarrow as pa
        >>> store = ParquetStore(tempfile.mkdtemp())
        >>> store.write(TableRef("public", "t"), pa.table({"a": [1, 2]}).to_reader()).row_count
        2
        >>> store.read(TableRef("public", "t")).read_all().column("a").to_pylist()
        [1, 2]
    """

    name = "parquet"

    def __init__(
        self,
        base_dir: str | os.PathLike[str],
        *,
        schema_policy: SchemaPolicy = "error",
        batch_size: int = 65_536,
    ) -> None:
        self.base_dir = Path(base_dir).resolve()
        self.schema_policy, self.batch_size = schema_policy, batch_size

    def __repr__(self) -> str:
        return f"ParquetStore({str(self.base_dir)!r})"

    def location(self, ref: TableRef) -> str:
        """The ``file://`` URI of the table's file."""
        return self._file(ref).as_uri()

    def exists(self, ref: TableRef) -> bool:
        """Whether the table file, or any partition file, exists."""
        return self._file(ref).is_file() or bool(self._parts(ref))

    def delete(self, ref: TableRef) -> None:
        """Remove the table file and its partition files, if any."""
        with store_errors(f"parquet could not delete {self.location(ref)}", _errors):
            self._file(ref).unlink(missing_ok=True)
            shutil.rmtree(self._dir(ref), ignore_errors=True)

    def write(
        self, ref: TableRef, data: pa.RecordBatchReader, *, partition: Partition | None = None
    ) -> WriteResult:
        """Write ``data`` to the table's file (or its partition files), atomically per file."""
        reader, failed = as_reader(data), list[BaseException]()
        filters = as_filters(partition)
        for name in reader.schema.names:
            check_name(name, "column")
        if not filters:
            targets: dict[Path, tuple[object, ...]] = {self._file(ref): ()}
        else:
            for f in filters:
                if f.column not in reader.schema.names:
                    names = reader.schema.names
                    msg = f"partition column {f.column!r} is not in the data's columns {names}"
                    raise StorageError(msg, expected=f.column, got=str(reader.schema.names))
            choices = [[None] if f.values is None else list(f.values) for f in filters]
            targets = {
                self._part_file(ref, filters, combo): combo for combo in itertools.product(*choices)
            }
            self._check_columns(ref, reader.schema.names, set(targets))
        location = (next(iter(targets)) if len(targets) == 1 else self._dir(ref)).as_uri()
        message = f"parquet could not write {location}"
        with store_errors(
            message,
            lambda: (*_errors(), *(type(e) for e in failed)),
            lambda: failed[0] if failed else None,
        ):
            batches = _pull(reader, failed)
            rows, size = self._write_files(reader, batches, targets, filters, message)
        return WriteResult(rows, schema_dict(reader.schema), location, size)

    def read(
        self,
        ref: TableRef,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
    ) -> pa.RecordBatchReader:
        """Stream the table file, or the partition files ``partition`` selects."""
        pa, pq = require("pyarrow"), require("pyarrow.parquet")
        filters = as_filters(partition)
        message = f"parquet could not read {self.location(ref)}"
        with store_errors(message, _errors):
            files = self._files(ref, filters)
            schemas = [_written_schema(f) for f in files]
            schema = schemas[0]
            if not all(s.equals(schema) for s in schemas):
                schema = pa.unify_schemas(schemas, promote_options="permissive")
        wanted = list(schema.names if columns is None else columns)
        asked = wanted + [f.column for f in filters]
        unknown = [c for c in asked if c not in schema.names]
        if unknown or not wanted:
            msg = f"{message}: no column(s) {unknown}; its columns are {schema.names}"
            raise StorageError(msg, expected=f"columns of {schema.names}", got=str(asked))
        ranged = any(f.values is None for f in filters)
        fetch = pa.schema([schema.field(c) for c in dict.fromkeys(asked if ranged else wanted)])
        out = pa.schema([schema.field(c) for c in wanted], metadata=schema.metadata)

        def batches() -> Iterator[Any]:
            kept: dict[str, Any] = {}
            empty = True
            for path in files:
                with pq.ParquetFile(path) as pf:
                    kept.update(kept_dictionaries(pf))
                    here = [c for c in fetch.names if c in pf.schema_arrow.names]
                    for raw in pf.iter_batches(self.batch_size, columns=here):
                        batch = _conform(raw, fetch)
                        if ranged:
                            batch = batch.filter(_matches(batch, filters))
                        empty = False
                        yield pa.RecordBatch.from_arrays(
                            [batch.column(c) for c in wanted], schema=out
                        )
            if empty and kept:  # no rows, but declared categories
                yield empty_batch(out, kept)

        return stream(out, batches(), lambda: None, message, _errors)

    def schema(self, ref: TableRef) -> pa.Schema:
        """The table's Arrow schema, from the files' footers (no rows are read)."""
        schema: pa.Schema = self.read(ref).schema
        return schema

    # -- internals ------------------------------------------------------------------------

    def _file(self, ref: TableRef) -> Path:
        schema, table = _path_part(ref.schema, "schema"), _path_part(ref.table, "table")
        return self.base_dir / schema / f"{table}.parquet"

    def _dir(self, ref: TableRef) -> Path:
        return self._file(ref).with_suffix("")

    def _part_file(
        self, ref: TableRef, filters: tuple[PartitionFilter, ...], combo: tuple[object, ...]
    ) -> Path:
        names = []
        for f, value in zip(filters, combo, strict=True):
            if f.values is not None:
                names.append(_key(value))
            else:
                low = "" if f.start is None else _key(f.start)
                high = "" if f.end is None else _key(f.end)
                names.append(f"range={low}..{high}")
        return self._dir(ref).joinpath(*names[:-1], f"{names[-1]}.parquet")

    def _parts(self, ref: TableRef) -> list[Path]:
        folder = self._dir(ref)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith("."))

    def _files(self, ref: TableRef, filters: tuple[PartitionFilter, ...]) -> list[Path]:
        if filters and all(f.values is not None for f in filters):
            choices = [list(f.values or ()) for f in filters]
            files = [self._part_file(ref, filters, c) for c in itertools.product(*choices)]
        elif not filters and self._file(ref).is_file():
            files = [self._file(ref)]
        else:
            whole = [self._file(ref)] if self._file(ref).is_file() else []
            files = self._parts(ref) or whole
        missing = [f for f in files if not f.is_file()]
        if missing or not files:
            what = ", ".join(str(f) for f in missing) or str(self._file(ref))
            msg = f"parquet has no stored value at {what}; was its asset (partition) materialized?"
            raise StoredValueNotFoundError(msg, expected=ref.display(), got="no file")
        return files

    def _check_columns(self, ref: TableRef, names: list[str], replacing: set[Path]) -> None:
        others = [p for p in self._parts(ref) if p not in replacing]
        if not others or self.schema_policy == "evolve":
            return
        old = require("pyarrow.parquet").read_schema(others[0]).names
        if set(old) != set(names):
            msg = (
                f"cannot write a partition of parquet table {self._dir(ref).as_uri()}: the data's "
                f"columns differ from the stored partitions' ({column_diff(old, names)}); "
                "use schema_policy='evolve' to allow it"
            )
            raise StorageError(msg, expected=str(old), got=str(names))

    def _write_files(
        self,
        reader: Any,
        batches: Iterator[Any],
        targets: dict[Path, tuple[object, ...]],
        filters: tuple[PartitionFilter, ...],
        message: str,
    ) -> tuple[int, int]:
        pq = require("pyarrow.parquet")
        staged: dict[Path, tuple[Path, Any, Any]] = {}
        rows, notes = 0, DictionaryNotes(reader.schema)
        written: set[Path] = set()
        try:
            for path in targets:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
                handle = tmp.open("wb")
                staged[path] = (tmp, handle, pq.ParquetWriter(handle, reader.schema))
            for batch in batches:
                rows += batch.num_rows
                notes.see(batch)
                if filters:
                    _check_rows(batch, filters, message)
                for path, combo in targets.items():
                    part = (
                        batch if len(targets) == 1 else batch.filter(_same(batch, filters, combo))
                    )
                    if part.num_rows:
                        staged[path][2].write_batch(part)
                        written.add(path)
            for path, (_, handle, writer) in staged.items():
                if path not in written:
                    notes.keep_in(writer)
                writer.close()
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
            for path, (tmp, _, _) in staged.items():
                os.replace(tmp, path)
            return rows, sum(path.stat().st_size for path in targets)
        finally:
            for tmp, handle, writer in staged.values():
                if writer.is_open:  # a failed write: finish the footer, then drop the file
                    with suppress(Exception):
                        writer.close()
                handle.close()
                tmp.unlink(missing_ok=True)


def _written_schema(path: Path) -> Any:
    """The Arrow schema as written: Parquet reads ``timestamp[s]`` as ms, ``date64`` as date32
    and renames list items; pyarrow keeps the original in the ``ARROW:schema`` key."""
    pa, pq = require("pyarrow"), require("pyarrow.parquet")
    meta = pq.read_metadata(path)
    read_as = meta.schema.to_arrow_schema()
    with suppress(KeyError, TypeError, ValueError, pa.ArrowException):
        written = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(meta.metadata[b"ARROW:schema"])))
        if written.names == read_as.names:
            return written
    return read_as


def _errors() -> tuple[type[BaseException], ...]:
    return (OSError, require("pyarrow").ArrowException)


def _pull(reader: Any, failed: list[BaseException]) -> Iterator[Any]:
    """Iterate ``reader``, remembering an exception raised by the data's producer."""
    batches = iter(reader)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as exc:
            failed.append(exc)
            raise
        yield batch


def _equal(column: Any, value: object, pa: Any) -> Any:
    pc = require("pyarrow.compute")
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if value is None:
        return pc.is_null(column)
    return pc.fill_null(pc.equal(column, pa.scalar(value).cast(column.type)), False)


def _same(batch: Any, filters: tuple[PartitionFilter, ...], combo: tuple[object, ...]) -> Any:
    """The rows of ``batch`` whose value-filter columns equal ``combo`` (range filters: any)."""
    pa, pc = require("pyarrow"), require("pyarrow.compute")
    mask = pa.array([True] * batch.num_rows, pa.bool_())
    for f, value in zip(filters, combo, strict=True):
        if f.values is not None:
            mask = pc.and_(mask, _equal(batch.column(f.column), value, pa))
    return mask


def _matches(batch: Any, filters: tuple[PartitionFilter, ...]) -> Any:
    """The rows of ``batch`` inside every filter of ``filters``."""
    pa, pc = require("pyarrow"), require("pyarrow.compute")
    mask = pa.array([True] * batch.num_rows, pa.bool_())
    for partition in filters:
        column = batch.column(partition.column)
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if partition.values is not None:
            hits = [_equal(column, v, pa) for v in partition.values] or [pc.invert(mask)]
            for hit in hits[1:]:
                hits[0] = pc.or_(hits[0], hit)
            mask = pc.and_(mask, hits[0])
        for bound, compare in ((partition.start, pc.greater_equal), (partition.end, pc.less)):
            if bound is not None:
                found = compare(column, pa.scalar(bound).cast(column.type))
                mask = pc.and_(mask, pc.fill_null(found, False))
    return mask


def _check_rows(batch: Any, filters: tuple[PartitionFilter, ...], message: str) -> None:
    inside = require("pyarrow.compute").sum(_matches(batch, filters)).as_py() or 0
    if inside != batch.num_rows:
        where = describe_filters(filters)
        msg = (
            f"{message}: {batch.num_rows - inside} of {batch.num_rows} rows are outside the "
            f"partition {where}; every row of a partition write must belong to it"
        )
        raise StorageError(msg, expected=where, got="rows outside the partition")


def _conform(batch: Any, schema: Any) -> Any:
    """``batch`` with ``schema``'s columns: missing ones null, others cast (evolved files)."""
    pa = require("pyarrow")
    arrays = []
    for f in schema:
        if f.name not in batch.schema.names:
            arrays.append(pa.nulls(batch.num_rows, f.type))
        else:
            column = batch.column(f.name)
            arrays.append(column if column.type == f.type else column.cast(f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
