"""Fixtures for every test and doctest (``src/`` doctests and ``*.md`` files included).

Each one runs in its own empty folder with its own ``WHARF_HOME``, so no test or doctest reads
another's stored values or writes into the repository's ``.wharf/history.sqlite``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def wharf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``$WHARF_HOME`` under the test's temporary folder, which is also the cwd."""
    home = tmp_path / "wharf_home"
    monkeypatch.setenv("WHARF_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home
