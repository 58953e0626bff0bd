"""One class for the local test servers: a child process on a free loopback port, started,
polled until ready, paused, killed, restarted and stopped by its PID.

:class:`ChildServer` runs the object-store stand-ins (:mod:`wharf.testing.servers`), PostgreSQL
(:mod:`wharf.testing.postgres`), fakesnow and bqemulator. The child runs in a folder of its own
(``workdir``: its working directory and ``TMPDIR``, and its log unless ``log_dir`` names
another place), deleted by :meth:`ChildServer.stop`. It gets a parent-death signal (Linux
``PR_SET_PDEATHSIG``), so a test process killed with SIGKILL leaves no server behind. A server
that does not start in time raises :class:`ServerStartError` with the command and the log's
tail: tests fail, they never skip.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar

__all__ = [
    "LOOPBACK", "ChildServer", "ServerStartError", "Shared", "WarehouseStartError",
    "answers_http", "die_with_parent", "free_port",
]  # fmt: skip

LOOPBACK = "127.0.0.1"
#: keeps every HTTP client (requests, urllib3, google-auth) off any configured proxy
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


class ServerStartError(RuntimeError):
    """A local test server did not start; the message holds the command and the log's tail."""


#: the warehouse stand-ins' name for it (one class: ``except`` either catches both)
WarehouseStartError = ServerStartError


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def die_with_parent(signum: int = signal.SIGTERM) -> None:  # pragma: no cover - in the child
    """Linux: the child gets ``signum`` when the thread that started it dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signum)  # PR_SET_PDEATHSIG


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


def _new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="wharf-server-"))


@dataclass
class ChildServer:
    """A server process on ``127.0.0.1:<port>``. Use it as a context manager, or call :meth:`stop`.

    Attributes:
        name: for messages and the log's name (``"fakesnow"``, ``"s3"``).
        argv: the command line (kept, so :meth:`restart` runs it again on the same port).
        port: the loopback port it listens on.
        workdir: the child's own folder (working directory and ``TMPDIR``); :meth:`stop`
            deletes it, and the log in it unless ``log_dir`` is given.
        log_dir: a folder to keep the log in instead (``<name>-<workdir name>.log``).
        ready_path: the URL path polled until the server answers (see :meth:`ready`).
        extra_env: extra environment for the child.
        run_as: extra ``subprocess.Popen`` arguments, e.g. ``user`` and ``group``.
    """

    name: str
    argv: list[str]
    port: int
    workdir: Path = field(default_factory=_new_workdir)
    log_dir: Path | str | None = None
    ready_path: str = "/"
    extra_env: dict[str, str] = field(default_factory=dict)
    run_as: dict[str, Any] = field(default_factory=dict, repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    host: ClassVar[str] = LOOPBACK
    #: sent in turn by :meth:`stop`, each given 10 s before the next (SIGKILL comes last)
    stop_signals: ClassVar[tuple[int, ...]] = (signal.SIGTERM,)
    #: what the child gets when its parent dies
    death_signal: ClassVar[int] = signal.SIGTERM

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def log_path(self) -> Path:
        """The child's stdout and stderr."""
        if self.log_dir is None:
            return self.workdir / "server.log"
        return Path(self.log_dir) / f"{self.name}-{self.workdir.name}.log"

    def ready(self) -> bool:
        """Whether the server is ready: by default, whether ``ready_path`` answers HTTP."""
        return answers_http(self.url + self.ready_path)

    def start(self, timeout: float = 60.0) -> Self:
        """Start the child and wait until it is :meth:`ready`; raise :class:`ServerStartError`
        (and :meth:`stop`) if it cannot start, exits or is not ready in ``timeout`` seconds."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **NO_PROXY, "TMPDIR": str(self.workdir), **self.extra_env}
        command = " ".join(self.argv)
        try:
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(  # our own argv, no shell
                    self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=env, cwd=self.workdir, start_new_session=True, **self.run_as,
                    # only prctl() runs between fork and exec; servers start from one thread
                    preexec_fn=functools.partial(die_with_parent, self.death_signal),  # noqa: PLW1509
                )  # fmt: skip
        except OSError as exc:
            self.stop()
            msg = f"could not start {self.name} ({command}): {exc}"
            raise ServerStartError(msg) from exc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if self.ready():
                return self
            time.sleep(0.05)
        code, tail = self.process.poll(), self.log_tail()
        self.stop()
        state = f"exited with code {code}" if code is not None else f"not ready in {timeout:g} s"
        msg = f"{self.name} did not start on {self.url} ({state}); command: {command}"
        raise ServerStartError(f"{msg}\n--- the end of its log ---\n{tail}")

    def stop(self) -> None:
        """End the child by its PID (:attr:`stop_signals`, then SIGKILL); delete ``workdir``."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGCONT)  # a paused process cannot handle the others
            for signum in (*self.stop_signals, signal.SIGKILL):
                proc.send_signal(signum)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
                    break
        shutil.rmtree(self.workdir, ignore_errors=True)

    close = stop  # the object-store servers' older name

    def kill(self) -> None:
        """SIGKILL the child, as a crash would (``workdir`` stays for :meth:`start`)."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP: the server accepts connections but never answers, like a hung host."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def restart(self, timeout: float = 60.0) -> Self:
        """Start the same command again, on the same port."""
        self.stop()
        return self.start(timeout)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


S = TypeVar("S", bound=ChildServer)


class Shared(Generic[S]):
    """One server for the whole process: started on first use, stopped at exit or by
    :meth:`stop` (the test session's fixtures and the fidelity table share it)."""

    def __init__(self, start: Callable[[], S]) -> None:
        self._start = start
        self._server: S | None = None
        atexit.register(self.stop)

    def get(self) -> S:
        if self._server is None or not self._server.running:
            self.stop()
            self._server = self._start()
        return self._server

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
