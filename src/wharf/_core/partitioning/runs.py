"""Partitions in runs: the key a run materializes, the keys each input loads, backfill plans.

A run has at most one partition key. Every selected partitioned asset materializes that
partition (the key must be one of its partitions); selected unpartitioned assets run as usual.
A run may instead have a range of keys (``materialize(partition_key_range=...)``): its
partitioned assets see every key of the range and store them in one write. A backfill
(``wharf materialize --partitions A...B``) is one run per key, in order, or one run per range
of keys when the assets' backfill policies allow several keys in one run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wharf._core.partitioning.backfill import chunk_keys, run_size
from wharf._core.partitioning.definitions import (
    PartitionKeyRange,
    PartitionsDefinition,
    check_partition_key,
)
from wharf._core.partitioning.mappings import (
    IdentityPartitionMapping,
    StaticPartitionMapping,
    infer_partition_mapping,
)
from wharf.errors import DefinitionError, UnknownPartitionError

if TYPE_CHECKING:
    from wharf._core.assets import AssetsDefinition
    from wharf._core.execution import RunContext
    from wharf._core.graph import AssetGraph
    from wharf._core.keys import AssetKey


def upstream_partition_keys(
    run: RunContext,
    key: AssetKey,
    downstream: AssetsDefinition | None,
    mapping: Any = None,
    partition: str | None = None,
) -> tuple[str, ...] | None:
    """The partitions of ``key`` that an input of ``downstream`` loads (None: unpartitioned);
    ``partition``: for that one of the run's partitions only."""
    upstream = run.graph.by_key[key].partitions_def
    if upstream is None:
        return None
    store, now = run.instance, run.current_time
    run_keys = run.run_partition_keys if partition is None else (partition,)
    if downstream is None:  # result.asset_value / Definitions.load_asset_value
        if run_keys is not None:
            return tuple(upstream.check_key(k, dynamic_partitions_store=store) for k in run_keys)
        return tuple(upstream.get_partition_keys(now, store))
    found = infer_partition_mapping(mapping, downstream.partitions_def, upstream)
    assert found is not None
    down_keys: Sequence[str | None] = (None,)
    if downstream.partitions_def is not None and run_keys is not None:
        down_keys = run_keys
    if len(down_keys) > 1:  # a range run: the mapping maps the range at once
        keys = found.upstream_partition_keys_for_keys(
            [str(k) for k in down_keys], downstream.partitions_def, upstream, current_time=now,
            dynamic_partitions_store=store,
        )  # fmt: skip
    else:
        keys = found.upstream_partition_keys(
            down_keys[0], downstream.partitions_def, upstream, current_time=now,
            dynamic_partitions_store=store,
        )  # fmt: skip
    checked = isinstance(found, IdentityPartitionMapping | StaticPartitionMapping) and down_keys[0]
    unknown = _unknown(upstream, keys, now, store) if checked else []
    if unknown:
        up, down = key.to_user_string(), downstream.key.to_user_string()
        which = down_keys[0] if len(down_keys) == 1 else f"{down_keys[0]}...{down_keys[-1]}"
        msg = (
            f"asset {down!r} (partition {which!r}) loads partitions {unknown[:10]} of {up!r} "
            f"through {found!r}, but {up!r} has {upstream.describe()} without them: expected "
            "a partition_mapping that maps to existing partitions"
        )
        raise UnknownPartitionError(msg, asset=down, expected=up, got=str(unknown[:10]))
    return tuple(keys)


def _unknown(upstream: PartitionsDefinition, keys: list[str], now: Any, store: Any) -> list[str]:
    if len(keys) == 1:
        return [] if upstream.has_partition_key(keys[0], now, store) else keys
    known = set(upstream.get_partition_keys(now, store))
    return [k for k in keys if k not in known]


def _partitioned(graph: AssetGraph, selected: Sequence[AssetKey]) -> list[AssetsDefinition]:
    from wharf._core.assets import AssetsDefinition

    items = [graph.by_key[k] for k in selected]
    return [a for a in items if isinstance(a, AssetsDefinition) and a.partitions_def is not None]


def check_run_partition(
    graph: AssetGraph,
    selected: Sequence[AssetKey],
    partition_key: object,
    *,
    instance: Any = None,
    current_time: datetime | None = None,
    hint: str = "partition_key={key!r}",
) -> str | None:
    """The run's partition key, checked against every selected partitioned asset.

    ``hint`` shows how to pass a key where one is missing (the CLI says ``--partition {key}``).
    """
    partitioned = _partitioned(graph, selected)
    if partition_key is None:
        if partitioned:
            first = partitioned[0]
            assert first.partitions_def is not None
            pdef, name = first.partitions_def, first.key.to_user_string()
            last = pdef.get_last_partition_key(current_time, instance)
            example = f", e.g. {hint.format(key=last)}" if last else ""
            msg = (
                f"asset {name!r} is partitioned ({pdef.describe()}): expected a partition key "
                f"for the run{example}; got none"
            )
            raise DefinitionError(msg, asset=name, expected="a partition key", got="none")
        return None
    if not partitioned:
        key = check_partition_key(partition_key)
        msg = (
            f"partition key {key!r} was given, but none of the selected assets is partitioned: "
            "expected @asset(partitions_def=...) on the assets to run, or no partition key"
        )
        raise DefinitionError(msg, expected="a partitioned asset", got="none")
    keys = {
        a.partitions_def.check_key(
            partition_key, asset=a.key.to_user_string(), dynamic_partitions_store=instance,
            current_time=current_time,
        )
        for a in partitioned
        if a.partitions_def is not None
    }  # fmt: skip
    return str(next(iter(keys)))


def parse_partition_selection(text: str) -> PartitionKeyRange | list[str]:
    """``"A...B"`` is a range (both ends included), ``"A,B,C"`` a list, anything else one key.

    Examples:
        >>> parse_partition_selection("2024-01-01...2024-01-31")
        PartitionKeyRange(start='2024-01-01', end='2024-01-31')
        >>> parse_partition_selection("eu, us")
        ['eu', 'us']
    """
    if "..." in text and "," not in text:
        start, _, end = text.partition("...")
        return PartitionKeyRange(start.strip(), end.strip())
    return [k.strip() for k in text.split(",") if k.strip()]


def _keys_in_range(
    partitioned: Sequence[AssetsDefinition], selection: PartitionKeyRange, instance: Any
) -> list[str]:
    defs: list[PartitionsDefinition] = []
    for a in partitioned:
        if a.partitions_def is not None and a.partitions_def not in defs:
            defs.append(a.partitions_def)
    if len(defs) > 1:
        names = "; ".join(d.describe() for d in defs)
        msg = (
            f"a partition range needs one partitions definition, but the selected assets have "
            f"{len(defs)} ({names}): select assets that share one, or list the keys"
        )
        raise DefinitionError(msg, expected="one partitions definition", got=names)
    return defs[0].get_partition_keys_in_range(selection, instance)


#: the run tags that give a run a partition range, as Dagster names them
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def check_run_partitions(
    graph: AssetGraph,
    selected: Sequence[AssetKey],
    partition_key: object,
    partition_key_range: PartitionKeyRange | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    instance: Any = None,
    current_time: datetime | None = None,
    hint: str = "partition_key={key!r}",
) -> tuple[str | None, tuple[str, ...] | None]:
    """The run's ``(partition key, range keys)``: a key alone, or (with a
    ``partition_key_range`` or the range tags) every key of the range in order (a range of one
    key is that key)."""
    tags = tags or {}
    if partition_key_range is None and (RANGE_START_TAG in tags or RANGE_END_TAG in tags):
        start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
        if start is None or end is None:
            msg = (
                f"the run tags give one end of a partition range ({RANGE_START_TAG}={start!r}, "
                f"{RANGE_END_TAG}={end!r}): expected both tags"
            )
            raise DefinitionError(msg, expected="both range tags", got="one")
        partition_key_range = PartitionKeyRange(start, end)
    if partition_key_range is None:
        key = check_run_partition(
            graph, selected, partition_key, instance=instance, current_time=current_time,
            hint=hint,
        )  # fmt: skip
        return key, None
    if partition_key is not None:
        msg = (
            f"the run got partition_key={partition_key!r} and a partition range "
            f"{partition_key_range.start!r}...{partition_key_range.end!r}: expected one of them"
        )
        raise DefinitionError(msg, expected="a key or a range", got="both")
    if not isinstance(partition_key_range, PartitionKeyRange):
        msg = f"partition_key_range={partition_key_range!r}: expected a PartitionKeyRange"
        raise DefinitionError(msg, expected="a PartitionKeyRange", got=repr(partition_key_range))
    partitioned = _partitioned(graph, selected)
    if not partitioned:
        msg = (
            f"a partition range {partition_key_range.start!r}...{partition_key_range.end!r} was "
            "given, but none of the selected assets is partitioned: expected "
            "@asset(partitions_def=...) on the assets to run"
        )
        raise DefinitionError(msg, expected="a partitioned asset", got="none")
    keys = _keys_in_range(partitioned, partition_key_range, instance)
    if len(keys) == 1:
        return keys[0], None
    return None, tuple(keys)


@dataclass
class BackfillPlan:
    """What a backfill runs: ``before`` once, ``partitioned`` once per run of ``runs`` (one
    key each, unless the assets' backfill policies put several consecutive keys in one run),
    ``after`` once."""

    keys: list[str]
    partitioned: list[AssetKey]
    before: list[AssetKey] = field(default_factory=list)
    after: list[AssetKey] = field(default_factory=list)
    runs: list[list[str]] = field(default_factory=list)

    def run_partitions(self) -> list[tuple[str | None, PartitionKeyRange | None]]:
        """Each run's ``partition_key`` or ``partition_key_range`` (a run of several keys).

        Examples:
            >>> plan = BackfillPlan(["a", "b", "c"], [], runs=[["a"], ["b", "c"]])
            >>> plan.run_partitions()
            [('a', None), (None, PartitionKeyRange(start='b', end='c'))]
        """
        return [
            (keys[0], None) if len(keys) == 1 else (None, PartitionKeyRange(keys[0], keys[-1]))
            for keys in self.runs
        ]


def plan_backfill(
    graph: AssetGraph,
    selected: Sequence[AssetKey],
    selection: PartitionKeyRange | Sequence[str],
    *,
    instance: Any = None,
    current_time: datetime | None = None,
) -> BackfillPlan:
    """Check the keys against every selected partitioned asset and order the runs."""
    partitioned = _partitioned(graph, selected)
    if not partitioned:
        msg = "a backfill needs partitioned assets: none of the selected assets is partitioned"
        raise DefinitionError(msg, expected="a partitioned asset", got="none")
    if isinstance(selection, PartitionKeyRange):
        keys = _keys_in_range(partitioned, selection, instance)
    else:
        keys = list(dict.fromkeys(selection))
        for key in keys:
            check_run_partition(
                graph,
                [a.key for a in partitioned],
                key,
                instance=instance,
                current_time=current_time,
            )
    if not keys:
        msg = "the partition selection names no partition: expected at least one key"
        raise DefinitionError(msg, expected="one or more keys", got="none")
    plan = _order(graph, selected, keys, {a.key for a in partitioned})
    size = run_size([getattr(a, "backfill_policy", None) for a in partitioned])
    pdef = partitioned[0].partitions_def
    if size == 1 or pdef is None:
        plan.runs = [[k] for k in keys]
    else:  # each run a range: consecutive keys of the (one) definition, at most ``size``
        order = {k: i for i, k in enumerate(pdef.get_partition_keys(current_time, instance))}
        plan.runs = [
            chunk for span in _consecutive_spans(keys, order) for chunk in chunk_keys(span, size)
        ]
    return plan


def _consecutive_spans(keys: list[str], order: Mapping[str, int]) -> list[list[str]]:
    """``keys`` cut where the next key is not the definition's next partition."""
    spans: list[list[str]] = []
    for key in keys:
        if spans and order.get(key, -2) == order.get(spans[-1][-1], -5) + 1:
            spans[-1].append(key)
        else:
            spans.append([key])
    return spans


def _order(
    graph: AssetGraph, selected: Sequence[AssetKey], keys: list[str], partitioned: set[AssetKey]
) -> BackfillPlan:
    plan = BackfillPlan(keys, [k for k in selected if k in partitioned])
    for key in selected:
        if key in partitioned:
            continue
        above = _ancestors(graph, key) & partitioned
        below = {p for p in partitioned if key in _ancestors(graph, p)}
        if above and below:
            name = key.to_user_string()
            msg = (
                f"cannot backfill: unpartitioned asset {name!r} is downstream of partitioned "
                f"{sorted(k.to_user_string() for k in above)} and upstream of partitioned "
                f"{sorted(k.to_user_string() for k in below)}: materialize it in a separate run"
            )
            raise DefinitionError(msg, asset=name, expected="a separate run", got="both")
        (plan.after if above else plan.before).append(key)
    return plan


def _ancestors(graph: AssetGraph, key: AssetKey) -> set[AssetKey]:
    seen: set[AssetKey] = set()
    todo = list(graph.upstream(key))
    while todo:
        up = todo.pop()
        if up not in seen:
            seen.add(up)
            todo.extend(graph.upstream(up))
    return seen
