"""Which partition each row of a many-partition load belongs to (``table_partitions.locate``):
the vectorized answer equals a per-row reference of each window's typed bounds, for every
schedule, time zone and column type; time-window boundaries computed at once equal the
definition's own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

import wharf as dg
from wharf._io import table_partitions as tp

SCHEDULES = {
    "daily UTC": dg.DailyPartitionsDefinition(start_date="2023-12-20", end_date="2024-04-10"),
    "daily 03:15 UTC": dg.DailyPartitionsDefinition(
        start_date="2023-12-20", end_date="2024-04-10", hour_offset=3, minute_offset=15
    ),
    "daily Paris": dg.DailyPartitionsDefinition(
        start_date="2024-03-01", end_date="2024-04-10", timezone="Europe/Paris"
    ),
    "daily 02:30 New York (a DST gap)": dg.DailyPartitionsDefinition(
        start_date="2024-03-01",
        end_date="2024-03-20",
        hour_offset=2,
        minute_offset=30,
        timezone="America/New_York",
    ),
    "hourly UTC": dg.HourlyPartitionsDefinition(
        start_date="2024-03-30-00:00", end_date="2024-04-01-00:00", minute_offset=7
    ),
    "hourly Paris (DST)": dg.HourlyPartitionsDefinition(
        start_date="2024-03-30-00:00", end_date="2024-04-01-00:00", timezone="Europe/Paris"
    ),
    "weekly": dg.WeeklyPartitionsDefinition(
        start_date="2023-01-01", end_date="2024-04-01", day_offset=3
    ),
    "monthly": dg.MonthlyPartitionsDefinition(
        start_date="2020-01-01", end_date="2024-04-01", day_offset=5
    ),
}
COLUMNS = [
    pa.timestamp("us"), pa.timestamp("ns"), pa.timestamp("ms", tz="UTC"),
    pa.timestamp("us", tz="Asia/Tokyo"), pa.date32(), pa.string(),
    pa.dictionary(pa.int32(), pa.timestamp("us")),
]  # fmt: skip


def _values(pdef: Any, keys: list[str]) -> list[dt.datetime]:
    """Moments at, inside and around the windows of ``keys`` (every third one left out, so
    some partitions are missing), plus some before the first and after the last."""
    moments = []
    for n, key in enumerate(keys):
        window = pdef.time_window_for_partition_key(key)
        if n % 3 == 1:
            continue
        moments += [window.start, window.start + (window.end - window.start) / 2]
    first = pdef.time_window_for_partition_key(keys[0]).start
    last = pdef.time_window_for_partition_key(keys[-1]).end
    return [*moments, first - dt.timedelta(hours=1), last, last + dt.timedelta(days=3)]


def _column(moments: list[dt.datetime], kind: Any, zone: str) -> pa.Array:
    """``moments`` as a column of ``kind``, as a user would store them (naive: wall clock)."""
    instants = pa.array(moments)
    if pa.types.is_dictionary(kind):
        return _column(moments, kind.value_type, zone).dictionary_encode()
    if pa.types.is_timestamp(kind) and kind.tz:
        return instants.cast(kind)
    wall = [m.replace(tzinfo=None) for m in moments]
    if pa.types.is_date(kind):
        return pa.array([m.date() for m in wall]).cast(kind)
    if pa.types.is_string(kind):
        text = "%Y-%m-%d" if all(m.time() == dt.time() for m in wall) else "%Y-%m-%d %H:%M:%S"
        return pa.array([m.strftime(text) for m in wall])
    return pa.array(wall).cast(kind)


def _reference(column: pa.Array, pdef: Any, keys: list[str], kind: Any) -> list[int]:
    """Each row's position in ``keys`` (-1: none), one window and one row at a time."""
    dim = tp.Dim(None, "at", pdef)
    bounds = [tp._window(dim, k, {"at": kind}) for k in keys]
    plain = column.dictionary_decode() if pa.types.is_dictionary(column.type) else column
    got = []
    for value in plain.to_pylist():
        hits = [n for n, (low, high) in enumerate(bounds) if _le(low, value) and _lt(value, high)]
        got.append(hits[0] if hits else -1)
    return got


def _le(low: Any, value: Any) -> bool:
    return bool(_as(low, value) <= value)


def _lt(value: Any, high: Any) -> bool:
    return bool(value < _as(high, value))


def _as(bound: Any, like: Any) -> Any:
    """A bound as the kind of Python value the column holds."""
    if isinstance(like, dt.datetime) and not isinstance(bound, dt.datetime):
        return dt.datetime.combine(bound, dt.time())
    if isinstance(like, dt.datetime) and (like.tzinfo is None) != (bound.tzinfo is None):
        return bound.replace(tzinfo=None) if like.tzinfo is None else bound
    if type(like) is dt.date and isinstance(bound, dt.datetime):
        return bound.date()
    return bound


def _midnight(pdef: Any) -> bool:
    keys = pdef.get_partition_keys()
    return all(pdef.time_window_for_partition_key(k).start.time() == dt.time() for k in keys)


CASES = [
    (name, kind)
    for name, pdef in SCHEDULES.items()
    for kind in COLUMNS
    if not pa.types.is_date(kind) or _midnight(pdef)  # a DATE column holds whole days only
]


@pytest.mark.parametrize(("name", "kind"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_locate_equals_a_per_row_reference(name: str, kind: Any) -> None:
    pdef = SCHEDULES[name]
    keys = pdef.get_partition_keys()
    moments = _values(pdef, keys)
    plain = kind.value_type if pa.types.is_dictionary(kind) else kind
    if pa.types.is_timestamp(plain) and plain.unit == "ms":
        moments = [m.replace(microsecond=m.microsecond // 1000 * 1000) for m in moments]
    column = _column(moments, kind, pdef.timezone)
    table = pa.table({"at": column})
    dims = [tp.Dim(None, "at", pdef)]
    positions, present = tp.locate(table, dims, keys, {"at": kind})
    want = _reference(column, pdef, keys, kind)
    assert positions.tolist() == want
    assert present == [k for n, k in enumerate(keys) if n in set(want)]
    some = keys[::2]  # not a range: one window at a time
    positions, _ = tp.locate(table, dims, some, {"at": kind})
    assert positions.tolist() == _reference(column, pdef, some, kind)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_boundaries_computed_at_once_are_the_definitions(name: str) -> None:
    pdef = SCHEDULES[name]
    keys = pdef.get_partition_keys()
    first = pdef.first_index(keys)
    assert first is not None
    edges = pdef.window_edges(keys)
    assert edges == [pdef.time_window_for_partition_key(k).start for k in keys] + [
        pdef.time_window_for_partition_key(keys[-1]).end
    ]
    micros = pdef.edge_micros(first, len(keys) + 1)
    if pdef.timezone != "UTC":
        assert micros is None  # zones with DST: the definition's own boundaries
        return
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert micros.tolist() == [(e - epoch) // dt.timedelta(microseconds=1) for e in edges]
    assert pdef.first_index([keys[0], keys[2]]) is None  # not consecutive


def test_boundaries_at_once_far_from_the_epoch() -> None:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    for pdef in [
        dg.MonthlyPartitionsDefinition(start_date="1900-01-01", hour_offset=2),
        dg.WeeklyPartitionsDefinition(start_date="1901-01-01", minute_offset=5),
        dg.DailyPartitionsDefinition(start_date="1950-01-01"),
    ]:
        keys = pdef.get_partition_keys()
        first = pdef.first_index(keys)
        assert first is not None
        got = pdef.edge_micros(first, len(keys) + 1).tolist()
        edges = pdef.window_edges(keys)
        assert got == [(e - epoch) // dt.timedelta(microseconds=1) for e in edges]
