"""Partitions definitions: static, dynamic, multi and time windows (keys, ranges, validation)."""

from __future__ import annotations

import itertools
import pickle
from datetime import UTC, datetime

import pytest

import wharf as dg
from wharf.errors import DefinitionError, UnknownPartitionError, UnsafeNameError

# -- static -------------------------------------------------------------------------------


def test_static_keys_ranges_and_membership() -> None:
    regions = dg.StaticPartitionsDefinition(["eu", "us", "apac"])
    assert regions.get_partition_keys() == ["eu", "us", "apac"]
    assert regions.has_partition_key("us")
    assert not regions.has_partition_key("mars")
    assert regions.get_partition_keys_in_range(dg.PartitionKeyRange("us", "apac")) == ["us", "apac"]
    assert regions.get_first_partition_key() == "eu"
    assert regions.get_last_partition_key() == "apac"
    assert regions == dg.StaticPartitionsDefinition(["eu", "us", "apac"])


def test_static_rejects_duplicates_and_reversed_ranges() -> None:
    with pytest.raises(DefinitionError, match=r"duplicate keys \['a'\]"):
        dg.StaticPartitionsDefinition(["a", "b", "a"])
    regions = dg.StaticPartitionsDefinition(["eu", "us"])
    with pytest.raises(DefinitionError, match="reversed"):
        regions.get_partition_keys_in_range(dg.PartitionKeyRange("us", "eu"))
    with pytest.raises(UnknownPartitionError, match=r"no partition 'mars'.*\['eu', 'us'\]"):
        regions.get_partition_keys_in_range(dg.PartitionKeyRange("eu", "mars"))


@pytest.mark.parametrize("key", ["", ".", "..", "a/b", "a\\b", "nul\x00", "tab\tkey"])
def test_unsafe_keys_fail_at_definition_time(key: str) -> None:
    with pytest.raises(UnsafeNameError, match="partition key"):
        dg.StaticPartitionsDefinition(["ok", key])


def test_unknown_key_error_is_a_key_error_with_a_hint() -> None:
    days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")
    with pytest.raises(UnknownPartitionError) as info:
        days.check_key("2024-02-30", asset="sales")
    err = info.value
    assert isinstance(err, KeyError)
    assert isinstance(err, DefinitionError)
    assert str(err) == (
        "asset 'sales' (DailyPartitionsDefinition from 2024-01-01) has no partition "
        "'2024-02-30': expected one of 31 keys from '2024-01-01' to '2024-01-31'"
    )


# -- dynamic ------------------------------------------------------------------------------


def test_dynamic_keys_live_in_the_instance() -> None:
    files = dg.DynamicPartitionsDefinition(name="files")
    instance = dg.DagsterInstance.ephemeral()
    assert files.get_partition_keys(dynamic_partitions_store=instance) == []
    files.add_partitions(["b.csv", "a.csv", "b.csv"], instance=instance)
    assert files.get_partition_keys(dynamic_partitions_store=instance) == ["b.csv", "a.csv"]
    files.delete_partition("b.csv", instance=instance)
    assert instance.get_dynamic_partitions("files") == ["a.csv"]
    assert files.get_partition_keys() == []  # the persistent instance has none


def test_dynamic_keys_persist_under_wharf_home(wharf_home: object) -> None:
    dg.DynamicPartitionsDefinition(name="customers").add_partitions(["acme", "globex"])
    again = dg.DagsterInstance.get()
    assert again.get_dynamic_partitions("customers") == ["acme", "globex"]
    assert again.has_dynamic_partition("customers", "acme")
    again.delete_dynamic_partition("customers", "acme")
    assert dg.DynamicPartitionsDefinition(name="customers").get_partition_keys() == ["globex"]


def test_dynamic_keys_are_validated_when_added() -> None:
    instance = dg.DagsterInstance.ephemeral()
    with pytest.raises(UnsafeNameError, match=r"partition key '\.\./etc'"):
        instance.add_dynamic_partitions("files", ["fine", "../etc"])
    assert instance.get_dynamic_partitions("files") == []


def test_dynamic_needs_a_name_or_a_function() -> None:
    with pytest.raises(DefinitionError, match="exactly one of name= or partition_fn="):
        dg.DynamicPartitionsDefinition()
    by_fn = dg.DynamicPartitionsDefinition(partition_fn=lambda now: ["x", "y"])
    assert by_fn.get_partition_keys() == ["x", "y"]
    with pytest.raises(DefinitionError, match="expected name= to add keys"):
        by_fn.add_partitions(["z"])


# -- multi --------------------------------------------------------------------------------


def multi() -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            "region": dg.StaticPartitionsDefinition(["eu", "us"]),
            "date": dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-03"),
        }
    )


def test_multi_keys_are_ordered_by_dimension_name() -> None:
    pdef = multi()
    assert pdef.partition_dimension_names == ["date", "region"]
    assert pdef.get_partition_keys() == [
        "2024-01-01|eu", "2024-01-01|us", "2024-01-02|eu", "2024-01-02|us",
    ]  # fmt: skip
    key = pdef.get_partition_keys()[1]
    assert isinstance(key, dg.MultiPartitionKey)
    assert key.keys_by_dimension == {"date": "2024-01-01", "region": "us"}
    assert dg.MultiPartitionKey({"region": "us", "date": "2024-01-01"}) == key
    assert pickle.loads(pickle.dumps(key)).keys_by_dimension == key.keys_by_dimension
    assert pdef.has_partition_key("2024-01-02|us")
    assert not pdef.has_partition_key("2024-01-02|mars")
    assert not pdef.has_partition_key("2024-01-02")
    rng = dg.PartitionKeyRange("2024-01-01|eu", "2024-01-02|eu")
    assert pdef.get_partition_keys_in_range(rng) == ["2024-01-01|eu", "2024-01-02|eu"]
    assert pdef.time_window_for_partition_key("2024-01-02|us").start == datetime(
        2024, 1, 2, tzinfo=UTC
    )


def test_multi_definition_errors() -> None:
    static = dg.StaticPartitionsDefinition(["a"])
    with pytest.raises(DefinitionError, match="has 1 dimensions: expected 2"):
        dg.MultiPartitionsDefinition({"a": static})
    with pytest.raises(DefinitionError, match=r"contains '\|'"):
        dg.MultiPartitionsDefinition({"a": static, "b": dg.StaticPartitionsDefinition(["x|y"])})
    days = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    with pytest.raises(DefinitionError, match="two time dimensions"):
        dg.MultiPartitionsDefinition({"a": days, "b": days})
    with pytest.raises(UnknownPartitionError, match=r"is not <date>\|<region>"):
        multi().check_key("2024-01-01")


# -- time windows -------------------------------------------------------------------------


def test_daily_hourly_weekly_monthly_keys() -> None:
    now = datetime(2024, 3, 10, 2, 30, tzinfo=UTC)
    assert dg.DailyPartitionsDefinition(start_date="2024-03-08").get_partition_keys(now) == [
        "2024-03-08", "2024-03-09",
    ]  # fmt: skip
    hours = dg.HourlyPartitionsDefinition(start_date="2024-03-10-00:00")
    assert hours.get_partition_keys(now) == ["2024-03-10-00:00", "2024-03-10-01:00"]
    weeks = dg.WeeklyPartitionsDefinition(start_date="2024-02-01")  # weeks start on Sunday
    assert weeks.get_partition_keys(now) == [
        "2024-02-04", "2024-02-11", "2024-02-18", "2024-02-25", "2024-03-03",
    ]  # fmt: skip
    months = dg.MonthlyPartitionsDefinition(start_date="2023-11-15")  # first of the next month
    assert months.get_partition_keys(now) == ["2023-12-01", "2024-01-01", "2024-02-01"]
    assert months.time_window_for_partition_key("2024-02-01") == dg.TimeWindow(
        datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)
    )


def test_end_offset_end_date_and_offsets() -> None:
    now = datetime(2024, 1, 3, 12, tzinfo=UTC)
    days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
    assert days.get_partition_keys(now) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    ended = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-02")
    assert ended.get_partition_keys(now) == ["2024-01-01"]
    assert ended.get_last_partition_key(now) == "2024-01-01"
    shifted = dg.DailyPartitionsDefinition(start_date="2024-01-01", hour_offset=6)
    window = shifted.time_window_for_partition_key("2024-01-01")
    assert (window.start.hour, window.end.day) == (6, 2)
    assert not days.has_partition_key("2024-01-01-00:00")
    assert not days.has_partition_key("2023-12-31")


def test_daylight_saving_days_and_hours() -> None:
    paris = dg.DailyPartitionsDefinition(
        start_date="2024-03-30", end_date="2024-04-01", timezone="Europe/Paris"
    )
    window = paris.time_window_for_partition_key("2024-03-31")
    assert window.end.timestamp() - window.start.timestamp() == 23 * 3600
    hours = dg.HourlyPartitionsDefinition(
        start_date="2024-10-27-01:00", end_date="2024-10-27-04:00", timezone="Europe/Paris"
    )
    # 02:00 happens twice; the second gets its UTC offset, as in Dagster
    assert hours.get_partition_keys() == [
        "2024-10-27-01:00", "2024-10-27-02:00", "2024-10-27-02:00+0100", "2024-10-27-03:00",
    ]  # fmt: skip
    for key in hours.get_partition_keys():
        w = hours.time_window_for_partition_key(key)
        assert w.end.timestamp() - w.start.timestamp() == 3600


def test_cron_schedules_and_their_limits() -> None:
    six = dg.TimeWindowPartitionsDefinition(
        start="2024-01-01", fmt="%Y-%m-%d", cron_schedule="0 6 * * *", end="2024-01-04"
    )
    assert six.get_partition_keys() == ["2024-01-01", "2024-01-02"]
    assert six.time_window_for_partition_key("2024-01-01").start.hour == 6
    with pytest.raises(DefinitionError, match="cron_schedule 'every day' is not a cron"):
        dg.TimeWindowPartitionsDefinition(start="2024-01-01", fmt="%Y", cron_schedule="every day")


def test_any_other_cron_schedule_has_croniters_times_as_boundaries() -> None:
    fmt = "%Y-%m-%d-%H:%M"
    weekdays = dg.TimeWindowPartitionsDefinition(
        start="2024-01-05", fmt=fmt, cron_schedule="0 */12 * * 1-5", end="2024-01-09"
    )  # Friday 2024-01-05: the weekend is inside Friday's last window
    keys = ["2024-01-05-00:00", "2024-01-05-12:00", "2024-01-08-00:00", "2024-01-08-12:00"]
    assert weekdays.get_partition_keys() == keys
    friday = weekdays.time_window_for_partition_key("2024-01-05-12:00")
    assert (friday.start.day, friday.end.day, friday.end.hour) == (5, 8, 0)
    assert not weekdays.has_partition_key("2024-01-06-00:00")
    assert pickle.loads(pickle.dumps(weekdays)) == weekdays
    assert weekdays != dg.TimeWindowPartitionsDefinition(
        start="2024-01-05", fmt=fmt, cron_schedule="0 */6 * * 1-5", end="2024-01-09"
    )
    quarter = dg.TimeWindowPartitionsDefinition(
        start="2024-03-31-01:00", fmt=fmt, cron_schedule="*/15 * * * *", timezone="Europe/Berlin"
    )  # 02:00-03:00 does not exist that night: 01:45's window is 15 minutes of real time
    now = datetime.fromisoformat("2024-03-31T03:30+02:00")
    assert quarter.get_partition_keys(current_time=now)[3:6] == [
        "2024-03-31-01:45", "2024-03-31-03:00", "2024-03-31-03:15"
    ]  # fmt: skip
    w = quarter.time_window_for_partition_key("2024-03-31-01:45")
    assert w.end.timestamp() - w.start.timestamp() == 15 * 60


def test_time_definition_errors() -> None:
    with pytest.raises(UnsafeNameError, match="partition key '2024/01/01'"):
        dg.DailyPartitionsDefinition(start_date="2024-01-01", fmt="%Y/%m/%d")
    with pytest.raises(DefinitionError, match="time zone 'Mars/Olympus' is unknown"):
        dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="Mars/Olympus")
    with pytest.raises(DefinitionError, match="start date 'soon' is not a date"):
        dg.DailyPartitionsDefinition(start_date="soon")
    with pytest.raises(
        DefinitionError, match=r"day_offset=31 for monthly partitions: expected 1..28"
    ):
        dg.MonthlyPartitionsDefinition(start_date="2024-01-01", day_offset=31)


@pytest.mark.parametrize(
    ("zone", "day", "long_minutes"),
    [
        ("Australia/Lord_Howe", "2024-04-07", 90),  # 02:00 (+11) back to 01:30 (+10:30)
        ("Australia/Lord_Howe", "2024-10-06", 90),  # 02:00 (+10:30) on to 02:30 (+11)
        ("Australia/Lord_Howe", "2024-07-01", None),  # the standard half of the year (+10:30)
        ("America/New_York", "2024-11-03", None),  # 01:00 twice (the second keyed -0500)
        ("America/New_York", "2024-03-10", None),
        ("Europe/Berlin", "2024-03-31", None),
        ("Asia/Kolkata", "2024-07-01", None),  # +05:30 all year
    ],
)
def test_hourly_windows_start_on_the_local_hour_across_dst_changes(
    zone: str, day: str, long_minutes: int | None
) -> None:
    hours = dg.HourlyPartitionsDefinition(start_date=f"{day}-00:00", timezone=zone)
    keys = hours.get_partition_keys(current_time=datetime.fromisoformat(f"{day}T23:59-12:00"))
    windows = [hours.time_window_for_partition_key(k) for k in keys]
    assert len(keys) >= 20
    for key, w in zip(keys, windows, strict=True):
        assert w.start.minute == 0, key  # wall-clock :00 in the zone, never :30
        assert key[11:16] == w.start.strftime("%H:%M")
    for a, b in itertools.pairwise(windows):
        assert a.end == b.start
    minutes = sorted({(w.end.timestamp() - w.start.timestamp()) // 60 for w in windows})
    assert minutes == ([60] if long_minutes is None else [60, long_minutes])
