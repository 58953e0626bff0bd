"""``wharf materialize --partition KEY`` and backfills with ``--partitions A...B`` / ``A,B``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from wharf._core.history import RunHistory
from wharf.cli.main import main

Write = Callable[[str, str], Path]

PIPELINE = """
import wharf as dg

days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-06")
regions = dg.StaticPartitionsDefinition(["eu", "us"])

@dg.asset
def rates() -> dict:
    return {"factor": 2}

@dg.asset(partitions_def=days)
def events(context, rates: dict) -> list:
    if context.partition_key == "2024-01-03":
        raise ValueError("the feed for 2024-01-03 is corrupt")
    return [rates["factor"]] * 3

@dg.asset(partitions_def=days)
def daily_total(events: list) -> int:
    return sum(events)

@dg.asset
def report(daily_total: dict) -> int:
    return len(daily_total)

@dg.asset(partitions_def=regions)
def by_region(context) -> str:
    return context.partition_key

defs = dg.Definitions(assets=[rates, events, daily_total, report, by_region])
"""


@pytest.fixture
def pipeline(write: Write) -> Path:
    return write("pipeline.py", PIPELINE)


def test_one_partition_is_recorded(pipeline: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["materialize", "-f", "pipeline.py", "--select", "rates,events", "--partition"]
    assert main([*argv, "2024-01-02"]) == 0
    out = capsys.readouterr().out
    assert "(partition 2024-01-02): 2 done, 0 failed, 0 skipped" in out
    with RunHistory() as history:
        assert history.last("events").partition_key == "2024-01-02"  # type: ignore[union-attr]
        assert history.last("rates").partition_key is None  # type: ignore[union-attr]
    assert main(["show", "events"]) == 0
    assert "partition:   2024-01-02" in capsys.readouterr().out


def test_backfill_runs_in_order_and_lists_failed_partitions(
    pipeline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["materialize", "-f", "pipeline.py", "--select", "rates,events,daily_total,report"]
    assert main([*argv, "--partitions", "2024-01-01...2024-01-04"]) == 1
    out = capsys.readouterr().out
    assert "backfill of 4 partitions (2024-01-01 ... 2024-01-04) of events, daily_total" in out
    order = [out.index(f"[{i}/4] partition 2024-01-0{i}") for i in range(1, 5)]
    assert order == sorted(order)
    assert out.index("done     rates") < order[0]  # upstream unpartitioned: once, first
    assert out.index("failed   report") > order[-1]  # downstream: once, last (2024-01-05 unrun)
    assert "backfill: 3 of 4 partitions succeeded, 1 failed" in out
    assert "failed   2024-01-03: asset 'events' failed\n" in out
    assert out.count("ValueError: the feed for 2024-01-03") == 1  # each error once
    with RunHistory() as history:
        done = [r.partition_key for r in history.for_asset("daily_total") if r.status == "success"]
    assert sorted(done) == ["2024-01-01", "2024-01-02", "2024-01-04"]


def test_backfill_of_a_list_succeeds(pipeline: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["materialize", "-f", "pipeline.py", "--select", "by_region", "--partitions", "us,eu"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.index("[1/2] partition us") < out.index("[2/2] partition eu")
    assert "backfill: 2 of 2 partitions succeeded, 0 failed" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--partition", "2024-02-30"], "has no partition '2024-02-30'"),
        (["--partition", "../up"], "partition key '../up' (asset 'by_region') is unsafe"),
        (["--select", "rates", "--partition", "eu"], "none of the selected assets is partitioned"),
        (["--select", "events"], "asset 'events' is partitioned"),
        (
            ["--select", "events", "--partitions", "2024-01-01...2024-01-09"],
            "no partition '2024-01-09'",
        ),
        (["--select", "events", "--partitions", "2024-01-03...2024-01-01"], "is reversed"),
        (["--select", "events,by_region", "--partitions", "a...b"], "needs one partitions def"),
        (["--select", "rates", "--partitions", "eu,us"], "a backfill needs partitioned assets"),
    ],
)
def test_bad_partitions_exit_2_before_running(
    pipeline: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["materialize", "-f", "pipeline.py", *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "done" not in captured.out
    with RunHistory() as history:
        assert history.asset_keys() == []


def test_partition_and_partitions_exclude_each_other(pipeline: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["materialize", "-f", "pipeline.py", "--partition", "eu", "--partitions", "eu,us"])
    assert info.value.code == 2
