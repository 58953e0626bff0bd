"""The code location of ``wharf dev``: ``-m MODULE`` is loaded again when its file changes, as
``-f FILE`` is (tests/ui/test_api.py), and a broken edit keeps the last good definitions."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from wharf.ui.workspace import Location, Workspace

FIRST = """
import wharf as dg

@dg.asset
def first() -> int:
    return 1

defs = dg.Definitions(assets=[first])
"""


@pytest.fixture
def module(tmp_path: Path) -> Iterator[Path]:
    """``ui_reload_pipeline.py`` importable as a module, removed from sys.modules after."""
    path = tmp_path / "ui_reload_pipeline.py"
    path.write_text(FIRST)
    sys.path.insert(0, str(tmp_path))
    try:
        yield path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("ui_reload_pipeline", None)


def keys(workspace: Workspace) -> list[str]:
    return sorted(k.to_user_string() for k in workspace.defs().asset_graph.by_key)


def test_a_module_location_reloads_when_its_file_changes(module: Path, tmp_path: Path) -> None:
    workspace = Workspace(Location(module="ui_reload_pipeline"), tmp_path / "home")
    assert keys(workspace) == ["first"]
    generation = workspace.generation
    module.write_text(
        FIRST.replace("defs =", "@dg.asset\ndef second(first: int) -> int:\n    return 2\n\ndefs =")
        .replace("[first]", "[first, second]")
    )  # fmt: skip
    os.utime(module, (1e9, 1e9))  # a new mtime even within the same second
    assert keys(workspace) == ["first", "second"]
    assert workspace.generation == generation + 1
    module.write_text(FIRST + "\ndef broken(:\n")
    os.utime(module, (2e9, 2e9))
    assert keys(workspace) == ["first", "second"]  # the last good definitions stay
    assert "SyntaxError" in (workspace.load_error or "")
