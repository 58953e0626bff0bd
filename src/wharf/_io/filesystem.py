"""``FilesystemIOManager``, the default: tables as Parquet, other values pickled, on local disk.

The engine, :class:`~wharf._io.object_store.ParquetOrPickleIOManager`, lives in
:mod:`wharf._io.object_store` and serves object stores too; it and the Parquet helpers of
:mod:`wharf._io.parquet_files` are re-exported here for code that imported them from here.
"""

from __future__ import annotations

from pathlib import Path

from wharf._core.config import InitResourceContext
from wharf._core.history import wharf_home
from wharf._io.object_store import BlobIOManagerFactory, ParquetOrPickleIOManager
from wharf._io.parquet_files import load_parquet, write_parquet

__all__ = [
    "FilesystemIOManager",
    "ParquetOrPickleIOManager",
    "load_parquet",
    "write_parquet",
]


class FilesystemIOManager(BlobIOManagerFactory):
    """The default I/O manager: tables as Parquet, other values pickled, on the local disk.

    Without ``base_dir`` values go to the run's ``instance.storage_directory()``, as in Dagster:
    ``$WHARF_HOME/storage`` (``.wharf/storage`` in the current folder) for the default
    instance, so a later run loads what an earlier one stored.

    Examples:
        >>> FilesystemIOManager(base_dir="/tmp/wharf-doc")
        FilesystemIOManager(base_dir='/tmp/wharf-doc')
    """

    base_dir: str | None = None

    def local_base(self) -> Path:
        """``base_dir``, or the default instance's storage folder."""
        return Path(self.base_dir) if self.base_dir else wharf_home() / "storage"

    def is_machine_local(self) -> bool:
        """Files on this machine: a remote Dask cluster cannot reach them."""
        return True

    def create_io_manager(self, context: InitResourceContext) -> ParquetOrPickleIOManager:
        base = self.base_dir
        if base is None:
            instance = context.instance
            base = instance.storage_directory() if instance else str(wharf_home() / "storage")
        manager = ParquetOrPickleIOManager(base_path=base)
        manager._manager_name = type(self).__name__
        return manager
