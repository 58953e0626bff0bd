"""A throw-away MariaDB server for tests: Debian's ``mariadb-server`` on a free loopback port.

:func:`start_mariadb` runs ``mariadb-install-db`` into a fresh temporary folder, then starts
``mariadbd`` itself as a child process (no system service) listening on ``127.0.0.1:<free
port>`` with its socket in that folder, grant tables off (any user connects, no password: the
data is thrown away) and durability off. :meth:`MariaDBServer.stop` ends it by its PID and
deletes the folder; it also dies with the test process (parent-death signal).

A server that cannot start raises :class:`~wharf.testing._process.ServerStartError` with the
command and the log's tail: a test that needs it fails loudly, it never skips.
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wharf.testing._process import ChildServer, ServerStartError, Shared, free_port

__all__ = ["MariaDBServer", "shared_mariadb", "start_mariadb", "stop_shared_mariadb"]

_SETTINGS = [
    "--skip-grant-tables", "--skip-name-resolve", "--skip-log-bin",
    "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=64M",
    "--innodb-doublewrite=0", "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_bin", "--max-allowed-packet=64M",
]  # fmt: skip


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        msg = (
            f"no {name} found: run `make test` (it installs Debian's mariadb-server) or "
            "`apt-get install -y mariadb-server`"
        )
        raise ServerStartError(msg)
    return found


@dataclass
class MariaDBServer(ChildServer):
    """A running test server (a :class:`~wharf.testing._process.ChildServer`).

    Attributes:
        user: the user to connect as (``root``; grant tables are off, so any user works).
    """

    user: str = "root"

    def ready(self) -> bool:
        """Whether the server answers a ping."""
        import pymysql

        try:
            pymysql.connect(
                host=self.host, port=self.port, user=self.user, connect_timeout=1
            ).close()
        except pymysql.Error:
            return False
        return True

    def connect(self, **kwargs: Any) -> Any:
        """A pymysql connection to the server (autocommit)."""
        import pymysql

        return pymysql.connect(
            host=self.host, port=self.port, user=self.user, autocommit=True, **kwargs
        )

    def config(self, database: str) -> dict[str, Any]:
        """``MySQLIOManager`` fields for this server, in the database (schema) ``database``."""
        return {"host": self.host, "port": self.port, "user": self.user, "database": database}


def start_mariadb(*, timeout: float = 60.0) -> MariaDBServer:
    """Install a fresh data folder in a temporary folder and start ``mariadbd`` on it."""
    user = getpass.getuser()
    root = Path(tempfile.mkdtemp(prefix="wharf-mariadb-"))
    install = [
        _binary("mariadb-install-db"), "--no-defaults", f"--datadir={root / 'data'}",
        f"--user={user}", "--skip-test-db", "--auth-root-authentication-method=normal",
    ]  # fmt: skip
    done = subprocess.run(install, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        msg = f"{' '.join(install)} failed with exit code {done.returncode}:\n{tail}"
        raise ServerStartError(msg)
    port = free_port()
    argv = [
        _binary("mariadbd"), "--no-defaults", f"--datadir={root / 'data'}", f"--user={user}",
        f"--port={port}", "--bind-address=127.0.0.1", f"--socket={root / 'mariadb.sock'}",
        f"--pid-file={root / 'mariadb.pid'}", f"--tmpdir={root}", *_SETTINGS,
    ]  # fmt: skip
    return MariaDBServer("MariaDB", argv, port, workdir=root).start(timeout)


_SHARED = Shared(start_mariadb)
#: one server for the whole process, started on first use and stopped at exit (or by
#: ``stop_shared_mariadb()``): the conformance suite and the fidelity table share it
shared_mariadb, stop_shared_mariadb = _SHARED.get, _SHARED.stop
