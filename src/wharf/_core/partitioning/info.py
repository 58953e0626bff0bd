"""What contexts derive from a list of partition keys: one key, a key range, a time window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from wharf._core.partitioning.definitions import (
    MultiPartitionsDefinition,
    PartitionKeyRange,
    PartitionsDefinition,
)
from wharf.errors import ContextError

if TYPE_CHECKING:
    from wharf._core.partitioning.time_windows import TimeWindow


def not_partitioned(what: str) -> ContextError:
    msg = f"{what} is not partitioned: expected a partitioned asset, got none"
    return ContextError(msg, expected="a partitioned asset", got="none")


def typed_keys(pdef: PartitionsDefinition | None, keys: Sequence[str]) -> list[str]:
    """``keys``, as :class:`MultiPartitionKey` objects when ``pdef`` is multi-dimensional."""
    if isinstance(pdef, MultiPartitionsDefinition):
        return [pdef.get_partition_key_from_str(k) for k in keys]
    return list(keys)


def one_key(keys: Sequence[str], what: str) -> str:
    """The only key of ``keys``; an error naming ``what`` when there are several or none."""
    if len(keys) != 1:
        msg = (
            f"{what} has {len(keys)} partitions {list(keys)[:5]}: expected exactly one "
            "(use asset_partition_keys / asset_partition_key_range for several)"
        )
        raise ValueError(msg)
    return keys[0]


def key_range(keys: Sequence[str], what: str) -> PartitionKeyRange:
    if not keys:
        raise ValueError(f"{what} has no partitions: expected at least one")
    return PartitionKeyRange(keys[0], keys[-1])


def time_window(pdef: PartitionsDefinition | None, keys: Sequence[str], what: str) -> TimeWindow:
    """From the start of the first key's window to the end of the last key's window."""
    from wharf._core.partitioning.time_windows import TimeWindow

    is_time = pdef is not None and (
        pdef.is_time_window
        or (isinstance(pdef, MultiPartitionsDefinition) and pdef.time_window_dimension is not None)
    )
    if pdef is None or not is_time:
        got = pdef.describe() if pdef is not None else "no partitions definition"
        raise ValueError(f"{what} has {got}: expected time-window partitions")
    if not keys:
        raise ValueError(f"{what} has no partitions: expected at least one")
    windows = [pdef.time_window_for_partition_key(k) for k in keys]
    start = min((w.start for w in windows), key=lambda t: t.timestamp())
    return TimeWindow(start, max((w.end for w in windows), key=lambda t: t.timestamp()))
