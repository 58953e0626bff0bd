"""Parquet on any file object: write a stream of Arrow batches, load it as the input asks.

Used by :class:`~wharf._io.object_store.ParquetOrPickleIOManager` for local files and object
stores alike. The frame type a table was stored as is kept in the Parquet schema metadata, so
an unannotated input loads as that type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wharf._core.contexts import InputContext
from wharf._core.typecheck import is_unannotated, strip_optional, type_name
from wharf._deps import require
from wharf.errors import AssetTypeError

__all__ = ["load_parquet", "write_parquet"]

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
