"""``UPathIOManager``: the base for I/O managers that store one file (or object) per asset.

Paths are ``base_path / <key parts> [/ <partition>] + extension`` on any fsspec filesystem
(local, ``s3://``, ``gs://``, ``abfs://``, ...) through universal-pathlib. Local writes go to a
temp file in the target folder and are renamed into place, so a failed dump leaves the old
value intact; object stores publish an object only when its upload completes.

A partitioned asset stores one object per partition: ``<key parts>/<partition>`` (a
multi-partition key is one folder level per dimension, dimensions ordered by name, as in
Dagster). An input that loads several upstream partitions gets a ``dict`` of partition key to
value, or one concatenated frame when it is annotated with a frame type; see
:mod:`wharf._io.partitioned`.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from wharf._core.contexts import InputContext, OutputContext
from wharf._core.keys import check_safe_name
from wharf._core.partitioning.definitions import MultiPartitionKey, check_partition_key
from wharf._core.results import MetadataValue
from wharf._io import partitioned
from wharf._io.base import IOManager
from wharf._io.table_options import refuse_write_modes
from wharf._stores.blob import blob_store_for, local_path
from wharf._stores.spool import _SWEPT_FOLDERS, sweep_folder, sweep_stale  # noqa: F401
from wharf.errors import StorageError, StoredValueNotFoundError

if TYPE_CHECKING:
    from wharf._stores.blob import BlobStore

T = TypeVar("T")

_LOG = logging.getLogger("wharf")

__all__ = ["UPathIOManager", "local_path", "sweep_folder", "sweep_stale"]


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

    @property
    def blob_store(self) -> BlobStore:
        """Where the values' bytes go: the local disk or an fsspec filesystem
        (:mod:`wharf._stores.blob`), chosen once from :attr:`base_path`."""
        store: BlobStore | None = self.__dict__.get("_blob_store")
        if store is None:
            store = self._blob_store = blob_store_for(self._base_path)
        return store

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

    def _get_path_without_extension(self, context: InputContext | OutputContext) -> Any:
        if context.has_asset_key:
            rel = self.get_asset_relative_path(context)
            return self._base_path.joinpath(*rel.parts)
        path = self._base_path.joinpath(*context.get_identifier())
        if context.partition_key is not None:  # an op output of a partitioned run
            path = path / check_partition_key(context.partition_key)
        return path

    def _with_extension(self, path: Any) -> Any:
        return path.with_name(path.name + self.extension) if self.extension else path

    def _get_path(self, context: InputContext | OutputContext) -> Any:
        """The path of the context's value: the asset's, or its one partition's."""
        if context.has_asset_key and context.has_asset_partitions:
            key = context.asset_partition_key
            return self._get_paths_for_partitions(context, [key])[key]
        return self._with_extension(self._get_path_without_extension(context))

    def get_path_for_partition(
        self, context: InputContext | OutputContext, path: Any, partition: str
    ) -> Any:
        """Where one partition lives below the asset's path (before the extension is added);
        ``partition`` is the key, or ``<dim 1 key>/<dim 2 key>`` for a multi-partition key."""
        return path.joinpath(*partition.split("/"))

    def _get_paths_for_partitions(
        self, context: InputContext | OutputContext, keys: list[str] | None = None
    ) -> dict[str, Any]:
        """Partition key -> path, for ``keys`` (default: the context's asset partitions)."""
        base = self._get_path_without_extension(context)
        paths = {}
        for key in context.asset_partition_keys if keys is None else keys:
            if isinstance(key, MultiPartitionKey):
                parts = list(key.keys_by_dimension.values())  # ordered by dimension name
            else:
                parts = [key]
            safe = "/".join(check_partition_key(p) for p in parts)
            paths[key] = self._with_extension(self.get_path_for_partition(context, base, safe))
        return paths

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
        refuse_write_modes(context, self)
        if partitioned.store_each_partition(context, obj, self.handle_output, self.manager_name):
            return
        path = self._get_path(context)
        self.write_atomically(context, obj, path, self.dump_to_path)
        meta: dict[str, Any] = {"path": MetadataValue.path(str(path))}
        if self.blob_store.local_root is not None:
            meta["bytes"] = path.stat().st_size
        context.add_output_metadata({**meta, **self.get_metadata(context, obj)})

    def write_atomically(
        self,
        context: OutputContext,
        obj: Any,
        path: Any,
        dump: Callable[[OutputContext, Any, Any], None],
    ) -> None:
        """Call ``dump`` so that ``path`` shows either the old value or the complete new one.

        Local paths: dump to a temp file in the same folder, then rename over ``path``
        (:class:`~wharf._stores.blob.LocalBlobStore`). Object stores: as in Dagster, ``dump``
        writes the object itself, which is published when its upload completes.
        """
        self.replace_unpartitioned(context, path)
        if self.blob_store.local_root is None:  # a subclass's dump writes the object itself
            self.make_directory(path.parent)
            dump(context, obj, path)
            return
        self.write_local(context, path, lambda tmp: dump(context, obj, tmp))

    def write_local(self, context: OutputContext, path: Path, write: Callable[[Path], T]) -> T:
        """``write`` a temp file beside ``path``, then rename it over ``path`` (atomic on one
        file system); a path that cannot hold the value is a :class:`StorageError`."""
        name = context.asset_key.to_user_string() if context.has_asset_key else path.name
        store = self.blob_store
        store.check(path, asset=name, manager=self.manager_name)
        try:
            result, _ = store.put(path, write)
        except StorageError:
            raise
        except store.errors() as exc:
            raise store.error("upload", path, exc, asset=name, manager=self.manager_name) from exc
        return result

    def remove(self, context: OutputContext, path: Any) -> bool | None:
        """Delete the value at ``path`` if there is one (:meth:`BlobStore.delete
        <wharf._stores.blob.BlobStore.delete>`)."""
        return self.blob_store.delete(path)

    def replace_unpartitioned(self, context: OutputContext, path: Any) -> None:
        """Before the first partition of an asset that used to be unpartitioned is written: the
        old value is a file where the partitions' folder must go, so it is removed (as Dagster
        does)."""
        if not context.has_asset_partitions or not context.has_asset_key:
            return
        folder = self._get_path_without_extension(context)
        if self.remove(context, folder):
            _LOG.warning(
                "asset %s is now partitioned: removed its unpartitioned value at %s",
                context.asset_key.to_user_string(), folder,
            )  # fmt: skip

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
        if not context.has_asset_key or not context.has_asset_partitions:
            return self.load_one(context)
        return self.load_partitions(context)

    def load_one(self, context: InputContext) -> Any:
        """Load one stored value: the asset's, or its one partition's.

        Raises:
            FileNotFoundError: (a :class:`StoredValueNotFoundError`) nothing is stored there.
        """
        path = self._get_path(context)
        if not self.path_exists(path):
            raise self.missing(context, path)
        return self.load_from_path(context, path)

    def partition_load_type(self, context: InputContext) -> Any:
        """What one partition of a several-partition input loads as (None: the input's own
        value type); the base class asks the subclass for the input's type."""
        return None

    def load_partitions(self, context: InputContext) -> Any:
        """Load every upstream partition of the input, one :meth:`load_one` each, and combine
        them: one value, a dict by partition key, or one frame (:mod:`wharf._io.partitioned`)."""
        loaded: dict[str, Any] = {}
        missing: dict[str, Any] = {}
        paths = self._get_paths_for_partitions(context)
        each = self.partition_load_type(context)
        for key, path in paths.items():
            try:
                loaded[key] = self.load_one(partitioned.for_partition(context, key, each))
            except FileNotFoundError:
                missing[key] = path
        if missing and not partitioned.allow_missing(context):
            raise partitioned.missing_error(context, missing, self.manager_name)
        for key in missing:
            _LOG.warning("skipping missing partition %s (allow_missing_partitions)", key)
        return partitioned.combine(context, loaded, self.manager_name)
