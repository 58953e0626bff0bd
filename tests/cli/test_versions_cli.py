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


DELTA = """
import pandas as pd
import wharf as dg
from wharf.deltalake import DeltaLakeIOManager

@dg.asset
def orders() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2]})

@dg.asset(io_manager_key="files")
def note() -> str:
    return "x"

@dg.asset(io_manager_key="kept")
def memo() -> str:
    return "y"

defs = dg.Definitions(
    assets=[orders, note, memo],
    resources={"io_manager": DeltaLakeIOManager(root_uri="lake"),
               "files": dg.FilesystemIOManager(base_dir="files"),
               "kept": dg.FilesystemIOManager(base_dir="kept", keep_versions=5)},
)
"""


def test_cli_show_versions_lists_the_stores_versions(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("lake.py", DELTA)
    for _ in range(2):
        assert main(["materialize", "-f", "lake.py"]) == 0
    capsys.readouterr()
    assert main(["show", "orders", "-f", "lake.py", "--versions"]) == 0
    out = capsys.readouterr().out
    assert "2 stored versions of orders, newest first" in out
    assert "1 (current)" in out
    assert out.count("WRITE") == 2
    assert main(["show", "orders", "-f", "lake.py", "--versions", "--limit", "1"]) == 0
    assert "1 stored version of orders, newest first, of 2" in capsys.readouterr().out
    assert main(["show", "note", "-f", "lake.py", "--versions"]) == 1
    err = capsys.readouterr().err
    assert "'note'" in err
    assert "FilesystemIOManager keeps no earlier versions" in err
    assert main(["show", "memo", "-f", "lake.py", "--versions"]) == 0
    assert "2 stored versions of memo, newest first" in capsys.readouterr().out
    assert main(["show", "orders", "--versions"]) == 2
    assert "pass -f FILE or -m MODULE" in capsys.readouterr().err
