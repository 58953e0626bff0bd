"""``UPathIOManager``: the base for I/O managers that store one file (or object) per asset.

Paths are ``base_path / <key parts> [/ <partition>] + extension`` on any fsspec filesystem
(local, ``s3://``, ``gs://``, ``abfs://``, ...) through universal-pathlib. Local writes go to a
temp file in the target folder and are renamed into place, so a failed dump leaves the old
value intact; object stores publish an object only when its upload completes.
"""

from __future__ import annotations

import os
import uuid
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wharf._core.contexts import InputContext, OutputContext
from wharf._core.keys import check_safe_name
from wharf._core.results import MetadataValue
from wharf._io.base import IOManager
from wharf.errors import StoredValueNotFoundError


def _is_local(path: Any) -> bool:
    """A path on the local disk: a pathlib path, or a ``file://`` / ``local://`` UPath."""
    if isinstance(path, Path):
        return True
    return getattr(path, "protocol", None) in ("file", "local")


class UPathIOManager(IOManager):
    """Store each asset at its own path below ``base_path``.

    Subclasses set ``extension`` and implement :meth:`dump_to_path` and :meth:`load_from_path`.

    Examples:
        >>> import json
        >>> class JsonIOManager(UPathIOManager):
        ...     extension = ".json"
        ...     def dump_to_path(self, context, obj, path):
        ...         path.write_text(json.dumps(obj))
        ...     def load_from_path(self, context, path):
        ...         return json.loads(path.read_text())
    """

    extension: str | None = None
    _manager_name: str | None = None

    def __init__(self, base_path: Any = None) -> None:
        from upath import UPath

        self._base_path = UPath(base_path) if base_path is not None else UPath(".")

    @property
    def manager_name(self) -> str:
        """How error messages name this manager (the configured class, for factories)."""
        return self._manager_name or type(self).__name__

    @property
    def base_path(self) -> Any:
        return self._base_path

    @abstractmethod
    def dump_to_path(self, context: OutputContext, obj: Any, path: Any) -> None:
        """Write ``obj`` to ``path``."""

    @abstractmethod
    def load_from_path(self, context: InputContext, path: Any) -> Any:
        """Read the value stored at ``path``."""

    # -- paths ------------------------------------------------------------------------
    def get_asset_relative_path(self, context: InputContext | OutputContext) -> Any:
        from upath import UPath

        parts = [check_safe_name(p, what="asset key part") for p in context.asset_key.path]
        return UPath(*parts)

    def _get_path(self, context: InputContext | OutputContext) -> Any:
        if context.has_asset_key:
            rel = self.get_asset_relative_path(context)
            path = self._base_path.joinpath(*rel.parts)
        else:
            path = self._base_path.joinpath(*context.get_identifier())
        if context.partition_key is not None:
            path = path / check_safe_name(context.partition_key, what="partition key")
        return path.with_name(path.name + self.extension) if self.extension else path

    def get_metadata(self, context: OutputContext, obj: Any) -> dict[str, Any]:
        """Extra metadata for the materialization; override to add your own."""
        return {}

    def path_exists(self, path: Any) -> bool:
        return bool(path.exists())

    def make_directory(self, path: Any) -> None:
        path.mkdir(parents=True, exist_ok=True)

    def unlink(self, path: Any) -> None:
        path.unlink()

    # -- the contract ----------------------------------------------------------------
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        path = self._get_path(context)
        self.write_atomically(context, obj, path, self.dump_to_path)
        meta: dict[str, Any] = {"path": MetadataValue.path(str(path))}
        if _is_local(path):
            meta["bytes"] = path.stat().st_size
        context.add_output_metadata({**meta, **self.get_metadata(context, obj)})

    def write_atomically(
        self, context: OutputContext, obj: Any, path: Any, dump: Callable[[OutputContext, Any, Any], None]
    ) -> None:
        """Call ``dump`` so that ``path`` shows either the old value or the complete new one.

        Local paths: dump to a temp file in the same folder, then rename over ``path``. Object
        stores: dump straight to ``path``; the object is published only when its upload completes.
        """
        self.make_directory(path.parent)
        if not _is_local(path):
            dump(context, obj, path)
            return
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            dump(context, obj, tmp)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()

    def missing(self, context: InputContext, path: Any) -> StoredValueNotFoundError:
        """The error for an input whose value was never stored at ``path``."""
        name = context.asset_key.to_user_string() if context.has_asset_key else path.name
        msg = (
            f"asset {name!r} has no stored value at {path} ({self.manager_name}): expected "
            "it to be materialized before it is loaded, got no file there. Materialize it first"
        )
        return StoredValueNotFoundError(
            msg, asset=name, io_manager=self.manager_name, expected=str(path), got="missing"
        )

    def load_input(self, context: InputContext) -> Any:
        path = self._get_path(context)
        if not self.path_exists(path):
            raise self.missing(context, path)
        return self.load_from_path(context, path)
