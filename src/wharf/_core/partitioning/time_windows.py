"""Time-window partitions: hourly, daily, weekly and monthly windows in a time zone.

Window ``n`` runs from boundary ``n`` to boundary ``n + 1``. Daily, weekly and monthly
boundaries are wall-clock times in the definition's time zone (so a day is 23 or 25 hours long
across a DST change); hourly boundaries are whole hours of real time, except in a zone whose
offset changes by part of an hour (``Australia/Lord_Howe``), where they are the wall clock's
``minute_offset`` past each local hour (croniter) as in Dagster. A partition exists once
its window has ended (``end_offset`` adds or removes windows at the end) and, with ``end_date``,
if it ends by then. The key is the window's start formatted with ``fmt``; the second of two
hours with the same wall-clock time (DST fall-back) gets its UTC offset appended, as in Dagster.
Standard library only (``datetime``, ``zoneinfo``), except a ``cron_schedule`` of another shape
than those four: its boundaries are the times croniter gives, in the time zone.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wharf._core.partitioning.definitions import (
    DynamicPartitionsStore,
    PartitionKeyRange,
    PartitionsDefinition,
)
from wharf._deps import require
from wharf.errors import DefinitionError

DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DEFAULT_HOURLY_FORMAT = "%Y-%m-%d-%H:%M"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()
_UNITS = ("hourly", "daily", "weekly", "monthly")


class TimeWindow(NamedTuple):
    """``start <= t < end``, both time-zone aware."""

    start: datetime
    end: datetime


class TimeWindowPartitionsDefinition(PartitionsDefinition):
    """Partitions that are consecutive time windows.

    Args:
        start: the first window starts at the first boundary at or after ``start``.
        fmt: ``strftime`` format of the keys.
        end: windows must end by ``end`` (exclusive of later windows).
        schedule_type: ``"hourly"``, ``"daily"``, ``"weekly"`` or ``"monthly"``.
        timezone: an IANA name (default ``"UTC"``).
        end_offset: extra windows past the last complete one (negative: fewer).
        minute_offset / hour_offset / day_offset: where boundaries fall (``day_offset`` is the
            weekday for weekly, 0 = Sunday, and the day of the month for monthly).
        cron_schedule: instead of ``schedule_type``: ``M * * * *``, ``M H * * *``, ``M H * * D``
            and ``M H D * *`` (one number per field) are those units; any other cron
            expression's times (croniter, the ``wharf[ui]`` extra) are the boundaries.
    """

    is_time_window: ClassVar[bool] = True

    def __init__(  # noqa: PLR0917
        self,
        start: datetime | str,
        fmt: str,
        end: datetime | str | None = None,
        schedule_type: str | None = None,
        timezone: str | None = None,
        end_offset: int = 0,
        minute_offset: int | None = None,
        hour_offset: int | None = None,
        day_offset: int | None = None,
        cron_schedule: str | None = None,
    ) -> None:
        self.timezone = timezone or "UTC"
        try:
            self._tz = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            msg = (
                f"time zone {self.timezone!r} is unknown: expected an IANA name like 'Europe/Paris'"
            )
            raise DefinitionError(msg, expected="an IANA time zone", got=self.timezone) from exc
        self.cron_schedule = cron_schedule
        if cron_schedule is not None:
            schedule_type, minute_offset, hour_offset, day_offset = _from_cron(cron_schedule)
        unit = str(getattr(schedule_type, "name", schedule_type) or "").lower()
        if unit not in _UNITS and not (unit == "cron" and cron_schedule is not None):
            msg = f"schedule_type {schedule_type!r} is not supported: expected one of {_UNITS}"
            raise DefinitionError(msg, expected=str(_UNITS), got=repr(schedule_type))
        self.schedule_type, self.fmt, self.end_offset = unit, fmt, int(end_offset)
        self.minute_offset, self.hour_offset = minute_offset or 0, hour_offset or 0
        self.day_offset = (1 if unit == "monthly" else 0) if day_offset is None else day_offset
        _check_offsets(unit, self.minute_offset, self.hour_offset, self.day_offset)
        self._at = time(self.hour_offset, self.minute_offset)
        self.start = self._parse_time(start, "start")
        self.end = self._parse_time(end, "end") if end is not None else None
        #: the cron whose times (croniter) are the boundaries: a custom one, or hourly where the
        #: zone's offset changes by part of an hour (Australia/Lord_Howe's 30-minute DST)
        self._cron = cron_schedule if unit == "cron" else None
        if unit == "hourly" and _uneven_offsets(self._tz, self.start.year):
            self._cron = f"{self.minute_offset} * * * *"
        first = self._index(self.start)
        self._first = first + (self._boundary(first).astimezone(UTC) < self.start.astimezone(UTC))
        self.check_key_safe(self._key(self._first))  # e.g. fmt="%Y/%m/%d" is an unsafe name

    # -- boundaries ----------------------------------------------------------------------
    def _local(self, naive: datetime) -> datetime:
        """A wall-clock time in the zone (a time skipped by DST moves forward)."""
        return naive.replace(tzinfo=self._tz).astimezone(UTC).astimezone(self._tz)

    def _boundary(self, n: int) -> datetime:
        """Boundary ``n`` (memoized per instance: loads of many partitions ask again and again)."""
        cache = self.__dict__.setdefault("_boundaries", {})
        found: datetime | None = cache.get(n)
        if found is None:
            found = cache[n] = self._compute_boundary(n)
        return found

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the memo dicts (they are rebuilt on use), so a pickle stays small."""
        memos = ("_boundaries", "_keys", "_key_list", "_key_indexes", "_cron_list", "_cron_next")
        return {k: v for k, v in self.__dict__.items() if k not in memos}

    def _compute_boundary(self, n: int) -> datetime:
        if self._cron is not None:
            return self._cron_boundary(n)
        if self.schedule_type == "hourly":
            shift = (self.minute_offset - self._zone_minutes()) % 60
            return (_EPOCH + timedelta(hours=n, minutes=shift)).astimezone(self._tz)
        if self.schedule_type == "monthly":
            day = date(n // 12, n % 12 + 1, self.day_offset)
        elif self.schedule_type == "weekly":
            day = date.fromordinal(7 * n + (self.day_offset - 1) % 7 + 1)
        else:
            day = date.fromordinal(n)
        return self._local(datetime.combine(day, self._at))

    def _cron_times(self) -> list[datetime]:
        """Boundaries 0, 1, ... of a custom cron (0: the last cron time at or before ``start``),
        as far as they were asked for; one croniter goes on from the last."""
        times: list[datetime] | None = self.__dict__.get("_cron_list")
        if times is None:
            it = self._croniter(self.start + timedelta(microseconds=1))
            times = self.__dict__["_cron_list"] = [self._cron_time(it.get_prev(datetime))]
            self.__dict__["_cron_next"] = self._croniter(times[0])
        return times

    def _croniter(self, moment: datetime) -> Any:
        croniter = require("croniter", purpose="a custom cron_schedule").croniter
        return croniter(self._cron, moment.astimezone(self._tz))

    def _cron_time(self, moment: datetime) -> datetime:
        return moment.astimezone(UTC).astimezone(self._tz)  # the fold as zoneinfo sets it

    def _cron_boundary(self, n: int) -> datetime:
        times = self._cron_times()
        if n < 0:
            return self._cron_time(self._croniter(self._boundary(n + 1)).get_prev(datetime))
        it = self.__dict__["_cron_next"]
        while len(times) <= n:
            times.append(self._cron_time(it.get_next(datetime)))
        return times[n]

    def _cron_index(self, moment: datetime) -> int:
        times = self._cron_times()
        if moment < times[0].astimezone(UTC):
            n = -1
            while self._boundary(n).astimezone(UTC) > moment:
                n -= 1
            return n
        while times[-1].astimezone(UTC) <= moment:
            self._cron_boundary(len(times))
        return bisect.bisect_right(times, moment, key=lambda t: t.astimezone(UTC)) - 1

    def _zone_minutes(self) -> int:
        offset = datetime(2000, 1, 1, tzinfo=self._tz).utcoffset() or timedelta()
        return int(offset.total_seconds() // 60) % 60

    def _index(self, moment: datetime) -> int:
        """The window that contains ``moment``: the largest n with boundary(n) <= moment."""
        moment = moment.astimezone(UTC)  # aware datetimes of one zone compare by wall clock
        if self._cron is not None:
            return self._cron_index(moment)
        if self.schedule_type == "hourly":
            return int((moment - self._boundary(0).astimezone(UTC)) // timedelta(hours=1))
        local = moment.astimezone(self._tz)
        if self.schedule_type == "monthly":
            n = local.year * 12 + local.month - 1
        elif self.schedule_type == "weekly":
            n = (local.date().toordinal() - (self.day_offset - 1) % 7 - 1) // 7
        else:
            n = local.date().toordinal()
        while self._boundary(n).astimezone(UTC) > moment:
            n -= 1
        while self._boundary(n + 1).astimezone(UTC) <= moment:
            n += 1
        return n

    def _key(self, n: int) -> str:
        """Window ``n``'s key (memoized per instance, as boundaries are)."""
        cache = self.__dict__.setdefault("_keys", {})
        key: str | None = cache.get(n)
        if key is None:
            start = self._boundary(n)
            if self.fmt == DEFAULT_DATE_FORMAT and start.year >= 1000:
                key = start.date().isoformat()  # what strftime gives, ~10x sooner
            else:
                key = start.strftime(self.fmt)
            if start.fold and "%z" not in self.fmt:
                key += start.strftime("%z")
            cache[n] = key
        return key

    def _parse_time(self, value: datetime | str, what: str) -> datetime:
        if isinstance(value, datetime):
            return self._local(value) if value.tzinfo is None else value.astimezone(self._tz)
        for fmt in (self.fmt, DEFAULT_DATE_FORMAT, DEFAULT_HOURLY_FORMAT, "%Y-%m-%d %H:%M"):
            try:
                return self._parse_time(datetime.strptime(value, fmt), what)
            except ValueError:
                continue
        try:
            return self._parse_time(datetime.fromisoformat(value), what)
        except (TypeError, ValueError):
            msg = f"{what} date {value!r} is not a date: expected {self.fmt!r} or ISO 8601"
            raise DefinitionError(msg, expected=self.fmt, got=repr(value)) from None

    def _key_index(self, key: str) -> int | None:
        """The window whose key is ``key``, or None if no window has that key (memoized)."""
        cache = self.__dict__.setdefault("_key_indexes", {})
        if key not in cache:
            cache[key] = self._find_key_index(key)
        found: int | None = cache[key]
        return found

    def _find_key_index(self, key: str) -> int | None:
        for fmt in (self.fmt, self.fmt + "%z"):
            try:
                parsed = datetime.strptime(key, fmt)
            except (TypeError, ValueError):
                continue
            moment = self._local(parsed) if parsed.tzinfo is None else parsed
            n = self._index(moment)  # the key may show less than the boundary (no hour_offset)
            for candidate in (n, n + 1):
                if self._key(candidate) == key:
                    return candidate
        return None

    def is_consecutive(self, keys: Sequence[str]) -> bool:
        """Whether ``keys`` are windows one after another, in order (the first and last key
        are parsed, not every key: consecutive keys are the ones between them)."""
        if not keys:
            return True
        first, last = self._key_index(keys[0]), self._key_index(keys[-1])
        if first is None or last is None or last - first != len(keys) - 1:
            return False
        return len(keys) < 3 or self._key(first + 1) == keys[1]

    def window_edges(self, keys: Sequence[str]) -> list[datetime] | None:
        """The ``len(keys) + 1`` boundaries of consecutive ``keys`` (a range), in order, from
        their indexes with no per-key parsing; None if the keys are not consecutive."""
        first = self.first_index(keys)
        if first is None:
            return None
        return [self._boundary(first + i) for i in range(len(keys) + 1)]

    def first_index(self, keys: Sequence[str]) -> int | None:
        """The window index of the first of consecutive ``keys`` (see :meth:`edge_micros`);
        None if they are not consecutive."""
        return self._key_index(keys[0]) if keys and self.is_consecutive(keys) else None

    def edge_micros(self, first: int, count: int) -> Any:
        """Boundaries ``first .. first + count - 1`` as a numpy ``int64`` array of
        microseconds since the epoch, computed at once, where they are plain arithmetic (the
        UTC zone, no custom cron); None elsewhere (:meth:`window_edges` then). Boundary ``n``
        is the one :meth:`time_window_for_partition_key` gives for window ``n``."""
        if self.timezone != "UTC" or self._cron is not None:
            return None
        np = require("numpy", purpose="many time-window partitions at once")
        n = np.arange(first, first + count, dtype=np.int64)
        minute, day = 60_000_000, 86_400_000_000
        if self.schedule_type == "hourly":
            return n * (60 * minute) + self.minute_offset * minute
        at = (self.hour_offset * 60 + self.minute_offset) * minute
        if self.schedule_type == "monthly":
            months = (n - 1970 * 12).astype("datetime64[M]")  # month n: year n // 12
            days = months.astype("datetime64[D]").astype(np.int64) + (self.day_offset - 1)
        elif self.schedule_type == "weekly":
            days = 7 * n + (self.day_offset - 1) % 7 + 1 - _EPOCH_ORDINAL
        else:
            days = n - _EPOCH_ORDINAL
        return days * day + at

    def window_bounds(self, keys: Sequence[str]) -> tuple[list[datetime], list[datetime]]:
        """(starts, ends) of the windows of ``keys``: consecutive keys (a range) from their
        indexes, with no per-key parsing; others one key at a time."""
        if len(keys) > 1 and (edges := self.window_edges(keys)) is not None:
            return edges[:-1], edges[1:]
        windows = [self.time_window_for_partition_key(k) for k in keys]
        return [w.start for w in windows], [w.end for w in windows]

    def _last(self, current_time: datetime | None) -> int:
        now = current_time or datetime.now(UTC)
        now = self._local(now) if now.tzinfo is None else now
        last = self._index(now) - 1 + self.end_offset
        if self.end is not None:
            last = min(last, self._index(self.end) - 1)
        return last

    # -- the PartitionsDefinition API ----------------------------------------------------
    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        span = (self._first, self._last(current_time))
        kept = self.__dict__.get("_key_list")  # the last list made, for the loads that follow
        if kept is None or kept[0] != span:
            kept = self.__dict__["_key_list"] = (
                span,
                [self._key(n) for n in range(span[0], span[1] + 1)],
            )
        return list(kept[1])

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        n = self._key_index(partition_key)
        return n is not None and self._first <= n <= self._last(current_time)

    def get_partition_keys_in_range(
        self,
        partition_key_range: PartitionKeyRange,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        bounds = []
        for key in partition_key_range:
            if not self.has_partition_key(key):
                raise self.unknown_key(key, keys=self.get_partition_keys())
            bounds.append(self._key_index(key))
        low, high = bounds
        assert low is not None
        assert high is not None
        if low > high:
            from wharf._core.partitioning.definitions import _range_between

            _range_between([], 1, 0, partition_key_range)
        return [self._key(n) for n in range(low, high + 1)]

    def get_last_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        last = self._last(current_time)
        return self._key(last) if last >= self._first else None

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        n = self._key_index(partition_key)
        if n is None:
            raise self.unknown_key(partition_key, keys=self.get_partition_keys())
        return TimeWindow(self._boundary(n), self._boundary(n + 1))

    def keys_in_time_window(
        self, window: TimeWindow, current_time: datetime | None = None
    ) -> tuple[list[str], list[str]]:
        """(existing, nonexistent): the keys of every window that overlaps ``window``."""
        first, last = self._index(window.start), self._index(window.end - timedelta(microseconds=1))
        existing: list[str] = []
        missing: list[str] = []
        limit = self._last(current_time)
        for n in range(first, last + 1):
            (existing if self._first <= n <= limit else missing).append(self._key(n))
        return existing, missing

    def shifted_window(self, partition_key: str, start_offset: int, end_offset: int) -> TimeWindow:
        """The window of ``partition_key`` widened by whole windows at each end."""
        n = self._key_index(partition_key)
        if n is None:
            raise self.unknown_key(partition_key, keys=self.get_partition_keys())
        return TimeWindow(self._boundary(n + start_offset), self._boundary(n + 1 + end_offset))

    def describe(self) -> str:
        name = {"hourly": "Hourly", "daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}
        zone = "" if self.timezone == "UTC" else f" in {self.timezone}"
        first = self._key(self._first)
        if self.schedule_type == "cron":
            return f"TimeWindowPartitionsDefinition({self.cron_schedule!r}) from {first}{zone}"
        return f"{name[self.schedule_type]}PartitionsDefinition from {first}{zone}"

    def _identity(self) -> tuple[object, ...]:
        return (
            self.schedule_type, self.start, self.end, self.timezone, self.fmt, self.end_offset,
            self.minute_offset, self.hour_offset, self.day_offset, self.cron_schedule,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TimeWindowPartitionsDefinition)
            and self._identity() == other._identity()
        )

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return f"{self.describe()} (fmt={self.fmt!r})"


def _uneven_offsets(tz: ZoneInfo, year: int) -> bool:
    """Whether ``tz``'s UTC offset is not the same number of minutes past the hour all year
    (in ``year``, 2000 and 2025), so whole hours of real time do not keep the wall clock's
    minute."""
    minutes = {
        int((datetime(y, m, 1, tzinfo=tz).utcoffset() or timedelta()).total_seconds() // 60) % 60
        for y in (year, 2000, 2025)
        for m in (1, 4, 7, 10)
    }
    return len(minutes) > 1


def _check_offsets(unit: str, minute: int, hour: int, day: int) -> None:
    limits = {"minute_offset": (minute, 0, 59), "hour_offset": (hour, 0, 23)}
    if unit == "weekly":
        limits["day_offset"] = (day, 0, 6)
    elif unit == "monthly":
        limits["day_offset"] = (day, 1, 28)
    for name, (value, low, high) in limits.items():
        if not isinstance(value, int) or not low <= value <= high:
            msg = f"{name}={value!r} for {unit} partitions: expected {low}..{high}"
            raise DefinitionError(msg, expected=f"{low}..{high}", got=repr(value))


def _from_cron(cron: str) -> tuple[str, int, int, int | None]:
    fields = cron.split()
    shapes: dict[tuple[str, ...], str] = {
        ("n", "*", "*", "*", "*"): "hourly",
        ("n", "n", "*", "*", "*"): "daily",
        ("n", "n", "*", "*", "n"): "weekly",
        ("n", "n", "n", "*", "*"): "monthly",
    }
    shape = tuple("n" if f.isdigit() else f for f in fields)
    unit = shapes.get(shape)
    if unit is None:  # any other cron: its times from croniter
        croniter = require("croniter", purpose="a custom cron_schedule").croniter
        if not croniter.is_valid(cron):
            msg = f"cron_schedule {cron!r} is not a cron expression croniter accepts"
            raise DefinitionError(msg, expected="a cron expression", got=repr(cron))
        return "cron", 0, 0, None
    numbers = [int(f) if f.isdigit() else None for f in fields]
    day = numbers[4] if unit == "weekly" else numbers[2]
    return unit, numbers[0] or 0, numbers[1] or 0, day


class HourlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per hour; keys like ``2024-01-01-13:00``.

    Examples:
        >>> hours = HourlyPartitionsDefinition(start_date="2024-01-01-00:00")
        >>> hours.get_partition_keys(current_time=datetime(2024, 1, 1, 2, 30))
        ['2024-01-01-00:00', '2024-01-01-01:00']
    """

    def __init__(  # noqa: PLR0917
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        super().__init__(
            start_date, fmt or DEFAULT_HOURLY_FORMAT, end_date, "hourly", timezone, end_offset,
            minute_offset=minute_offset,
        )  # fmt: skip


class DailyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per day; keys like ``2024-01-01``.

    Examples:
        >>> days = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")
        >>> days.get_partition_keys()
        ['2024-01-01', '2024-01-02', '2024-01-03']
        >>> days.time_window_for_partition_key("2024-01-02").start.isoformat()
        '2024-01-02T00:00:00+00:00'
    """

    def __init__(  # noqa: PLR0917
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        super().__init__(
            start_date, fmt or DEFAULT_DATE_FORMAT, end_date, "daily", timezone, end_offset,
            minute_offset=minute_offset, hour_offset=hour_offset,
        )  # fmt: skip


class WeeklyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per week, starting on ``day_offset`` (0 = Sunday); keys like ``2024-01-07``."""

    def __init__(  # noqa: PLR0917
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        super().__init__(
            start_date, fmt or DEFAULT_DATE_FORMAT, end_date, "weekly", timezone, end_offset,
            minute_offset=minute_offset, hour_offset=hour_offset, day_offset=day_offset,
        )  # fmt: skip


class MonthlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per month, starting on day ``day_offset`` (1..28); keys like ``2024-02-01``."""

    def __init__(  # noqa: PLR0917
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 1,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        super().__init__(
            start_date, fmt or DEFAULT_DATE_FORMAT, end_date, "monthly", timezone, end_offset,
            minute_offset=minute_offset, hour_offset=hour_offset, day_offset=day_offset,
        )  # fmt: skip
