"""``FilesystemIOManager``, the default: pickles under ``$WHARF_HOME/storage``."""

from __future__ import annotations

import contextlib
import pickle
import time
from typing import Any

from wharf._core.config import InitResourceContext
from wharf._core.contexts import InputContext, OutputContext
from wharf._core.history import wharf_home
from wharf._core.results import MetadataValue
from wharf._core.typecheck import type_name
from wharf._deps import require
from wharf._io.configurable import ConfigurableIOManagerFactory
from wharf._io.upath import UPathIOManager
from wharf.errors import AssetTypeError


class PickledObjectFilesystemIOManager(UPathIOManager):
    """Pickle each value to ``base_path/<asset key path>``, atomically."""

    extension = ""

    def dump_to_path(self, context: OutputContext, obj: Any, path: Any) -> None:
        try:
            payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            name = context.asset_key.to_user_string() if context.has_asset_key else "?"
            msg = (
                f"asset {name!r} returned a {type(obj).__name__} that {self.manager_name} cannot "
                f"pickle ({exc}): expected a picklable value; the stored value is unchanged"
            )
            raise AssetTypeError(
                msg, asset=name, io_manager=self.manager_name, expected="picklable value",
                got=type(obj).__name__,
            ) from exc  # fmt: skip
        with path.open("wb") as f:
            f.write(payload)

    def load_from_path(self, context: InputContext, path: Any) -> Any:
        with path.open("rb") as f:
            return pickle.load(f)


class FilesystemIOManager(ConfigurableIOManagerFactory):
    """The default I/O manager: values pickled on the local disk.

    Without ``base_dir`` values go to ``$WHARF_HOME/storage`` (``.wharf/storage`` in the
    current folder), so a later run loads what an earlier one stored.

    Examples:
        >>> FilesystemIOManager(base_dir="/tmp/wharf-doc")
        FilesystemIOManager(base_dir='/tmp/wharf-doc')
    """

    base_dir: str | None = None

    def create_io_manager(self, context: InitResourceContext) -> PickledObjectFilesystemIOManager:
        base = self.base_dir if self.base_dir is not None else str(wharf_home() / "storage")
        manager = ParquetOrPickleIOManager(base_path=base)
        manager._manager_name = type(self).__name__
        return manager


class ParquetOrPickleIOManager(PickledObjectFilesystemIOManager):
    """Tables as Parquet at ``<key path>.parquet``; every other value pickled at ``<key path>``.

    A table-like value (pandas, polars, pyarrow, DuckDB relation) streams to Parquet batch by
    batch and loads as the input's annotation asks (unannotated: the type it was stored as),
    reading only the ``columns`` an ``AssetIn`` asks for. Works on any path universal-pathlib
    knows (local, ``s3://``, ``gs://``, ``abfs://``).
    """

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        from wharf._frames import adapter_for_value

        adapter = adapter_for_value(obj)
        base = self._get_path(context)
        table_path = base.with_name(base.name + ".parquet")
        if adapter is None:
            super().handle_output(context, obj)
            _remove(table_path)
            return
        start = time.perf_counter()
        written: dict[str, Any] = {}

        def dump(ctx: OutputContext, reader: Any, path: Any) -> None:
            written.update(write_parquet(reader, path, frame=adapter.name))

        self.write_atomically(context, adapter.to_arrow(obj), table_path, dump)
        _remove(base)
        meta: dict[str, Any] = {
            "row_count": MetadataValue.int(written["rows"]),
            "schema": MetadataValue.table_schema(written["schema"]),
            "path": MetadataValue.path(str(table_path)),
            "duration_s": MetadataValue.float(round(time.perf_counter() - start, 6)),
        }
        with contextlib.suppress(OSError):
            meta["bytes"] = MetadataValue.int(table_path.stat().st_size)
        context.add_output_metadata(meta)

    def load_input(self, context: InputContext) -> Any:
        base = self._get_path(context)
        table_path = base.with_name(base.name + ".parquet")
        if self.path_exists(table_path):
            return load_parquet(context, table_path, manager=self.manager_name)
        if self.path_exists(base):
            return self.load_from_path(context, base)
        raise self.missing(context, base)


def _remove(path: Any) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


_FRAME_KEY = b"wharf.frame"


def write_parquet(reader: Any, path: Any, *, frame: str) -> dict[str, Any]:
    """Stream ``reader`` into a Parquet file at ``path``; remember the frame type it came as."""
    pq = require("pyarrow.parquet", purpose="storing tables as Parquet")
    from wharf._stores.base import schema_dict

    schema = reader.schema.with_metadata({**(reader.schema.metadata or {}), _FRAME_KEY: frame})
    rows = 0
    with path.open("wb") as f, pq.ParquetWriter(f, schema) as writer:
        for batch in reader:
            writer.write_batch(batch.replace_schema_metadata(schema.metadata))
            rows += batch.num_rows
    return {"rows": rows, "schema": schema_dict(reader.schema)}


def load_parquet(context: InputContext, path: Any, *, manager: str) -> Any:
    """Open ``path`` as a stream of batches and build the input's annotated frame type from it."""
    from wharf._frames import adapter_for_annotation, supported_type_names
    from wharf._frames.registry import ADAPTERS
    from wharf._stores.base import stream

    pq = require("pyarrow.parquet", purpose="loading Parquet tables")
    annotation = context.dagster_type.typing_type
    adapter = adapter_for_annotation(annotation)
    f = path.open("rb")
    try:
        parquet = pq.ParquetFile(f)
        stored = (parquet.schema_arrow.metadata or {}).get(_FRAME_KEY, b"arrow-table").decode()
        if adapter is None:
            if not matches_unannotated(annotation):
                label = context.asset_key.to_user_string()
                expected = ", ".join(supported_type_names())
                msg = (
                    f"input {context.name!r} (asset {label!r}) is annotated {type_name(annotation)}"
                    f", but {manager} stored it as a table: expected one of {expected}"
                )
                raise AssetTypeError(
                    msg, asset=label, io_manager=manager, expected=expected,
                    got=type_name(annotation),
                )  # fmt: skip
            adapter = next(a for a in ADAPTERS if a.name == stored)
            annotation = Any
        columns = context.definition_metadata.get("columns")
        batches = parquet.iter_batches(columns=list(columns) if columns else None)
        schema = parquet.schema_arrow
        if columns:
            schema = require("pyarrow").schema([schema.field(c) for c in columns], schema.metadata)
        reader = stream(schema, batches, f.close, f"reading {path}", lambda: (OSError,))
    except BaseException:
        f.close()
        raise
    return adapter.from_arrow(reader, strip_optional(annotation))


def matches_unannotated(annotation: Any) -> bool:
    import inspect

    return annotation in (Any, inspect.Parameter.empty, object, None)


def strip_optional(annotation: Any) -> Any:
    """``X`` for ``Optional[X]`` / ``X | None``; anything else unchanged."""
    import types
    import typing

    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    return annotation
