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
    assert numbers.rstrip().endswith("success")
    total = _row(out, "total")
    assert " numbers " in total  # upstream
    assert "success" in total
    doubled = _row(out, "doubled")
    assert "mem (InMemoryIOManager)" in doubled
    assert doubled.rstrip().endswith("never")


def test_list_shows_failed_status(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("failing.py", FAILING)
    main(["materialize", "-f", "failing.py"])
    capsys.readouterr()
    assert main(["list", "-f", "failing.py"]) == 0
    out = capsys.readouterr().out
    assert _row(out, "broken").rstrip().endswith("failed")
    assert _row(out, "report").rstrip().endswith("skipped")


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
