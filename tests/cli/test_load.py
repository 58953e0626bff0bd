"""Finding the Definitions: ``-f FILE``, ``-m MODULE``, ``-a NAME`` and their errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import PIPELINE
from wharf.cli.main import main

Write = Callable[[str, str], Path]

SIBLING = """
import wharf as dg
from helpers import BASE

@dg.asset
def value() -> int:
    return BASE + 1

defs = dg.Definitions(assets=[value])
"""


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["materialize", "-f", "nowhere.py"]) == 2
    err = capsys.readouterr().err
    assert "file 'nowhere.py' does not exist" in err
    assert "Traceback" not in err


def test_file_sibling_imports_work(
    write: Write, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write("project/helpers.py", "BASE = 41\n")
    write("project/pipeline.py", SIBLING)
    assert main(["materialize", "-f", str(tmp_path / "project" / "pipeline.py")]) == 0
    assert "1 done" in capsys.readouterr().out


def test_module_is_imported_from_cwd(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("helpers.py", "BASE = 1\n")
    write("my_pipeline.py", SIBLING)
    assert main(["materialize", "-m", "my_pipeline"]) == 0
    assert "1 done" in capsys.readouterr().out


def test_unknown_module_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "-m", "no_such_pipeline"]) == 2
    assert "no module named 'no_such_pipeline'" in capsys.readouterr().err


def test_module_without_definitions_exits_2(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("no_defs.py", "import wharf as dg\nvalue = 3\n")
    assert main(["materialize", "-m", "no_defs"]) == 2
    err = capsys.readouterr().err
    assert "no Definitions found in 'no_defs'" in err
    assert "Traceback" not in err


def test_several_definitions_need_attribute(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("two.py", PIPELINE + "\nother = dg.Definitions(assets=[numbers])\nalias = other\n")
    assert main(["list", "-f", "two.py"]) == 2
    assert "several Definitions [alias, defs, other]" in capsys.readouterr().err
    assert main(["materialize", "-f", "two.py", "-a", "other"]) == 0
    assert "1 done" in capsys.readouterr().out
    assert main(["list", "-f", "two.py", "--attribute", "missing"]) == 2
    assert "has no attribute 'missing'" in capsys.readouterr().err
    assert main(["list", "-f", "two.py", "-a", "numbers"]) == 2
    assert "not wharf.Definitions" in capsys.readouterr().err


def test_import_error_shows_user_traceback(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("broken.py", "import wharf as dg\n\nvalue = 1 / 0\n")
    assert main(["list", "-f", "broken.py"]) == 2
    err = capsys.readouterr().err
    assert "importing" in err
    assert "value = 1 / 0" in err
    assert "ZeroDivisionError" in err
    assert "importlib" not in err
