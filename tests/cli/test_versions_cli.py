"""``wharf materialize --stale-only`` and the staleness column of ``wharf list``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import PIPELINE
from wharf.cli.main import main

Write = Callable[[str, str], Path]


def test_cli_stale_only_and_list_staleness(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("pipeline.py", PIPELINE)
    assert main(["list", "-f", "pipeline.py"]) == 0
    assert "never stored" in capsys.readouterr().out
    assert main(["materialize", "-f", "pipeline.py"]) == 0
    capsys.readouterr()
    assert main(["list", "-f", "pipeline.py"]) == 0
    assert "fresh" in capsys.readouterr().out
    assert main(["materialize", "-f", "pipeline.py", "--stale-only"]) == 0
    out = capsys.readouterr().out
    assert "0 done, 0 failed, 0 skipped, 3 unchanged (not run)" in out
