"""Staleness and skip-unchanged runs, from the versions the run history keeps.

An asset (or one partition of it) is

- **never stored** when the history has no successful materialization of it;
- **failed** when its newest attempt failed;
- **stale** when its code version changed, or an upstream asset's data version is not the one
  it read, or an upstream asset is itself stale, failed or never stored;
- **fresh** otherwise.

A run with ``skip_unchanged`` (``wharf materialize --stale-only``) decides step by step, once
the step's upstream steps are done: an asset whose code version and input data versions are
those of its last successful materialization is skipped (status ``unchanged``). An upstream
that ran again but stored the same data version leaves its dependants unchanged (early
cut-off). Partitioned assets are tracked per partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from wharf._core.keys import AssetKey
from wharf._core.versions import combined_version, source_version

if TYPE_CHECKING:
    from wharf._core.graph import AssetGraph
    from wharf._core.history import HistoryRecord, RunHistory

__all__ = ["AssetStaleness", "VersionTracker", "code_version_of"]

Status = Literal["fresh", "stale", "never stored", "failed"]
_Slot = tuple[str, str | None]


@dataclass(frozen=True)
class AssetStaleness:
    """Whether an asset's stored value is up to date, and why not.

    Attributes:
        status: ``fresh``, ``stale``, ``never stored`` or ``failed``.
        reasons: what makes it stale (empty when fresh).
        code_version: the asset's code version now.
        data_version: the data version of its newest successful materialization.
        partition_key: the partition this is about (None: unpartitioned, or every partition).

    Examples:
        >>> AssetStaleness("stale", ("code version changed",)).describe()
        'stale: code version changed'
    """

    status: Status
    reasons: tuple[str, ...] = ()
    code_version: str | None = None
    data_version: str | None = None
    partition_key: str | None = None

    @property
    def is_stale(self) -> bool:
        """Whether a ``--stale-only`` run would run it (everything but ``fresh``)."""
        return self.status != "fresh"

    def describe(self) -> str:
        """One line: the status and its reasons."""
        return f"{self.status}: {'; '.join(self.reasons)}" if self.reasons else self.status


def code_version_of(node: Any, key: AssetKey | None = None) -> str:
    """The code version of asset ``key`` of ``node`` (an asset, a multi-asset or a step): the
    ``code_version=`` given, else a hash of the function's source."""
    outputs = getattr(node, "outputs", None)
    if isinstance(outputs, Mapping):
        for out in outputs.values():
            if getattr(out, "asset_key", None) == key and getattr(out, "code_version", None):
                return str(out.code_version)
    by_key = getattr(node, "code_versions_by_key", None)
    if isinstance(by_key, Mapping) and by_key.get(key):
        return str(by_key[key])
    inner = getattr(node, "node", None)
    given = getattr(node, "code_version", None) or getattr(inner, "code_version", None)
    if given:
        return str(given)
    fn = getattr(node, "fn", None) or getattr(inner, "fn", None)
    return source_version(fn) if fn is not None else "unknown"


@dataclass
class VersionTracker:
    """The versions of one run: loaded from the history once, updated as steps finish."""

    graph: AssetGraph
    known: dict[_Slot, HistoryRecord]
    attempts: dict[_Slot, str]
    skip_unchanged: bool = False
    #: data versions stored by this run, by slot
    fresh: dict[_Slot, str] = field(default_factory=dict)
    _codes: dict[AssetKey, str] = field(default_factory=dict)

    def code_version(self, key: AssetKey) -> str:
        """The code version of asset ``key`` now (computed once per run)."""
        if key not in self._codes:
            item = self.graph.by_key[key]
            self._codes[key] = code_version_of(getattr(item, "_node", None) or item, key)
        return self._codes[key]

    @classmethod
    def load(
        cls, graph: AssetGraph, history: RunHistory | None, *, skip_unchanged: bool
    ) -> VersionTracker:
        """The versions ``history`` holds (none without one)."""
        if history is None:
            return cls(graph, {}, {}, skip_unchanged)
        keys = [k.to_user_string() for k in graph.by_key]  # not the checks' ASSET#CHECK rows
        return cls(graph, history.versions(keys), history.latest_attempts(keys), skip_unchanged)

    def data_version(self, key: AssetKey, partition: str | None) -> str | None:
        slot = (key.to_user_string(), partition)
        if slot in self.fresh:
            return self.fresh[slot]
        record = self.known.get(slot)
        return record.data_version if record is not None else None

    def input_versions(
        self, run: Any, key: AssetKey, partition: str | None
    ) -> dict[str, str | None]:
        """The current data version of every upstream asset of ``key`` (a partitioned
        upstream: one version made of the versions of the partitions it reads)."""
        from wharf._core.assets import AssetsDefinition

        item = self.graph.by_key.get(key)
        if item is None:
            return {}
        mappings = {i.key: i.partition_mapping for i in getattr(item, "inputs", ())}
        found: dict[str, str | None] = {}
        for up in self.graph.upstream(key):
            parts = None
            if self.graph.by_key[up].partitions_def is not None:
                downstream = item if isinstance(item, AssetsDefinition) else None
                try:
                    one = partition if getattr(run, "partition_keys", None) else None
                    parts = run.upstream_partitions(up, downstream, mappings.get(up), one)
                except Exception:  # the run itself reports a bad mapping
                    parts = None
            if parts is None:
                found[up.to_user_string()] = self.data_version(up, None)
            else:
                each = {p: self.data_version(up, p) for p in parts}
                found[up.to_user_string()] = combined_version(None, each)
        return found

    def unchanged_reason(self, run: Any, key: AssetKey) -> str | None:
        """Why ``key`` need not run again (None: it must run; a range run always runs)."""
        if getattr(run, "partition_keys", None) is not None:
            return None
        part = run.partition_key if self.graph.by_key[key].partitions_def is not None else None
        slot = (key.to_user_string(), part)
        record = self.known.get(slot)
        if record is None or self.attempts.get(slot) == "failed" or slot in self.fresh:
            return None
        if record.code_version != self.code_version(key):
            return None
        inputs = self.input_versions(run, key, part)
        if (record.input_versions or {}) != inputs:
            return None
        return f"unchanged: same code version and input data versions as run {record.run_id[:8]}"

    def remember(self, key: AssetKey, partition: str | None, data_version: str) -> None:
        self.fresh[(key.to_user_string(), partition)] = data_version


def staleness(
    graph: AssetGraph,
    history: RunHistory | None,
    keys: Iterable[AssetKey] | None = None,
    *,
    partition_key: str | None = None,
    run: Any = None,
) -> dict[AssetKey, AssetStaleness]:
    """The staleness of ``keys`` (every asset by default), upstream first.

    A partitioned asset is judged for ``partition_key``, or, without one, over every partition
    the history has (stale if any is; never stored if none is stored).
    """
    from wharf._core.assets import AssetsDefinition

    tracker = VersionTracker.load(graph, history, skip_unchanged=False)
    wanted = set(keys) if keys is not None else None
    result: dict[AssetKey, AssetStaleness] = {}
    for key in graph.toposort():
        item = graph.by_key[key]
        if not isinstance(item, AssetsDefinition) and getattr(item, "_node", None) is None:
            continue  # an external asset: nothing to compute
        parts: list[str | None] = [None]
        if item.partitions_def is not None:
            if partition_key is not None:
                parts = [partition_key]
            else:
                name = key.to_user_string()
                parts = sorted(
                    {p for (k, p) in tracker.known if k == name and p is not None}, key=str
                )
        judged = [_judge(tracker, run, result, key, p) for p in parts] or [
            AssetStaleness("never stored", ("no partition stored",))
        ]
        result[key] = _worst(judged, partition_key)
    return {k: v for k, v in result.items() if wanted is None or k in wanted}


def _judge(
    tracker: VersionTracker,
    run: Any,
    done: Mapping[AssetKey, AssetStaleness],
    key: AssetKey,
    part: str | None,
) -> AssetStaleness:
    code = tracker.code_version(key)
    slot = (key.to_user_string(), part)
    record = tracker.known.get(slot)
    if tracker.attempts.get(slot) == "failed":
        stored = record.data_version if record is not None else None  # its newest attempt
        return AssetStaleness("failed", (), code, stored, part)
    if record is None:
        return AssetStaleness("never stored", (), code, None, part)
    reasons = []
    if record.code_version != code:
        reasons.append(f"code version changed ({record.code_version} -> {code})")
    inputs = tracker.input_versions(_PartitionRun(run, tracker.graph, part), key, part)
    for up, version in inputs.items():
        upstream = done.get(AssetKey.from_user_string(up))
        if upstream is not None and upstream.status != "fresh":
            reasons.append(f"upstream {up!r} is {upstream.status}")
        elif (record.input_versions or {}).get(up) != version:
            reasons.append(f"upstream {up!r} has a newer data version")
    status: Status = "stale" if reasons else "fresh"
    return AssetStaleness(status, tuple(reasons), code, record.data_version, part)


def _worst(judged: list[AssetStaleness], partition_key: str | None) -> AssetStaleness:
    order = {"failed": 0, "stale": 1, "never stored": 2, "fresh": 3}
    worst = min(judged, key=lambda s: order[s.status])
    if len(judged) == 1:
        return worst
    bad = [s for s in judged if s.status == worst.status]
    note = f"{len(bad)} of {len(judged)} partitions {worst.status}"
    return AssetStaleness(
        worst.status, (note, *worst.reasons) if worst.status != "fresh" else (),
        worst.code_version, worst.data_version, partition_key,
    )  # fmt: skip


class _PartitionRun:
    """Enough of a run for :meth:`VersionTracker.input_versions` outside a run."""

    def __init__(self, run: Any, graph: AssetGraph, partition_key: str | None) -> None:
        from datetime import UTC, datetime

        self.graph, self.partition_key = graph, partition_key
        self.run_partition_keys = None if partition_key is None else (partition_key,)
        self.instance = getattr(run, "instance", None)
        self.current_time = getattr(run, "current_time", None) or datetime.now(UTC)

    def upstream_partitions(
        self, key: AssetKey, downstream: Any, mapping: Any = None, partition: Any = None
    ) -> Any:
        from wharf._core.partitioning.runs import upstream_partition_keys

        return upstream_partition_keys(self, key, downstream, mapping, partition)  # type: ignore[arg-type]
