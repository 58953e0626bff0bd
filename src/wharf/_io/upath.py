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

import contextlib
import errno
import logging
import os
import time
import uuid
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from wharf._core.contexts import InputContext, OutputContext
from wharf._core.keys import check_safe_name
from wharf._core.partitioning.definitions import MultiPartitionKey, check_partition_key
from wharf._core.results import MetadataValue
from wharf._io import partitioned
from wharf._io.base import IOManager
from wharf._io.table_options import refuse_write_modes
from wharf._stores.turns import process_alive
from wharf.errors import StorageError, StoredValueNotFoundError

T = TypeVar("T")

#: errors of a path that cannot hold the value: name too long, a file or folder in the way
_PATH_ERRORS = frozenset({errno.ENAMETOOLONG, errno.EISDIR, errno.ENOTDIR, errno.EEXIST})

_LOG = logging.getLogger("wharf")


def sweep_stale(folder: Path, prefix: str, suffix: str, *, marker: str = "") -> None:
    """Remove ``<prefix><pid>-<id><suffix>`` files in ``folder`` whose writer process is gone
    (killed mid-write: ``kill -9`` leaves its temp file); a live writer's file is kept. With a
    ``marker``, the PID follows the marker's last occurrence in the name."""
    try:
        names = [
            n
            for n in os.listdir(folder)
            if n.startswith(prefix) and n.endswith(suffix) and marker in n
        ]
    except OSError:
        return
    for name in names:
        body = name[len(prefix) : -len(suffix)]
        pid = (body.rsplit(marker, 1)[-1] if marker else body).split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            with contextlib.suppress(OSError):
                (folder / name).unlink()
                _LOG.info("removed %s, left by writer process %s that is gone", name, pid)


#: folder -> when its stale temp files were last swept (monotonic seconds)
_SWEPT_FOLDERS: dict[str, float] = {}
_SWEEP_EVERY_S = 60.0


def sweep_folder(folder: Path) -> None:
    """Remove what killed writers left in ``folder`` (any value's temp file), at most once a
    minute per folder: listing a folder of 12,000 partition files before each of 12,000 writes
    would make a range run quadratic."""
    now, key = time.monotonic(), str(folder)
    last = _SWEPT_FOLDERS.get(key)
    if last is not None and now - last < _SWEEP_EVERY_S:
        return
    _SWEPT_FOLDERS[key] = now
    sweep_stale(folder, ".", ".tmp", marker=".wharf-")


def local_path(path: Any) -> Path:
    """A local path (a pathlib path, or a ``file://`` / plain UPath) as a pathlib ``Path``."""
    return Path(path.path) if hasattr(path, "protocol") else Path(path)


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
        if _is_local(path):
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

        Local paths: dump to a temp file in the same folder, then rename over ``path``. Object
        stores: dump straight to ``path``; the object is published only when its upload completes.
        """
        self.replace_unpartitioned(context, path)
        if not _is_local(path):
            self.make_directory(path.parent)
            dump(context, obj, path)
            return
        self.write_local(context, path, lambda tmp: dump(context, obj, tmp))

    def write_local(self, context: OutputContext, path: Path, write: Callable[[Path], T]) -> T:
        """``write`` a temp file beside ``path``, then rename it over ``path`` (atomic on one
        file system); a path that cannot hold the value is a :class:`StorageError`."""
        from wharf._io.blob_names import check_local_path

        name = context.asset_key.to_user_string() if context.has_asset_key else path.name
        check_local_path(self.manager_name, name, local_path(self._base_path), local_path(path))
        # the temp name keeps a name near the file system's limit from overflowing it; the
        # writer's PID in it lets a later write remove what a killed writer left behind
        stem = f".{path.name[:100]}.wharf-"
        tmp = path.with_name(f"{stem}{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            sweep_folder(Path(path.parent))
            result = write(tmp)
            os.replace(tmp, path)
        except StorageError:
            raise
        except OSError as exc:
            raise self._path_error(context, path, exc) from exc
        finally:
            with contextlib.suppress(OSError):  # the error to report is the first one
                tmp.unlink(missing_ok=True)
        return result

    def _path_error(self, context: OutputContext, path: Any, exc: OSError) -> StorageError:
        """A value that cannot be written at ``path``: a name too long, another asset in the
        way, or the file system's own error (no space left, read-only)."""
        name = context.asset_key.to_user_string() if context.has_asset_key else path.name
        if exc.errno == errno.ENAMETOOLONG:
            why = "the name is longer than the file system allows (255 bytes per file name)"
            expected = "a shorter asset key or partition key"
        elif exc.errno not in _PATH_ERRORS:  # a full disk, a read-only folder, a lost mount
            why = f"[Errno {exc.errno}] {exc.strerror}"
            expected = "a file system that accepts the write"
        else:
            why = (
                "another asset's value is in the way (a file where a folder must go, or a "
                "folder of assets whose keys start with this one's where its file must go)"
            )
            expected = "asset keys where no key is the prefix of another's"
        msg = (
            f"{self.manager_name} could not store asset {name!r} at {path}: {why}; the "
            "previously stored value is unchanged"
        )
        return StorageError(
            msg, asset=name, io_manager=self.manager_name, expected=expected, got=exc.strerror
        )

    def replace_unpartitioned(self, context: OutputContext, path: Any) -> None:
        """Before the first partition of an asset that used to be unpartitioned is written: the
        old value is a file where the partitions' folder must go, so it is removed (as Dagster
        does)."""
        if not context.has_asset_partitions or not context.has_asset_key:
            return
        folder = self._get_path_without_extension(context)
        if _is_local(folder) and folder.is_file():
            _LOG.warning(
                "asset %s is now partitioned: removing its unpartitioned value at %s",
                context.asset_key.to_user_string(), folder,
            )  # fmt: skip
            folder.unlink()

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
