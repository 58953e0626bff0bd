"""A throw-away PostgreSQL server for tests: Debian's binaries on a free loopback port.

:func:`start_postgres` runs ``initdb`` into a fresh temporary folder, then starts ``postgres``
itself (no ``pg_ctl``) as a child process listening on ``127.0.0.1:<free port>`` with its socket
in that folder (``-k``), durability switched off (``fsync``, ``synchronous_commit``,
``full_page_writes``: the data is thrown away anyway). :meth:`PostgresServer.stop` ends the
postmaster by its PID (a fast shutdown, which also ends its backends) and deletes the folder.

Run as root, ``initdb`` refuses to work, so both commands run as the ``postgres`` system user
(the Debian package creates it) and the folder is handed to that user. The server also gets a
parent-death signal, so even a test process killed with SIGKILL leaves no server behind.

Anything that goes wrong raises :class:`PostgresStartError` with the command and the log's tail:
a test that needs the server fails loudly, it never skips.

Examples:
    >>> with start_postgres() as pg:  # doctest: +SKIP
    ...     pg.uri
    'postgresql://postgres@127.0.0.1:54329/postgres'
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

__all__ = [
    "PostgresServer",
    "PostgresStartError",
    "postgres_bin_dir",
    "shared_postgres",
    "start_postgres",
    "stop_shared_postgres",
]

_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_size": "2GB",
    "log_min_messages": "warning",
}


_PREFIX = "wharf-pg-"
_STALE_AFTER_S = 600.0


class PostgresStartError(RuntimeError):
    """The test PostgreSQL server could not be set up or started."""


def postgres_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` (or ``$WHARF_PG_BIN``) with ``initdb``.

    Raises:
        PostgresStartError: no server binaries are installed; the message says how to get them.
    """
    env = os.environ.get("WHARF_PG_BIN")
    candidates = [env] if env else glob.glob("/usr/lib/postgresql/*/bin")
    found = [Path(c) for c in candidates if (Path(c) / "initdb").exists()]
    if not found:
        msg = (
            "no PostgreSQL server binaries (initdb) found under /usr/lib/postgresql/*/bin: "
            "run `make test` (it installs them) or `apt-get install -y postgresql`, "
            "or point WHARF_PG_BIN at a bin folder"
        )
        raise PostgresStartError(msg)
    return max(found, key=lambda p: _version_key(p.parent.name))


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGQUIT (immediate shutdown) the server when the test process dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGQUIT)  # PR_SET_PDEATHSIG


@dataclass
class PostgresServer:
    """A running test server. Use it as a context manager, or call :meth:`stop`.

    Attributes:
        port: the loopback TCP port.
        root: the temporary folder (data directory, socket, log); deleted by :meth:`stop`.
        user: the superuser role (``postgres``), which needs no password (``trust``).
        database: the database clients connect to.
    """

    port: int
    root: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    user: str = "postgres"
    database: str = "postgres"
    host: str = "127.0.0.1"

    @property
    def uri(self) -> str:
        """``postgresql://postgres@127.0.0.1:<port>/postgres``."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def connect(self, **kwargs: Any) -> Any:
        """A psycopg connection to the server (autocommit unless told otherwise)."""
        import psycopg

        kwargs.setdefault("autocommit", True)
        return psycopg.connect(self.uri, **kwargs)

    def create_database(self, name: str) -> str:
        """Create a database (a clean slate for one test) and return its URI."""
        with self.connect() as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{self.user}@{self.host}:{self.port}/{name}"

    def stop(self, *, remove: bool = True) -> None:
        """Fast shutdown of the postmaster (and so of every backend), by its PID."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # "fast": roll back open transactions, then exit
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGQUIT)  # "immediate"
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _as_postgres_user() -> dict[str, Any]:
    """``subprocess`` arguments that run a command as the ``postgres`` user when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError as exc:
        msg = "running as root, but there is no 'postgres' user to run initdb as"
        raise PostgresStartError(msg) from exc
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _run(argv: list[str], cwd: Path, as_user: dict[str, Any]) -> None:
    try:
        done = subprocess.run(  # our own argv, no shell
            argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=120, **as_user
        )
    except (OSError, subprocess.SubprocessError) as exc:
        msg = f"could not run {' '.join(argv)}: {exc}"
        raise PostgresStartError(msg) from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        msg = f"{' '.join(argv)} failed with exit code {done.returncode}:\n{tail}"
        raise PostgresStartError(msg)


def start_postgres(
    *, timeout: float = 60.0, settings: dict[str, str] | None = None, attempts: int = 3
) -> PostgresServer:
    """initdb a fresh cluster in a temporary folder and start it on a free loopback port.

    Args:
        timeout: seconds to wait for the server to accept connections.
        settings: extra ``-c name=value`` server settings (e.g. ``{"TimeZone": "Asia/Tokyo"}``).
        attempts: tries with a new port when the chosen one was taken meanwhile.

    The server gets the calling *thread* as its parent for the parent-death signal: start it
    from the main thread (or another that lives as long as the server is needed).

    Raises:
        PostgresStartError: with the command and the server log's tail.
    """
    bin_dir = postgres_bin_dir()
    as_user = _as_postgres_user()
    _sweep_stale()
    root = Path(tempfile.mkdtemp(prefix=_PREFIX))
    try:
        os.chmod(root, 0o700)
        if as_user:
            os.chown(root, as_user["user"], as_user["group"])
        initdb = [
            str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        ]  # fmt: skip
        _run(initdb, root, as_user)
        last = ""
        for _ in range(max(1, attempts)):
            server = PostgresServer(_free_port(), root)
            try:
                return _launch(server, bin_dir, as_user, {**_SETTINGS, **(settings or {})}, timeout)
            except PostgresStartError as exc:
                last = str(exc)
                if "could not bind" not in last and "already in use" not in last:
                    raise
        raise PostgresStartError(last)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _launch(
    server: PostgresServer,
    bin_dir: Path,
    as_user: dict[str, Any],
    settings: dict[str, str],
    timeout: float,
) -> PostgresServer:
    root = server.root
    argv = [str(bin_dir / "postgres"), "-D", str(root / "data"), "-p", str(server.port)]
    argv += ["-k", str(root)]
    for name, value in settings.items():
        argv += ["-c", f"{name}={value}"]
    with server.log_path.open("ab") as log:
        if as_user:
            os.chown(server.log_path, as_user["user"], as_user["group"])
        try:
            server.process = subprocess.Popen(  # our own argv, no shell
                argv, cwd=root, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent, **as_user,  # noqa: PLW1509 - no threads involved
            )  # fmt: skip
        except OSError as exc:
            msg = f"could not start {' '.join(argv)}: {exc}"
            raise PostgresStartError(msg) from exc
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            break
        if _ready(server):
            return server
        time.sleep(0.02)
    server.stop(remove=False)
    msg = (
        f"PostgreSQL did not accept connections on 127.0.0.1:{server.port} within "
        f"{timeout:.0f}s (command: {' '.join(argv)}); log {server.log_path}:\n{server.log_tail()}"
    )
    raise PostgresStartError(msg)


def _sweep_stale() -> None:
    """Delete the folders of servers whose test process was killed (the server itself died
    with it): older than 10 minutes, and no live postmaster."""
    for folder in Path(tempfile.gettempdir()).glob(_PREFIX + "*"):
        try:
            if time.time() - folder.stat().st_mtime < _STALE_AFTER_S:
                continue
            pid_file = folder / "data" / "postmaster.pid"
            if pid_file.exists():
                pid = int(pid_file.read_text().split()[0])
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 0)  # alive: leave it alone
                    continue
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, ValueError, IndexError):
            continue


def _ready(server: PostgresServer) -> bool:
    """Whether the postmaster says it is ready (the 8th line of ``postmaster.pid``)."""
    try:
        lines = (server.root / "data" / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return len(lines) >= 8 and lines[7].strip() == "ready"


_SHARED: list[PostgresServer] = []


def shared_postgres() -> PostgresServer:
    """One server for the whole process, started on first use and stopped at exit (or by
    :func:`stop_shared_postgres`): the test session's fixture and the fidelity table share it.
    """
    if _SHARED and _SHARED[0].process is not None and _SHARED[0].process.poll() is None:
        return _SHARED[0]
    stop_shared_postgres()
    server = start_postgres()
    _SHARED.append(server)
    atexit.register(stop_shared_postgres)
    return server


def stop_shared_postgres() -> None:
    """Stop the server :func:`shared_postgres` started, if any."""
    while _SHARED:
        _SHARED.pop().stop()
