"""The make targets around the web UI, read with ``make -n`` (which prints the commands of a
target and runs none of them): ``make demo`` ends by telling the ``wharf dev`` command to try
next, ``make dev`` runs it, ``make screenshots`` regenerates the README's pictures."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dry_run(target: str) -> list[str]:
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is missing: apt-get install -y make")
    done = subprocess.run(
        [make, "-n", "--no-print-directory", "-C", str(ROOT), target],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_make_demo_ends_with_the_wharf_dev_command_to_try_next() -> None:
    last = dry_run("demo")[-1]
    assert "next: make dev" in last
    assert "wharf dev -f examples/sales_pipeline.py" in last


def test_make_dev_serves_the_example_and_make_screenshots_writes_the_readme_pictures() -> None:
    assert any("wharf dev -f sales_pipeline.py" in line for line in dry_run("dev"))
    assert any("-m tests.ui.screenshots docs/pictures" in line for line in dry_run("screenshots"))
    readme = (ROOT / "README.md").read_text()
    for picture in ("docs/pictures/ui-graph.png", "docs/pictures/ui-asset.png"):
        assert f"]({picture})" in readme
        assert (ROOT / picture).stat().st_size > 10_000
