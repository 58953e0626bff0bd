"""Parquet on any file object: write a stream of Arrow batches, load it as the input asks.

Used by :class:`~wharf._io.object_store.ParquetOrPickleIOManager` for local files and object
stores alike. The frame type a table was stored as is kept in the Parquet schema metadata, so
an unannotated input loads as that type. Many partitions loaded as one frame are read as one
Arrow dataset (:func:`read_dataset`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wharf._core.contexts import InputContext
from wharf._core.typecheck import is_unannotated, strip_optional, type_name
from wharf._deps import require
from wharf.errors import AssetTypeError

if TYPE_CHECKING:
    from wharf._stores.blob import BlobStore

__all__ = ["load_parquet", "read_dataset", "write_parquet"]

_FRAME_KEY = b"wharf.frame"


def write_parquet(reader: Any, path: Any, *, frame: str) -> dict[str, Any]:
    """Stream ``reader`` into a Parquet file at ``path`` (the one writer,
    :func:`wharf._stores.parquet.write_parquet`); remember the frame type it came as."""
    from wharf._stores import parquet
    from wharf._stores.base import schema_dict

    with path.open("wb") as f:
        rows = parquet.write_parquet(reader, f, metadata={_FRAME_KEY: frame.encode()})
    return {"rows": rows, "schema": schema_dict(reader.schema)}


def load_parquet(
    context: InputContext,
    source: Callable[[], Any],
    *,
    where: str,
    manager: str,
    errors: Callable[[], tuple[type[BaseException], ...]] = lambda: (OSError,),
) -> Any:
    """Open ``source()`` as a stream of batches and build the input's annotated frame type."""
    from wharf._frames import adapter_for_load, supported_type_names
    from wharf._stores.base import store_errors, stream
    from wharf._stores.schema_codec import empty_batch, kept_dictionaries

    pq = require("pyarrow.parquet", purpose="loading Parquet tables")
    annotation = context.dagster_type.typing_type
    label = context.asset_key.to_user_string() if context.has_asset_key else context.name
    message = f"{manager} could not read asset {label!r} at {where}"
    f = source()
    try:
        with store_errors(message, errors):  # the footer is read here (ranged reads remotely)
            parquet = pq.ParquetFile(f)
        stored = (parquet.schema_arrow.metadata or {}).get(_FRAME_KEY, b"arrow-table").decode()
        try:
            adapter = adapter_for_load(annotation, stored=stored)
        except AssetTypeError as exc:  # a frame type this installation does not have
            msg = (
                f"input {context.name!r} (asset {label!r}): {manager} stored it at {where} as "
                f"{stored!r}, which no installed frame adapter loads ({exc.expected}); annotate "
                "the input with a frame type to load it as that"
            )
            raise AssetTypeError(
                msg, asset=label, io_manager=manager, expected=exc.expected, got=repr(stored)
            ) from None
        if adapter is None:
            expected = ", ".join(supported_type_names())
            msg = (
                f"input {context.name!r} (asset {label!r}) is annotated {type_name(annotation)}"
                f", but {manager} stored it as a table: expected one of {expected}"
            )
            raise AssetTypeError(
                msg, asset=label, io_manager=manager, expected=expected, got=type_name(annotation)
            )
        if is_unannotated(annotation):  # built as the type it was stored as
            annotation = Any
        columns = context.definition_metadata.get("columns")
        schema = parquet.schema_arrow
        if columns:
            schema = require("pyarrow").schema([schema.field(c) for c in columns], schema.metadata)
        batches = parquet.iter_batches(columns=list(columns) if columns else None)
        if kept := kept_dictionaries(parquet):  # no rows, but declared categories
            batches = iter([empty_batch(schema, kept)])
        reader = stream(schema, batches, f.close, message, errors)
    except BaseException:
        f.close()
        raise
    return adapter.from_arrow(reader, strip_optional(annotation))


def read_dataset(
    store: BlobStore, paths: list[Any], *, columns: list[str] | None, each: bool = False
) -> Any:
    """The Parquet files at ``paths`` read as ONE Arrow dataset, in order: parallel, only
    ``columns`` (all by default), each file opened once for its rows (the first once more for
    the schema, as ``pyarrow.dataset`` does). One ``pyarrow.Table``, or with ``each`` a list of
    one table per path, each with its own file's schema metadata (a pandas index, the frame
    type it was stored as).

    None when the files cannot be read as one without handling each: their schemas differ (a
    column added later, a type changed), a column is dictionary-encoded (a categorical keeps
    its declared categories per file), or a file is missing or unreadable. The caller then
    reads them one by one, which unifies schemas and names what is missing or broken. The
    schemas are compared after the scan (the scan keeps each file's footer), so the check
    costs no request.
    """
    pa = require("pyarrow", purpose="loading Parquet tables")
    ds = require("pyarrow.dataset", purpose="loading partitions as one dataset")
    fs, names = store.arrow(paths)
    fmt = ds.ParquetFileFormat()
    fragments = [fmt.make_fragment(name, filesystem=fs) for name in names]
    try:
        schema = fragments[0].physical_schema
        if any(pa.types.is_dictionary(f.type) for f in schema):
            return None
        dataset = ds.FileSystemDataset(fragments, schema, fmt, fs)
        if each:
            found: dict[str, list[Any]] = {name: [] for name in names}
            for tagged in dataset.scanner(columns=columns).scan_batches():
                found[tagged.fragment.path].append(tagged.record_batch)
            result: Any = found
        else:
            result = dataset.to_table(columns=columns)
        if not all(f.physical_schema.equals(schema) for f in fragments):
            return None
    except (pa.ArrowException, *store.errors()):
        return None
    if not each:
        return result
    projected = pa.schema([schema.field(c) for c in columns]) if columns else schema
    return [
        pa.Table.from_batches(batches, projected.with_metadata(f.physical_schema.metadata))
        for f, batches in zip(fragments, result.values(), strict=True)
    ]
