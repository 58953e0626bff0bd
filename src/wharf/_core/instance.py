"""``DagsterInstance``: where a run's history and dynamic partition keys are kept.

``DagsterInstance.get()`` is the persistent instance under ``$WHARF_HOME`` (``history.sqlite``),
shared by every process that uses the same ``$WHARF_HOME``: keys added in Python are seen by
``wharf materialize``. ``DagsterInstance.ephemeral()`` keeps everything in memory and records
no history (for tests). :func:`instance_for_test` is a persistent instance in a temporary
folder, made ``$WHARF_HOME`` while it is open. :meth:`DagsterInstance.storage_directory` is
where the default ``FilesystemIOManager`` stores values, as in Dagster. Only the part of
Dagster's instance API that assets and tests use is offered.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wharf._core.partitioning.definitions import check_partition_key

if TYPE_CHECKING:
    from wharf._core.history import RunHistory


class DagsterInstance:
    """Run history and dynamic partitions, persistent (:meth:`get`) or in memory.

    Examples:
        >>> instance = DagsterInstance.ephemeral()
        >>> instance.add_dynamic_partitions("files", ["a.csv", "b.csv", "a.csv"])
        >>> instance.get_dynamic_partitions("files"), instance.has_dynamic_partition("files", "c")
        (['a.csv', 'b.csv'], False)
    """

    def __init__(self, home: Path | None = None, *, ephemeral: bool = False) -> None:
        self._home = home
        self.is_ephemeral = ephemeral
        self._memory: dict[str, list[str]] = {}

    @classmethod
    def ephemeral(
        cls,
        tempdir: str | os.PathLike[str] | None = None,
        preload: Sequence[Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> DagsterInstance:
        """An instance that keeps dynamic partitions in memory and records no run history.

        Its :meth:`storage_directory` is ``<tempdir>/storage``; without ``tempdir``, a temporary
        folder removed when the instance is garbage-collected. ``preload`` and ``settings``
        are accepted for Dagster's signature and not used.

        Examples:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     instance = DagsterInstance.ephemeral(tempdir=folder)
            ...     instance.storage_directory() == f"{folder}/storage"
            True
        """
        del preload, settings
        instance = cls(Path(tempdir) if tempdir is not None else None, ephemeral=True)
        if tempdir is None:
            made = tempfile.mkdtemp(prefix="wharf-ephemeral-")
            instance._home = Path(made)
            weakref.finalize(instance, shutil.rmtree, made, ignore_errors=True)
        return instance

    @classmethod
    def get(cls) -> DagsterInstance:
        """The persistent instance under ``$WHARF_HOME`` (read when called)."""
        from wharf._core.history import wharf_home

        return cls(wharf_home())

    def storage_directory(self) -> str:
        """The folder the default ``FilesystemIOManager`` stores values in (``<home>/storage``)."""
        return str(self.root_directory / "storage")

    @property
    def history_path(self) -> Path | None:
        """The SQLite file of the persistent instance (None when ephemeral)."""
        return None if self.is_ephemeral or self._home is None else self._home / "history.sqlite"

    def run_history(self) -> RunHistory | None:
        """The run history to record into (None when ephemeral); the caller closes it."""
        from wharf._core.history import RunHistory

        path = self.history_path
        return RunHistory(path) if path is not None else None

    def add_dynamic_partitions(
        self, partitions_def_name: str, partition_keys: Sequence[str]
    ) -> None:
        """Add keys to a dynamic partitions definition; keys already there are kept once."""
        if isinstance(partition_keys, str):
            partition_keys = [partition_keys]
        keys = [check_partition_key(k) for k in partition_keys]
        history = self.run_history()
        if history is None:
            known = self._memory.setdefault(partitions_def_name, [])
            known.extend(k for k in dict.fromkeys(keys) if k not in known)
            return
        with history:
            history.add_dynamic_partitions(partitions_def_name, keys, time.time())

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        """The keys of a dynamic partitions definition, in the order they were added."""
        history = self.run_history()
        if history is None:
            return list(self._memory.get(partitions_def_name, ()))
        with history:
            return history.dynamic_partitions(partitions_def_name)

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        return partition_key in self.get_dynamic_partitions(partitions_def_name)

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        """Remove one key (the data stored for it stays)."""
        history = self.run_history()
        if history is None:
            known = self._memory.get(partitions_def_name, [])
            if partition_key in known:
                known.remove(partition_key)
            return
        with history:
            history.delete_dynamic_partition(partitions_def_name, partition_key)

    @property
    def root_directory(self) -> Path:
        """The instance's folder (``$WHARF_HOME`` for :meth:`get`)."""
        from wharf._core.history import wharf_home

        return self._home if self._home is not None else wharf_home()

    def __enter__(self) -> DagsterInstance:
        return self

    def __exit__(self, *exc: object) -> None:
        """Nothing to release: the history is opened per call."""

    def __repr__(self) -> str:
        where = "ephemeral" if self.is_ephemeral else str(self._home)
        return f"DagsterInstance({where})"


@contextmanager
def instance_for_test(
    overrides: Mapping[str, Any] | None = None,
    set_dagster_home: bool = True,
    temp_dir: str | os.PathLike[str] | None = None,
) -> Iterator[DagsterInstance]:
    """A persistent instance (run history kept) in a temporary folder, for one test.

    With ``set_dagster_home`` the folder is ``$WHARF_HOME`` (and ``$DAGSTER_HOME``) while the
    block runs, so ``DagsterInstance.get()`` and the ``wharf`` CLI use it; the variables are
    restored after. ``temp_dir`` is a folder to use instead of a new one (it is kept).
    ``overrides`` (Dagster's instance settings) are accepted and not used.

    Examples:
        >>> import os
        >>> with instance_for_test() as instance:
        ...     os.environ["WHARF_HOME"] == str(instance.root_directory)
        True
    """
    del overrides
    with tempfile.TemporaryDirectory(prefix="wharf-test-") as made:
        home = Path(temp_dir) if temp_dir is not None else Path(made)
        saved = {name: os.environ.get(name) for name in ("WHARF_HOME", "DAGSTER_HOME")}
        if set_dagster_home:
            os.environ["WHARF_HOME"] = os.environ["DAGSTER_HOME"] = str(home)
        try:
            yield DagsterInstance(home)
        finally:
            if set_dagster_home:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
