"""The live display on a terminal, and the installed ``wharf`` script as a real process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from tests.cli.conftest import FAILING, SECRET
from wharf._core.execution import StepOutcome
from wharf._core.keys import AssetKey
from wharf.cli.progress import LiveProgress

Write = Callable[[str, str], Path]
WHARF = Path(sys.executable).parent / "wharf"


def test_live_progress_shows_each_state() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100, color_system=None)
    a, b, c = AssetKey("a"), AssetKey("b"), AssetKey("c")
    with LiveProgress([a, b, c], console=console) as progress:
        progress.on_start(a)
        progress.on_finish(StepOutcome(a, "success", duration_s=0.5))
        progress.on_start(b)
        progress.on_finish(StepOutcome(b, "failed", error=ValueError("bad [b]value[/b]")))
        progress.on_start(c)
        progress.on_finish(StepOutcome(c, "skipped", reason="upstream '[b]b[/b]' failed"))
    out = buf.getvalue()
    assert "done 500ms" in out
    assert "failed 0ms" in out
    assert "bad" not in out  # a failure's error is printed once, after the run
    assert "upstream '[b]b[/b]' failed" in out  # user text is not rich markup


def _wharf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "WHARF_TEST_TOKEN"}
    return subprocess.run(
        [str(WHARF), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_script_exit_codes_and_output(write: Write, tmp_path: Path) -> None:
    write("failing.py", FAILING)
    write("secret.py", SECRET)
    failed = _wharf("materialize", "-f", "failing.py", cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr
    assert "failed   broken" in failed.stdout
    assert "skipped  report" in failed.stdout
    assert "2 done, 1 failed, 1 skipped" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr

    missing_env = _wharf("materialize", "-f", "secret.py", cwd=tmp_path)
    assert missing_env.returncode == 2
    assert "WHARF_TEST_TOKEN" in missing_env.stderr
    assert "Traceback" not in missing_env.stderr

    usage = _wharf("materialize", "-f", "nowhere.py", cwd=tmp_path)
    assert usage.returncode == 2
    assert "does not exist" in usage.stderr

    shown = _wharf("show", "total", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "status:      success" in shown.stdout
