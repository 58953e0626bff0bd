"""Schedules and sensors as Dagster's documentation shows them, with ``import wharf as dg``.

(``define_asset_job`` comes with the jobs issue; until then these target assets or job names.)
"""

from __future__ import annotations

import datetime as dt

import pytest

import wharf as dg


@dg.asset
def my_asset() -> int:
    return 1


def test_schedule_definition_with_cron_and_time_zone() -> None:
    basic = dg.ScheduleDefinition(
        name="basic_schedule", cron_schedule="0 0 * * *", target=[my_asset],
        execution_timezone="America/Los_Angeles",
    )  # fmt: skip
    assert basic.name == "basic_schedule"
    assert basic.default_status is dg.DefaultScheduleStatus.STOPPED
    after = dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC)
    first = next(basic.ticks_after(after))
    assert first.isoformat() == "2026-07-02T00:00:00-07:00"  # PDT in July
    assert (
        dg.Definitions(assets=[my_asset], schedules=[basic]).get_schedule_def("basic_schedule")
        is basic
    )


def test_schedule_name_defaults_to_the_job_plus_schedule() -> None:
    assert (
        dg.ScheduleDefinition(job_name="my_job", cron_schedule="@daily").name == "my_job_schedule"
    )


def test_schedule_decorator_gets_the_scheduled_time() -> None:
    @dg.schedule(cron_schedule="0 1 * * *", job_name="configurable_job")
    def configurable_job_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        scheduled_date = context.scheduled_execution_time.strftime("%Y-%m-%d")
        return dg.RunRequest(
            run_key=None,
            run_config={"ops": {"configurable_op": {"config": {"scheduled_date": scheduled_date}}}},
            tags={"date": scheduled_date},
        )

    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 1, 2, 1))
    (request,) = configurable_job_schedule.evaluate_tick(context)  # type: ignore[misc]
    assert request.tags == {"date": "2026-01-02"}
    assert request.run_config["ops"]["configurable_op"]["config"]["scheduled_date"] == "2026-01-02"
    direct = configurable_job_schedule(context)
    assert direct.tags == {"date": "2026-01-02"}


def test_sensor_yields_run_requests_and_skip_reasons() -> None:
    files = ["a.csv", "b.csv"]

    @dg.sensor(job_name="log_file_job", minimum_interval_seconds=5)
    def my_directory_sensor(context: dg.SensorEvaluationContext):  # type: ignore[no-untyped-def]
        if not files:
            yield dg.SkipReason("No new files found")
            return
        for filename in files:
            yield dg.RunRequest(run_key=filename, run_config={"ops": {"process_file": {}}})

    assert my_directory_sensor.minimum_interval_seconds == 5
    requests, skip, _ = my_directory_sensor.evaluate(dg.build_sensor_context())
    assert [r.run_key for r in requests] == ["a.csv", "b.csv"]
    assert skip is None
    files.clear()
    requests, skip, _ = my_directory_sensor.evaluate(dg.build_sensor_context())
    assert requests == []
    assert skip == dg.SkipReason("No new files found")


def test_sensor_cursor_updates_and_default_interval() -> None:
    @dg.sensor(target=[my_asset])
    def counter(context):  # type: ignore[no-untyped-def]
        last = int(context.cursor) if context.cursor else 0
        context.update_cursor(str(last + 1))
        return dg.RunRequest(run_key=str(last + 1))

    assert counter.minimum_interval_seconds == 30  # Dagster's default
    assert counter.default_status is dg.DefaultSensorStatus.STOPPED
    _, _, cursor = counter.evaluate(dg.build_sensor_context(cursor="41"))
    assert cursor == "42"


def test_bad_cron_or_time_zone_is_a_definition_error_naming_the_schedule() -> None:
    with pytest.raises(
        dg.errors.DefinitionError, match=r"nightly.*cron_schedule='every day' is not a cron string"
    ):
        dg.ScheduleDefinition(name="nightly", cron_schedule="every day", job_name="j")
    with pytest.raises(dg.errors.DefinitionError, match=r"nightly.*Mars/Olympus"):
        dg.ScheduleDefinition(
            name="nightly", cron_schedule="0 0 * * *", job_name="j",
            execution_timezone="Mars/Olympus",
        )  # fmt: skip


def test_a_sensor_returning_something_else_is_an_error_naming_it() -> None:
    @dg.sensor(job_name="j")
    def odd(context):  # type: ignore[no-untyped-def]
        return 42

    with pytest.raises(dg.errors.DefinitionError, match="sensor 'odd' returned 42"):
        odd.evaluate(dg.build_sensor_context())
