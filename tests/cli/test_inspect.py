"""``wharf list`` and ``wharf show``: the assets and their history."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import FAILING, PIPELINE
from wharf.cli.main import main

Write = Callable[[str, str], Path]


@pytest.fixture
def materialized(write: Write, capsys: pytest.CaptureFixture[str]) -> Path:
    path = write("pipeline.py", PIPELINE)
    assert main(["materialize", "-f", "pipeline.py", "--select", "numbers,total"]) == 0
    capsys.readouterr()
    return path


def _row(out: str, key: str) -> str:
    return next(ln for ln in out.splitlines() if ln.startswith(key + " "))


def test_list_shows_assets_and_last_materialization(
    materialized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "-f", "pipeline.py"]) == 0
    out = capsys.readouterr().out
    assert "3 assets in pipeline.py" in out
    numbers = _row(out, "numbers")
    assert "raw" in numbers
    assert "io_manager (FilesystemIOManager)" in numbers
    assert numbers.rstrip().endswith("success  fresh")  # status, staleness
    total = _row(out, "total")
    assert " numbers " in total  # upstream
    assert "success" in total
    doubled = _row(out, "doubled")
    assert "mem (InMemoryIOManager)" in doubled
    assert doubled.rstrip().endswith("never    never stored")


def test_list_shows_failed_status(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("failing.py", FAILING)
    main(["materialize", "-f", "failing.py"])
    capsys.readouterr()
    assert main(["list", "-f", "failing.py"]) == 0
    out = capsys.readouterr().out
    assert _row(out, "broken").rstrip().endswith("failed   failed")  # status, staleness
    assert _row(out, "report").rstrip().endswith("skipped  never stored")


def test_show_prints_metadata_and_path(
    materialized: Path, wharf_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "total"]) == 0
    out = capsys.readouterr().out
    assert "last materialization of total" in out
    assert "status:      success" in out
    stored = _row(out, "  stored at:").split(":", 1)[1].strip()
    assert stored.startswith(str(wharf_home / "storage" / "total"))
    assert Path(stored).exists()
    assert re.search(rf"path: +{re.escape(stored)}\n", out)  # the metadata entry it came from
    assert "bytes:" in out
    assert "run id:" in out
    assert "duration:" in out


def test_show_latest_failure_with_error(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("failing.py", FAILING)
    main(["materialize", "-f", "failing.py"])
    capsys.readouterr()
    assert main(["show", "broken"]) == 0
    out = capsys.readouterr().out
    assert "latest attempt of broken" in out
    assert "status:      failed" in out
    assert "ValueError: numbers do not add up" in out


def test_show_history_lists_runs(materialized: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["materialize", "-f", "pipeline.py", "--select", "numbers"]) == 0
    capsys.readouterr()
    assert main(["show", "numbers", "--history"]) == 0
    out = capsys.readouterr().out
    assert "last 2 materialization attempts of numbers" in out
    assert sum("success" in ln for ln in out.splitlines()) == 2


def test_show_unknown_key_exits_2(materialized: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no asset 'nope'" in err
    assert "[numbers, total]" in err
    assert main(["show", "nope", "-f", "pipeline.py"]) == 2
    assert "[doubled, numbers, total]" in capsys.readouterr().err


def test_show_with_empty_history(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "anything"]) == 2
    assert "nothing has been materialized yet" in capsys.readouterr().err


def test_show_known_but_never_materialized_exits_1(
    materialized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "doubled", "-f", "pipeline.py"]) == 1
    assert "has not been materialized yet" in capsys.readouterr().out


TABLES = """
import pyarrow as pa
import wharf as dg
from wharf.duckdb import DuckDBIOManager

@dg.asset
def numbers() -> pa.Table:
    return pa.table({"n": list(range(500)), "word": [f"w{i}" for i in range(500)]})

@dg.asset(io_manager_key="files")
def on_disk() -> pa.Table:
    return pa.table({"n": list(range(500))})

@dg.asset(io_manager_key="files")
def settings() -> dict:
    return {"a": 1}

defs = dg.Definitions(
    assets=[numbers, on_disk, settings],
    resources={
        "io_manager": DuckDBIOManager(database="shop.duckdb", schema="raw"),
        "files": dg.FilesystemIOManager(base_dir="files"),
    },
)
"""


def _first_rows(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip().startswith("first "))
    return [ln.strip() for ln in lines[start:]]


def test_show_prints_the_first_rows_of_a_stored_table(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("tables.py", TABLES)
    assert main(["materialize", "-f", "tables.py"]) == 0
    capsys.readouterr()
    # a SQL table: read through the code location's I/O manager, with LIMIT
    assert main(["show", "numbers", "-f", "tables.py", "--rows", "3"]) == 0
    rows = _first_rows(capsys.readouterr().out)
    assert rows[0] == "first 3 rows:"
    assert [r.split() for r in rows[1:]] == [["n", "word"], ["0", "w0"], ["1", "w1"], ["2", "w2"]]
    # a Parquet file: its path is in the history, so no code location is needed
    assert main(["show", "on_disk"]) == 0
    rows = _first_rows(capsys.readouterr().out)
    assert rows[0] == "first 10 rows:"
    assert [r.split() for r in rows[1:]] == [["n"]] + [[str(i)] for i in range(10)]
    # a table without a code location, and a value that is not a table, say why
    assert main(["show", "numbers"]) == 0
    assert "first rows: not shown (pass the code location (-f FILE" in capsys.readouterr().out
    assert main(["show", "settings", "-f", "tables.py"]) == 0
    assert "first rows: not shown (the stored value is not a table)" in capsys.readouterr().out
    assert main(["show", "numbers", "-f", "tables.py", "--rows", "0"]) == 0
    assert "first" not in capsys.readouterr().out
