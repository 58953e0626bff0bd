"""Partition mappings: which upstream partitions one partition of a downstream asset loads.

Without ``AssetIn(partition_mapping=...)`` the mapping is inferred as in Dagster: an
unpartitioned upstream loads whole; an unpartitioned downstream loads every upstream partition
(:class:`AllPartitionMapping`); two time-window definitions use
:class:`TimeWindowPartitionMapping` (a daily asset reads the 24 hours of its day); anything
else uses :class:`IdentityPartitionMapping` (the same key).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from wharf._core.partitioning.definitions import DynamicPartitionsStore, PartitionsDefinition
from wharf.errors import DefinitionError, UnknownPartitionError


class PartitionMapping(ABC):
    """Maps a downstream partition to the upstream partitions it depends on."""

    @abstractmethod
    def upstream_partition_keys(
        self,
        downstream_partition_key: str | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The upstream keys for ``downstream_partition_key`` (None: downstream unpartitioned)."""

    def upstream_partition_keys_for_keys(
        self,
        downstream_partition_keys: Sequence[str],
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The upstream keys of several downstream keys (a range run), each once, in order.

        Mappings whose answer does not depend on the key, or that can map a whole range at
        once, answer in one step (no per-key work for a 3,650-partition range)."""
        found: dict[str, None] = {}
        for key in downstream_partition_keys:
            found.update(dict.fromkeys(self.upstream_partition_keys(
                key, downstream_partitions_def, upstream_partitions_def,
                current_time=current_time, dynamic_partitions_store=dynamic_partitions_store,
            )))  # fmt: skip
        return list(found)

    def check_definitions(
        self, downstream: PartitionsDefinition | None, upstream: PartitionsDefinition | None
    ) -> None:
        """Raise a :class:`DefinitionError` if the mapping cannot join these definitions."""
        return

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class IdentityPartitionMapping(PartitionMapping):
    """The upstream partition with the same key (every partition for an unpartitioned asset)."""

    def upstream_partition_keys(
        self,
        downstream_partition_key: str | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        if downstream_partition_key is None:
            return upstream_partitions_def.get_partition_keys(
                current_time, dynamic_partitions_store
            )
        return [downstream_partition_key]

    def upstream_partition_keys_for_keys(
        self,
        downstream_partition_keys: Sequence[str],
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        return list(dict.fromkeys(downstream_partition_keys))


class _KeyIndependent(PartitionMapping):
    """A mapping whose upstream keys do not depend on the downstream key."""

    def upstream_partition_keys_for_keys(
        self,
        downstream_partition_keys: Sequence[str],
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        first = downstream_partition_keys[0] if downstream_partition_keys else None
        return self.upstream_partition_keys(
            first, downstream_partitions_def, upstream_partitions_def,
            current_time=current_time, dynamic_partitions_store=dynamic_partitions_store,
        )  # fmt: skip


class AllPartitionMapping(_KeyIndependent):
    """Every upstream partition."""

    def upstream_partition_keys(
        self,
        downstream_partition_key: str | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        return upstream_partitions_def.get_partition_keys(current_time, dynamic_partitions_store)


class LastPartitionMapping(_KeyIndependent):
    """The last (latest) upstream partition."""

    def upstream_partition_keys(
        self,
        downstream_partition_key: str | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        last = upstream_partitions_def.get_last_partition_key(
            current_time, dynamic_partitions_store
        )
        return [] if last is None else [last]


class TimeWindowPartitionMapping(PartitionMapping):
    """The upstream partitions whose windows overlap the downstream partition's window.

    ``start_offset`` / ``end_offset`` widen the window by whole downstream windows:
    ``start_offset=-1`` also loads the previous period (a rolling two-day input). Upstream
    windows before the first (or after the last) upstream partition are an error, unless
    ``allow_nonexistent_upstream_partitions`` drops them.

    Examples:
        >>> from wharf._core.partitioning.time_windows import DailyPartitionsDefinition
        >>> days = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")
        >>> TimeWindowPartitionMapping(start_offset=-1).upstream_partition_keys(
        ...     "2024-01-05", days, days)
        ['2024-01-04', '2024-01-05']
    """

    def __init__(
        self,
        start_offset: int = 0,
        end_offset: int = 0,
        allow_nonexistent_upstream_partitions: bool = False,
    ) -> None:
        self.start_offset, self.end_offset = int(start_offset), int(end_offset)
        self.allow_nonexistent_upstream_partitions = allow_nonexistent_upstream_partitions

    def check_definitions(
        self, downstream: PartitionsDefinition | None, upstream: PartitionsDefinition | None
    ) -> None:
        for side, pdef in (("downstream", downstream), ("upstream", upstream)):
            if pdef is not None and not pdef.is_time_window:
                msg = (
                    f"TimeWindowPartitionMapping joins time-window partitions, but the {side} "
                    f"asset has {pdef.describe()}: expected a time-window partitions definition"
                )
                raise DefinitionError(msg, expected="time-window partitions", got=pdef.describe())

    def upstream_partition_keys(
        self,
        downstream_partition_key: str | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        from wharf._core.partitioning.time_windows import TimeWindowPartitionsDefinition

        self.check_definitions(downstream_partitions_def, upstream_partitions_def)
        assert isinstance(upstream_partitions_def, TimeWindowPartitionsDefinition)
        if downstream_partition_key is None or downstream_partitions_def is None:
            return upstream_partitions_def.get_partition_keys(current_time)
        assert isinstance(downstream_partitions_def, TimeWindowPartitionsDefinition)
        window = downstream_partitions_def.shifted_window(
            downstream_partition_key, self.start_offset, self.end_offset
        )
        return self._in_window(
            window, downstream_partition_key, upstream_partitions_def, current_time
        )

    def upstream_partition_keys_for_keys(
        self,
        downstream_partition_keys: Sequence[str],
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """Consecutive downstream windows (a range run) map as the one window they span."""
        from wharf._core.partitioning.time_windows import (
            TimeWindow,
            TimeWindowPartitionsDefinition,
        )

        keys = list(downstream_partition_keys)
        down = downstream_partitions_def
        if len(keys) < 2 or not isinstance(down, TimeWindowPartitionsDefinition):
            return super().upstream_partition_keys_for_keys(
                keys, down, upstream_partitions_def, current_time=current_time,
                dynamic_partitions_store=dynamic_partitions_store,
            )  # fmt: skip
        self.check_definitions(down, upstream_partitions_def)
        assert isinstance(upstream_partitions_def, TimeWindowPartitionsDefinition)
        first = down.shifted_window(keys[0], self.start_offset, self.end_offset)
        last = down.shifted_window(keys[-1], self.start_offset, self.end_offset)
        if not down.is_consecutive(keys):
            return super().upstream_partition_keys_for_keys(
                keys, down, upstream_partitions_def, current_time=current_time,
                dynamic_partitions_store=dynamic_partitions_store,
            )  # fmt: skip
        span, label = TimeWindow(first.start, last.end), f"{keys[0]}...{keys[-1]}"
        return self._in_window(span, label, upstream_partitions_def, current_time)

    def _in_window(
        self, window: Any, label: str, upstream: Any, current_time: datetime | None
    ) -> list[str]:
        existing, missing = upstream.keys_in_time_window(window, current_time)
        if missing and not self.allow_nonexistent_upstream_partitions:
            msg = (
                f"{self!r} maps partition {label!r} to upstream partitions "
                f"{missing[:10]} that {upstream.describe()} does not have: expected "
                "partitions inside its range, or allow_nonexistent_upstream_partitions=True"
            )
            raise UnknownPartitionError(msg, expected="existing partitions", got=str(missing[:10]))
        return list(existing)

    def __repr__(self) -> str:
        return (
            f"TimeWindowPartitionMapping(start_offset={self.start_offset}, "
            f"end_offset={self.end_offset})"
        )


class StaticPartitionMapping(PartitionMapping):
    """An explicit map from upstream keys to the downstream key(s) that read them.

    Examples:
        >>> m = StaticPartitionMapping({"eu-west": "eu", "eu-north": "eu", "us-east": "us"})
        >>> from wharf._core.partitioning.definitions import StaticPartitionsDefinition as S
        >>> m.upstream_partition_keys("eu", S(["eu", "us"]), S(["eu-west", "eu-north", "us-east"]))
        ['eu-west', 'eu-north']
    """

    def __init__(
        self,
        downstream_partition_keys_by_upstream_partition_key: Mapping[str, str | Collection[str]],
    ) -> None:
        self.by_upstream = {
            up: frozenset([down] if isinstance(down, str) else down)
            for up, down in downstream_partition_keys_by_upstream_partition_key.items()
        }

    def check_definitions(
        self, downstream: PartitionsDefinition | None, upstream: PartitionsDefinition | None
    ) -> None:
        from wharf._core.partitioning.definitions import StaticPartitionsDefinition

        for side, pdef, keys in (
            ("upstream", upstream, set(self.by_upstream)),
            ("downstream", downstream, set().union(*self.by_upstream.values())),
        ):
            if not isinstance(pdef, StaticPartitionsDefinition):
                continue
            if unknown := sorted(keys - set(pdef.get_partition_keys())):
                msg = (
                    f"StaticPartitionMapping names {side} keys {unknown} that "
                    f"{pdef.describe()} does not have: expected {pdef.get_partition_keys()}"
                )
                raise UnknownPartitionError(msg, expected="existing keys", got=str(unknown))

    def upstream_partition_keys(
        self,
        downstream_partition_key: str | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        return [
            up
            for up, downs in self.by_upstream.items()
            if downstream_partition_key is None or downstream_partition_key in downs
        ]


def infer_partition_mapping(
    mapping: object,
    downstream: PartitionsDefinition | None,
    upstream: PartitionsDefinition | None,
) -> PartitionMapping | None:
    """The mapping an input uses (None: the upstream asset is not partitioned)."""
    if upstream is None:
        return None
    if mapping is not None:
        if not isinstance(mapping, PartitionMapping):
            msg = f"partition_mapping={mapping!r}: expected a PartitionMapping"
            raise DefinitionError(msg, expected="a PartitionMapping", got=type(mapping).__name__)
        return mapping
    if downstream is None:
        return AllPartitionMapping()
    if downstream.is_time_window and upstream.is_time_window:
        return TimeWindowPartitionMapping()
    return IdentityPartitionMapping()
