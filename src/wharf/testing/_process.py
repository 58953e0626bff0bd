"""A child-process server on a free loopback port, for the warehouse stand-ins (fakesnow,
bqemulator): started, polled until it answers HTTP, stopped by its PID.

The child gets a parent-death signal (Linux ``PR_SET_PDEATHSIG``), so a test process killed
with SIGKILL leaves no server behind. A server that does not answer in time raises
:class:`WarehouseStartError` with the command and the log's tail: tests fail, they never skip.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

__all__ = [
    "LOOPBACK", "ChildServer", "WarehouseStartError", "answers_http", "die_with_parent",
    "free_port",
]  # fmt: skip

LOOPBACK = "127.0.0.1"
#: keeps every HTTP client (requests, urllib3, google-auth) off any configured proxy
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


class WarehouseStartError(RuntimeError):
    """A local warehouse stand-in did not start; the message holds the command and log tail."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM when the process that started it dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def answers_http(url: str, timeout: float = 0.5) -> bool:
    """Whether ``url`` answers at all (any HTTP status), without any proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP status: it is up
    except (OSError, ValueError):
        return False


@dataclass
class ChildServer:
    """A server process on ``127.0.0.1:<port>``.

    Attributes:
        name: for messages (``"fakesnow"``).
        argv: the command line.
        port: the loopback port it listens on.
        log_path: its stdout and stderr.
        ready_path: the URL path polled until the server answers.
        env: extra environment for the child.
        scratch: a folder of the child's own (its ``TMPDIR``), deleted by :meth:`stop`.
    """

    name: str
    argv: list[str]
    port: int
    log_path: Path
    ready_path: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    scratch: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float = 60.0) -> Self:
        """Start the child and wait until it answers HTTP; raise if it exits or times out."""
        env = {**os.environ, **NO_PROXY, **self.env}
        if self.scratch is not None:
            self.scratch.mkdir(parents=True, exist_ok=True)
            env["TMPDIR"] = str(self.scratch)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                self.process = subprocess.Popen(  # our own argv, no shell
                    self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=env, preexec_fn=die_with_parent,  # noqa: PLW1509 - no threads involved
                )  # fmt: skip
            except OSError as exc:
                msg = f"could not start {self.name} ({' '.join(self.argv)}): {exc}"
                raise WarehouseStartError(msg) from exc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if answers_http(self.url + self.ready_path):
                return self
            time.sleep(0.05)
        code = self.process.poll()
        self.stop()
        state = f"exited with code {code}" if code is not None else f"no answer in {timeout:g} s"
        msg = (
            f"{self.name} did not start on {self.url} ({state}); command: {' '.join(self.argv)}"
            f"\n--- {self.log_path} ---\n{self.log_tail()}"
        )
        raise WarehouseStartError(msg)

    def stop(self) -> None:
        """End the child by its PID (SIGTERM, then SIGKILL after 10 s); delete its scratch."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
