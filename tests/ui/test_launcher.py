"""The launcher plans a backfill as ``wharf materialize --partitions`` does: one run per range
when the assets' backfill policies allow it, and its worker runs each range in one run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ui.conftest import write_project
from wharf.ui.launcher import EventBus, Launch, Launcher
from wharf.ui.worker import run_spec
from wharf.ui.workspace import Location, Workspace

PROJECT = """
from pathlib import Path
import wharf as dg

days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-06")
CALLS = Path(FILES).parent / "calls.txt"

@dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.{policy})
def visits(context: dg.AssetExecutionContext) -> None:
    with CALLS.open("a") as f:
        f.write(",".join(context.partition_keys) + "\\n")

defs = dg.Definitions(assets=[visits])
"""


@pytest.mark.parametrize(
    ("policy", "runs"),
    [
        ("single_run()", [["2024-01-01", "2024-01-05"]]),
        ("multi_run(2)", [["2024-01-01", "2024-01-02"], ["2024-01-03", "2024-01-04"],
                          ["2024-01-05"]]),
    ],
)  # fmt: skip
def test_a_backfill_launch_follows_the_backfill_policy(
    tmp_path: Path,
    policy: str,
    runs: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WHARF_HOME", str(tmp_path / "home"))
    project = write_project(tmp_path / "p", PROJECT.replace("{policy}", policy))
    workspace = Workspace(Location(file=str(project)), tmp_path / "home")
    planned = Launcher(workspace, EventBus()).plan(["visits"], None, "2024-01-01...2024-01-05")
    labels = [r[0] if len(r) == 1 else f"{r[0]}...{r[-1]}" for r in runs]
    assert Launch("x", planned, 0.0).as_json()["partitions"] == labels

    spec = {"module": None, "file": str(project), "attribute": None, "runs": planned}
    assert run_spec(json.loads(json.dumps(spec))) == 0  # as the worker process gets it
    calls = (tmp_path / "p" / "calls.txt").read_text().split()
    wanted = [",".join(_days(r[0], r[-1])) for r in runs]
    assert calls == wanted  # one call of the body per planned run, with its range
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    starts = [e["partition_key"] for e in events if e["event"] == "run_start"]
    assert starts == labels


def _days(first: str, last: str) -> list[str]:
    import datetime as dt

    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [str(start + dt.timedelta(days=i)) for i in range((end - start).days + 1)]
