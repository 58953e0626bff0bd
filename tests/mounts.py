"""Run a Python script behind a real mount (a tiny tmpfs, a read-only bind mount) in a user
and mount namespace of its own (``unshare -rm``): it works as root and as a user, and the
mount vanishes with the process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_behind_mount(mount: str, script: str, args: list[str], tmp_path: Path) -> Any:
    """Run ``mount`` (a shell ``mount ...`` command), then ``script`` with ``args``; return
    the JSON the script printed last."""
    path = tmp_path / "behind_mount.py"
    path.write_text(script)
    unshare = shutil.which("unshare")
    assert unshare is not None, "util-linux's unshare is needed for tests behind a mount"
    command = f"{mount} && {sys.executable} {path} " + " ".join(args)
    done = subprocess.run(
        [unshare, "-rm", "sh", "-c", command], capture_output=True, text=True, timeout=120,
        env={**os.environ, "WHARF_HOME": str(tmp_path / "home")}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])
