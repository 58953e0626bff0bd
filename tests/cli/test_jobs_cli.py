"""``wharf materialize --select EXPR`` / ``--job NAME`` and ``wharf list`` showing jobs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from wharf.cli.main import main

Write = Callable[[str, str], Path]

JOBS = """
import wharf as dg

@dg.asset(group_name="ingest")
def raw() -> list[int]:
    return [1, 2, 3]

@dg.asset(group_name="marts", tags={"tier": "gold"})
def total(raw: list[int]) -> int:
    return sum(raw)

@dg.asset(group_name="marts")
def report(total: int) -> str:
    return str(total)

marts_job = dg.define_asset_job("marts_job", selection=dg.AssetSelection.groups("marts"),
                                description="the marts")
nightly = dg.ScheduleDefinition(job=marts_job, cron_schedule="0 2 * * *")
defs = dg.Definitions(assets=[raw, total, report], schedules=[nightly])
"""


def _ran(out: str) -> str:
    return next(ln for ln in out.splitlines() if ln.startswith("run "))


@pytest.mark.parametrize(
    ("select", "done"),
    [
        (["--select", "*total"], "2 done"),
        (["--select", "raw+"], "2 done"),
        (["--select", 'group:"ingest" or tag:"tier"="gold"'], "2 done"),
        (["--select", "raw,total"], "2 done"),
        (["--select", "key:r*", "--select", "total"], "3 done"),
    ],
)
def test_materialize_select_takes_selection_syntax(
    write: Write, capsys: pytest.CaptureFixture[str], select: list[str], done: str
) -> None:
    write("jobs.py", JOBS)
    assert main(["materialize", "-f", "jobs.py", *select]) == 0
    assert done in _ran(capsys.readouterr().out)


def test_materialize_job_and_bad_selection(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("jobs.py", JOBS)
    assert main(["materialize", "-f", "jobs.py", "--select", "raw"]) == 0
    capsys.readouterr()
    assert main(["materialize", "-f", "jobs.py", "--job", "marts_job"]) == 0
    assert "2 done, 0 failed" in _ran(capsys.readouterr().out)
    assert main(["materialize", "-f", "jobs.py", "--job", "nope"]) == 2
    assert "no job named 'nope'" in capsys.readouterr().err
    assert main(["materialize", "-f", "jobs.py", "--select", "raw and"]) == 2
    assert "is not valid at position" in capsys.readouterr().err


def test_list_shows_jobs_and_their_schedules(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("jobs.py", JOBS)
    assert main(["list", "-f", "jobs.py"]) == 0
    out = capsys.readouterr().out
    assert "1 job" in out
    assert "tier=gold" in next(ln for ln in out.splitlines() if ln.startswith("total "))
    row = next(ln for ln in out.splitlines() if ln.startswith("marts_job"))
    assert "total, report" in row
    assert "marts_job_schedule (0 2 * * *)" in row
    assert "the marts" in row


CONFIGURED = """
import wharf as dg

class RawConfig(dg.Config):
    limit: int
    label: str = "rows"

@dg.asset
def raw(config: RawConfig) -> str:
    return f"{config.limit} {config.label}"

defs = dg.Definitions(assets=[raw])
"""


def test_materialize_config_yaml_files_merge(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("configured.py", CONFIGURED)
    write("base.yaml", "ops:\n  raw:\n    config:\n      limit: 3\n      label: base\n")
    write("override.yaml", "ops:\n  raw:\n    config:\n      label: override\n")
    assert (
        main(["materialize", "-f", "configured.py", "-c", "base.yaml", "-c", "override.yaml"]) == 0
    )
    assert "1 done" in _ran(capsys.readouterr().out)
    from wharf.cli.load import load_definitions

    defs, _ = load_definitions(None, "configured.py", None)
    assert defs.load_asset_value("raw") == "3 override"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("ops:\n  raw:\n    config:\n      limit: many\n", "'ops.raw.config.limit'"),
        ("ops:\n  raw:\n    config: {}\n", "'ops.raw.config.limit' is missing"),
        ("- 1\n", "expected a mapping"),
        ("ops: [\n", "not valid YAML"),
    ],
)
def test_bad_config_file_is_a_usage_error(
    write: Write, capsys: pytest.CaptureFixture[str], yaml_text: str, message: str
) -> None:
    write("configured.py", CONFIGURED)
    write("run.yaml", yaml_text)
    assert main(["materialize", "-f", "configured.py", "--config", "run.yaml"]) == 2
    assert message in capsys.readouterr().err
    assert main(["materialize", "-f", "configured.py", "--config", "missing.yaml"]) == 2
    assert "cannot read the file" in capsys.readouterr().err


CHECKED = """
import wharf as dg

@dg.asset
def amounts() -> list[int]:
    return [3, -1]

@dg.asset
def total(amounts: list[int]) -> int:
    return sum(amounts)

@dg.asset_check(asset=amounts, blocking=True)
def non_negative(amounts: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=min(amounts) >= 0, metadata={"min": min(amounts)})

defs = dg.Definitions(assets=[amounts, total], asset_checks=[non_negative])
"""


def test_check_results_in_the_summary_and_in_show(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("checked.py", CHECKED)
    assert main(["materialize", "-f", "checked.py"]) == 1
    out = capsys.readouterr().out
    assert "check    amounts#non_negative: failed (error)" in out
    assert "skipped  total: upstream 'amounts__check__non_negative' failed" in out
    assert main(["show", "amounts"]) == 0
    out = capsys.readouterr().out
    assert "asset checks of amounts (latest evaluation)" in out
    assert "non_negative: failed (error)" in out
    assert "min: -1" in out
