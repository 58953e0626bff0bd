"""``wharf schedules list|start|stop``: the daemon's state from the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from wharf.cli.main import main

Write = Callable[[str, str], Path]

SCHEDULED = """
import wharf as dg

@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]

nightly = dg.ScheduleDefinition(
    name="nightly", cron_schedule="0 2 * * *", target=[numbers], execution_timezone="Europe/Berlin"
)

@dg.sensor(target=[numbers], minimum_interval_seconds=10,
           default_status=dg.DefaultSensorStatus.RUNNING)
def watcher(context):
    return dg.SkipReason("nothing new")

defs = dg.Definitions(assets=[numbers], schedules=[nightly], sensors=[watcher])
"""


def _row(out: str, name: str) -> list[str]:
    return next(ln.split() for ln in out.splitlines() if ln.startswith(name + " "))


def test_list_start_stop(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("pipeline.py", SCHEDULED)
    assert main(["schedules", "list", "-f", "pipeline.py"]) == 0
    out = capsys.readouterr().out
    nightly = _row(out, "nightly")
    assert nightly[:5] == ["nightly", "schedule", "stopped", "0", "2"]
    assert "(Europe/Berlin)" in nightly
    assert _row(out, "watcher")[:4] == ["watcher", "sensor", "running", "every"]
    assert main(["schedules", "start", "nightly", "-f", "pipeline.py"]) == 0
    assert "nightly: started" in capsys.readouterr().out
    assert main(["schedules", "list", "-f", "pipeline.py"]) == 0
    assert _row(capsys.readouterr().out, "nightly")[2] == "running"
    assert main(["schedules", "stop", "watcher", "-f", "pipeline.py"]) == 0
    assert main(["schedules", "list", "-f", "pipeline.py"]) == 0
    assert _row(capsys.readouterr().out, "watcher")[2] == "stopped"


def test_unknown_name_and_missing_name_are_usage_errors(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("pipeline.py", SCHEDULED)
    assert main(["schedules", "start", "nope", "-f", "pipeline.py"]) == 2
    err = capsys.readouterr().err
    assert "no schedule or sensor named 'nope'" in err
    assert "nightly, watcher" in err
    assert main(["schedules", "stop", "-f", "pipeline.py"]) == 2
    assert "needs a NAME" in capsys.readouterr().err
