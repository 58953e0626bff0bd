"""``wharf materialize --executor``: the same run through worker processes or Dask."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import FAILING, PIPELINE
from wharf.cli.main import main

Write = Callable[[str, str], Path]


@pytest.mark.parametrize("flags", [["--executor", "multiprocess", "--max-concurrent", "2"]])
def test_failing_run_on_workers_reports_like_in_process(
    write: Write, capsys: pytest.CaptureFixture[str], flags: list[str]
) -> None:
    write("failing.py", FAILING)
    assert main(["materialize", "-f", "failing.py", *flags]) == 1
    out = capsys.readouterr().out
    assert "2 done, 1 failed, 1 skipped" in out
    assert "numbers do not add up" in out


def test_in_memory_store_with_workers_is_a_usage_error(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("pipeline.py", PIPELINE)  # `doubled` uses an InMemoryIOManager
    assert main(["materialize", "-f", "pipeline.py", "--executor", "multiprocess"]) == 2
    err = capsys.readouterr().err
    assert "'mem' (InMemoryIOManager) cannot be used with the multiprocess executor" in err
    assert "InMemoryIOManager keeps values inside one process" in err


MEMORY_DUCKDB = """
import wharf as dg
from wharf.duckdb import DuckDBIOManager

@dg.asset
def a() -> int:
    return 1

defs = dg.Definitions(assets=[a], resources={"io_manager": DuckDBIOManager(database=":memory:")})
"""


def test_memory_duckdb_with_workers_names_the_real_problem_and_a_real_fix(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("pipeline.py", MEMORY_DUCKDB)
    assert main(["materialize", "-f", "pipeline.py", "--executor", "multiprocess"]) == 2
    err = capsys.readouterr().err
    assert "database ':memory:' lives inside this process" in err
    assert "cannot be shared across processes" in err
    assert "DuckDBIOManager(database='warehouse.duckdb')" in err  # a file: a real fix
    assert err.count("cannot be shared") == 1


def test_dask_executor_from_the_command_line(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("pipeline.py", PIPELINE.replace('@dg.asset(io_manager_key="mem")', "@dg.asset"))
    assert main(["materialize", "-f", "pipeline.py", "--executor", "dask"]) == 0
    assert "3 done, 0 failed, 0 skipped" in capsys.readouterr().out
