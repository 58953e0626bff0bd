"""Shared fixtures: every test gets its own WHARF_HOME, so runs never share stored values."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def wharf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "wharf_home"
    monkeypatch.setenv("WHARF_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home
