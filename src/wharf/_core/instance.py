"""``DagsterInstance``: where a run's history and dynamic partition keys are kept.

``DagsterInstance.get()`` is the persistent instance under ``$WHARF_HOME`` (``history.sqlite``),
shared by every process that uses the same ``$WHARF_HOME``: keys added in Python are seen by
``wharf materialize``. ``DagsterInstance.ephemeral()`` keeps everything in memory and records
no history (for tests). Only the part of Dagster's instance API that assets and tests use
for dynamic partitions is offered.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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
    def ephemeral(cls) -> DagsterInstance:
        """An instance that keeps dynamic partitions in memory and records no run history."""
        return cls(ephemeral=True)

    @classmethod
    def get(cls) -> DagsterInstance:
        """The persistent instance under ``$WHARF_HOME`` (read when called)."""
        from wharf._core.history import wharf_home

        return cls(wharf_home())

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

    def __repr__(self) -> str:
        where = "ephemeral" if self.is_ephemeral else str(self._home)
        return f"DagsterInstance({where})"
