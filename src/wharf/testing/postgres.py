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

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from wharf.testing._process import ChildServer, ServerStartError, Shared, free_port

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


#: the test PostgreSQL server could not be set up or started (the one start error class)
PostgresStartError = ServerStartError


def postgres_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` (or ``$WHARF_PG_BIN``) with ``initdb``.

    Raises:
        PostgresStartError: no server binaries are installed; the message says how to get them.
    """
    env = os.environ.get("WHARF_PG_BIN")
    candidates = [env] if env else glob.glob("/usr/lib/postgresql/*/bin")
    found = [Path(c).absolute() for c in candidates if (Path(c) / "initdb").exists()]
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


@dataclass
class PostgresServer(ChildServer):
    """A running test server (a :class:`~wharf.testing._process.ChildServer`). Use it as a
    context manager, or call :meth:`stop`.

    Attributes:
        port: the loopback TCP port.
        root: the temporary folder (data directory, socket, log); deleted by :meth:`stop`.
        user: the superuser role (``postgres``), which needs no password (``trust``).
        database: the database clients connect to.
    """

    user: str = "postgres"
    database: str = "postgres"
    #: "fast" (roll back open transactions, end every backend), then "immediate"
    stop_signals: ClassVar[tuple[int, ...]] = (signal.SIGINT, signal.SIGQUIT)
    death_signal: ClassVar[int] = signal.SIGQUIT

    @property
    def root(self) -> Path:
        return self.workdir

    @property
    def uri(self) -> str:
        """``postgresql://postgres@127.0.0.1:<port>/postgres``."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def ready(self) -> bool:
        """Whether the postmaster says it is ready (the 8th line of ``postmaster.pid``)."""
        try:
            lines = (self.root / "data" / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

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
        attempts: tries (each with a fresh cluster) when the chosen port was taken meanwhile.

    The server gets the calling *thread* as its parent for the parent-death signal: start it
    from the main thread (or another that lives as long as the server is needed).

    Raises:
        PostgresStartError: with the command and the server log's tail.
    """
    bin_dir = postgres_bin_dir()
    as_user = _as_postgres_user()
    _sweep_stale()
    settings = {**_SETTINGS, **(settings or {})}
    last = ""
    for _ in range(max(1, attempts)):
        root = Path(tempfile.mkdtemp(prefix=_PREFIX))
        port = free_port()
        argv = [str(bin_dir / "postgres"), "-D", str(root / "data"), "-p", str(port)]
        argv += ["-k", str(root)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        server = PostgresServer("PostgreSQL", argv, port, workdir=root, run_as=as_user)
        try:
            _initdb(bin_dir, root, as_user)
            return server.start(timeout)
        except PostgresStartError as exc:
            last = str(exc)
            if "could not bind" not in last and "already in use" not in last:
                raise
        finally:
            if not server.running:
                server.stop()  # deletes the folder
    raise PostgresStartError(last)


def _initdb(bin_dir: Path, root: Path, as_user: dict[str, Any]) -> None:
    os.chmod(root, 0o700)
    if as_user:
        os.chown(root, as_user["user"], as_user["group"])
    initdb = [
        str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--auth=trust",
        "-E", "UTF8", "--no-locale", "--no-sync",
    ]  # fmt: skip
    _run(initdb, root, as_user)


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


_SHARED = Shared(start_postgres)
#: one server for the whole process, started on first use and stopped at exit (or by
#: ``stop_shared_postgres()``): the test session's fixtures and the fidelity table share it
shared_postgres, stop_shared_postgres = _SHARED.get, _SHARED.stop
