"""What a new user meets first on the command line: partition hints in the CLI's own terms,
and ``context.log`` shown from level info."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from wharf.cli.main import main

Write = Callable[[str, str], Path]

REGIONS = """
import wharf as dg

regions = dg.StaticPartitionsDefinition(["eu", "us", "apac"])

@dg.asset(partitions_def=regions)
def sales(context: dg.AssetExecutionContext) -> list[str]:
    return [context.partition_key]

defs = dg.Definitions(assets=[sales])
"""

LOGS = """
import wharf as dg

@dg.asset
def loud(context: dg.AssetExecutionContext) -> int:
    context.log.info("loaded 3 rows")
    context.log.debug("a detail")
    return 3

defs = dg.Definitions(assets=[loud])
"""


def test_a_partitioned_run_without_a_key_hints_the_cli_option(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("regions.py", REGIONS)
    assert main(["materialize", "-f", "regions.py"]) == 2
    err = capsys.readouterr().err
    assert "expected a partition key for the run, e.g. --partition apac" in err
    assert "--partitions A...B|A,B,C for one run per partition" in err
    assert "partition_key" not in err  # Python's spelling, not the CLI's


def test_several_keys_after_partition_point_to_partitions(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("regions.py", REGIONS)
    assert main(["materialize", "-f", "regions.py", "--partition", "eu,us"]) == 2
    err = capsys.readouterr().err
    assert "has no partition 'eu,us'" in err
    assert (
        "--partition takes one key: for one run per partition of 'eu,us' use --partitions eu,us"
        in err
    )
    assert main(["materialize", "-f", "regions.py", "--partitions", "eu,us"]) == 0
    assert "backfill: 2 of 2 partitions succeeded" in capsys.readouterr().out


def test_context_log_shows_from_info_by_default(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("logs.py", LOGS)
    assert main(["materialize", "-f", "logs.py"]) == 0
    err = capsys.readouterr().err
    assert "loaded 3 rows" in err
    assert "a detail" not in err
    assert main(["materialize", "-f", "logs.py", "--log-level", "debug"]) == 0
    assert "a detail" in capsys.readouterr().err
    assert main(["materialize", "-f", "logs.py", "--log-level", "warning"]) == 0
    assert "loaded 3 rows" not in capsys.readouterr().err
