"""The schedule and sensor daemon, ticked by hand at chosen times (no sleeping), over a real
tick store in SQLite; runs are recorded instead of launched, except in the last test, where a
real ``wharf dev`` runs a schedule due two seconds later."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.ui.conftest import start_dev, write_project
from tests.ui.test_browser import click, wait
from wharf._core.ticks import TickStore
from wharf.ui.daemon import MAX_CATCHUP, Daemon, set_status
from wharf.ui.workspace import Location, Workspace

PROJECT = """
import datetime as dt
import wharf as dg
from wharf._core.schedules import (
    DefaultScheduleStatus, DefaultSensorStatus, RunRequest, ScheduleDefinition, SkipReason,
    schedule, sensor,
)

@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]

@dg.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)

every_minute = ScheduleDefinition(
    name="every_minute", cron_schedule="* * * * *", target=[numbers],
    default_status=DefaultScheduleStatus.RUNNING,
)

@schedule(cron_schedule="0 9 * * *", execution_timezone="America/New_York", target=[total])
def morning(context):
    return RunRequest(run_key=None, tags={"date": context.scheduled_execution_time.isoformat()})

@schedule(cron_schedule="*/10 * * * *", target="*", default_status=DefaultScheduleStatus.RUNNING)
def never_on_tens(context):
    return SkipReason(f"skipped {context.scheduled_execution_time:%H:%M}")

FILES = ["a.csv", "b.csv"]

@sensor(minimum_interval_seconds=30, target=[numbers], default_status=DefaultSensorStatus.RUNNING)
def new_files(context):
    seen = int(context.cursor or 0)
    if seen >= len(FILES):
        yield SkipReason("no new files")
        return
    for name in FILES[seen:]:
        yield RunRequest(run_key=name)
    context.update_cursor(str(len(FILES)))

@sensor(minimum_interval_seconds=30)
def broken(context):
    raise RuntimeError("cannot reach the bucket")

defs = dg.Definitions(
    assets=[numbers, total], schedules=[every_minute, morning, never_on_tens],
    sensors=[new_files, broken],
)
"""
T0 = dt.datetime(2026, 1, 5, 12, 0, 30, tzinfo=dt.UTC).timestamp()  # 30 s past a minute


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(
        self, selection: Any, partition: Any, config: Any, tags: Any, origin: str, job: Any
    ) -> Any:
        run_id = f"run-{len(self.calls) + 1}"
        self.calls.append({"selection": selection, "tags": tags, "origin": origin, "id": run_id})
        return [run_id]

    def by(self, origin: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["origin"] == origin]


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    project = write_project(tmp_path / "sched", PROJECT)
    return Workspace(Location(file=str(project)), tmp_path / "home")


def daemon(workspace: Workspace) -> tuple[Daemon, Recorder]:
    rec = Recorder()
    return Daemon(workspace, launch=rec), rec


def store(workspace: Workspace) -> TickStore:
    return TickStore(workspace.home / "history.sqlite")


def test_a_running_schedule_fires_once_per_tick_from_when_it_was_first_seen(
    workspace: Workspace,
) -> None:
    d, rec = daemon(workspace)
    d.tick(T0)  # first seen: starts from now, runs nothing that was due before
    assert rec.by("schedule:every_minute") == []
    d.tick(T0 + 40)  # 12:01:10: the 12:01 tick is due
    d.tick(T0 + 45)
    d.tick(T0 + 50)
    runs = rec.by("schedule:every_minute")
    assert len(runs) == 1
    assert runs[0]["selection"] == ["numbers"]
    assert runs[0]["tags"]["dagster/schedule"] == "every_minute"
    with store(workspace) as s:
        ticks = s.ticks("every_minute")
    assert [(t.status, t.run_ids) for t in ticks] == [("success", [runs[0]["id"]])]
    assert dt.datetime.fromtimestamp(ticks[0].tick_at, dt.UTC).strftime("%H:%M:%S") == "12:01:00"


def test_missed_ticks_are_caught_up_once_each_across_restarts(workspace: Workspace) -> None:
    first, _ = daemon(workspace)
    first.tick(T0)
    first.tick(T0 + 40)  # 12:01
    # the daemon is down from 12:01:10 to 12:04:40; a new process starts
    second, rec2 = daemon(workspace)
    second.tick(T0 + 250)
    caught = [c["tags"] for c in rec2.by("schedule:every_minute")]
    assert len(caught) == 3  # 12:02, 12:03, 12:04: each once
    third, rec3 = daemon(workspace)  # restarted again at the same moment: nothing twice
    third.tick(T0 + 250)
    assert rec3.by("schedule:every_minute") == []
    with store(workspace) as s:
        assert s.tick_counts()["every_minute"] == 4
    # down for ten minutes: only the newest MAX_CATCHUP ticks run
    fourth, rec4 = daemon(workspace)
    fourth.tick(T0 + 250 + 600)
    assert len(rec4.by("schedule:every_minute")) == MAX_CATCHUP


def test_a_stopped_schedule_does_not_run_and_starting_skips_what_it_missed(
    workspace: Workspace,
) -> None:
    d, rec = daemon(workspace)
    d.tick(T0)
    with store(workspace) as s:
        set_status(workspace.defs(), s, "every_minute", running=False)
    d.tick(T0 + 40)
    d.tick(T0 + 200)
    assert rec.by("schedule:every_minute") == []
    with store(workspace) as s:
        set_status(workspace.defs(), s, "every_minute", running=True)
        start = s.state("every_minute")
    assert start is not None
    assert start.last_tick is not None
    # just past the first minute boundary after it was started (last_tick + 61 s could pass
    # two boundaries when it was started in a minute's last second)
    d.tick((start.last_tick // 60 + 1) * 60 + 1)
    assert len(rec.by("schedule:every_minute")) == 1  # only the tick after it was started


def test_schedules_default_to_stopped_and_keep_their_time_zone(workspace: Workspace) -> None:
    d, rec = daemon(workspace)
    day = dt.datetime(2026, 1, 5, 13, 0, tzinfo=dt.UTC).timestamp()
    d.tick(day)
    d.tick(day + 3 * 3600)
    assert rec.by("schedule:morning") == []  # STOPPED by default
    with store(workspace) as s:
        set_status(workspace.defs(), s, "morning", running=True)
        s.set_state("morning", "schedule", status="running", now=day, last_tick=day)
    d.tick(day + 3600 + 5)  # 14:00:05 UTC is 09:00:05 in New York (EST)
    (run,) = rec.by("schedule:morning")
    assert run["selection"] == ["total"]
    assert run["tags"]["date"] == "2026-01-05T09:00:00-05:00"


def test_a_skip_reason_is_recorded_as_a_skipped_tick(workspace: Workspace) -> None:
    d, _ = daemon(workspace)
    d.tick(T0)
    d.tick(T0 + 600)  # 12:10:30
    with store(workspace) as s:
        (tick,) = s.ticks("never_on_tens")
    assert (tick.status, tick.message, tick.run_ids) == ("skipped", "skipped 12:10", [])


def test_a_sensor_keeps_its_cursor_and_never_launches_a_run_key_twice(
    workspace: Workspace,
) -> None:
    d, rec = daemon(workspace)
    d.tick(T0)
    assert [c["selection"] for c in rec.by("sensor:new_files")] == [["numbers"], ["numbers"]]
    d.tick(T0 + 10)  # under minimum_interval_seconds: not evaluated
    d.tick(T0 + 31)
    assert len(rec.by("sensor:new_files")) == 2
    with store(workspace) as s:
        state = s.state("new_files")
        ticks = s.ticks("new_files")
        assert state is not None
        assert state.cursor == "2"
        assert [t.status for t in ticks] == ["skipped", "success"]
        assert ticks[0].message == "no new files"
        # a cursor reset makes the sensor ask again: the run keys still dedupe
        s.set_state("new_files", "sensor", status="running", now=T0, cursor=None, last_tick=T0)
    d.tick(T0 + 62)
    assert len(rec.by("sensor:new_files")) == 2
    with store(workspace) as s:
        newest = s.ticks("new_files")[0]
    assert newest.status == "skipped"
    assert "run_key" in (newest.message or "")


def test_a_failing_sensor_records_its_traceback_and_keeps_the_cursor(
    workspace: Workspace,
) -> None:
    d, rec = daemon(workspace)
    with store(workspace) as s:
        set_status(workspace.defs(), s, "broken", running=True)
        s.set_state("broken", "sensor", status="running", now=T0, cursor="7", last_tick=T0 - 60)
    d.tick(T0)
    assert rec.by("sensor:broken") == []
    with store(workspace) as s:
        (tick,) = s.ticks("broken")
        state = s.state("broken")
    assert tick.status == "failed"
    assert "RuntimeError: cannot reach the bucket" in (tick.message or "")
    assert state is not None
    assert state.cursor == "7"


def test_unknown_name_is_an_error_naming_the_known_ones(workspace: Workspace) -> None:
    with store(workspace) as s, pytest.raises(KeyError, match="every_minute"):
        set_status(workspace.defs(), s, "nope", running=True)


E2E = """
import datetime as dt
import wharf as dg
from wharf._core.schedules import DefaultScheduleStatus, ScheduleDefinition

DUE = dt.datetime.fromtimestamp(DUE_AT, dt.UTC)

@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]

soon = ScheduleDefinition(
    name="soon",
    # a sixth field (seconds) is a wharf extension: once a day, at DUE
    cron_schedule=f"{DUE.minute} {DUE.hour} * * * {DUE.second}",
    target=[numbers],
    default_status=DefaultScheduleStatus.RUNNING,
)
defs = dg.Definitions(assets=[numbers], schedules=[soon])
"""


def test_a_schedule_due_in_two_seconds_fires_exactly_once(tmp_path: Path, browser: Any) -> None:
    home = tmp_path / "home"
    project = tmp_path / "e2e" / "project.py"
    project.parent.mkdir()
    due = int(time.time()) + 15  # the server takes a while to start on a busy machine
    project.write_text(f"DUE_AT = {due}\n" + E2E)
    with start_dev(project, home) as dev:
        while time.time() < due - 2:
            time.sleep(0.2)  # now the schedule is due in two seconds
        dev.wait_for(lambda: dev.get("/api/runs")["runs"], timeout=30)
        time.sleep(3)  # time enough for a second run, if there were one
        runs = dev.get("/api/runs")["runs"]
        (soon,) = dev.get("/api/schedules")["instigators"]
    assert len(runs) == 1
    assert [t["status"] for t in soon["ticks"]] == ["success"]
    assert soon["ticks"][0]["tick_at"] == due
    assert soon["ticks"][0]["run_ids"] == [runs[0]["run_id"]]
    # the daemon restarts after the tick: it does not run it again
    with start_dev(project, home) as dev:
        time.sleep(2)
        assert len(dev.get("/api/runs")["runs"]) == 1
        # the schedules page shows the tick and its run; its button stops the schedule
        browser.get(dev.url + "/#/schedules")
        card = '[data-instigator="soon"]'
        wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, card + " tr")))
        (row,) = browser.find_elements(By.CSS_SELECTOR, card + " tr")
        assert "success" in row.text
        assert runs[0]["run_id"][:8] in row.text
        click(browser, card + " button")
        wait(browser).until(
            lambda b: b.find_element(By.CSS_SELECTOR, card + " .pill").text == "stopped"
        )
        assert dev.get("/api/schedules")["instigators"][0]["status"] == "stopped"
