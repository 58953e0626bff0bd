"""Session fixtures for the warehouse stand-ins: fakesnow (Snowflake) and bqemulator (BigQuery).

Imported by ``tests/snowflake/conftest.py``, ``tests/bigquery/conftest.py``,
``tests/test_conformance.py`` and ``tests/test_docs.py``. Every place gets the same server
process (``shared_fakesnow()`` / ``shared_bqemulator()``, which the fidelity table uses too): a
server starts on first use, is shared by reference count, and is stopped by its PID when the
last user's session fixture ends. A server that cannot start fails its tests with the server's
log; nothing skips.

``warehouse_env`` sets fake credentials and points google-auth's metadata probe at a closed
loopback port, and refuses (and records) any connection to a link-local address such as the
cloud metadata endpoint 169.254.169.254; the session fails if one was attempted.
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wharf.testing.bigquery import BigQueryEmulator, shared_bqemulator, stop_shared_bqemulator
from wharf.testing.snowflake import FakeSnowflake, shared_fakesnow, stop_shared_fakesnow

WAREHOUSE_ENV = {
    "NO_GCE_CHECK": "True",  # google-auth: do not probe the GCE metadata server
    "GCE_METADATA_HOST": "127.0.0.1:9",  # ... and if it does, a closed loopback port
    "GCE_METADATA_IP": "127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
BLOCKED: list[str] = []
_USERS: dict[str, int] = {}  # server -> session fixtures using it


def _link_local(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) and address else None
    try:
        return isinstance(host, str) and ipaddress.ip_address(host).is_link_local
    except ValueError:
        return False


@pytest.fixture(scope="session")
def warehouse_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Fake-credential environment, link-local connections refused; yields a log folder."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded(real: Callable[..., Any]) -> Callable[..., Any]:
        def connect(self: socket.socket, address: Any) -> Any:
            if _link_local(address):
                BLOCKED.append(str(address))
                msg = f"test tried to reach a cloud metadata address {address}"
                raise ConnectionRefusedError(msg)
            return real(self, address)

        return connect

    with pytest.MonkeyPatch.context() as mp:
        for name, value in WAREHOUSE_ENV.items():
            mp.setenv(name, value)
        for name in ("GOOGLE_APPLICATION_CREDENTIALS", "BIGQUERY_EMULATOR_HOST"):
            mp.delenv(name, raising=False)
        mp.setattr(socket.socket, "connect", guarded(real_connect))
        mp.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
        yield tmp_path_factory.mktemp("warehouse-logs")
    assert BLOCKED == [], f"clients tried to reach cloud metadata endpoints: {BLOCKED}"


def _shared(name: str, get: Callable[[], Any], stop: Callable[[], None]) -> Iterator[Any]:
    server = get()
    _USERS[name] = _USERS.get(name, 0) + 1
    try:
        yield server
    finally:
        _USERS[name] -= 1
        if _USERS[name] == 0:
            stop()


@pytest.fixture(scope="session")
def fakesnow_server(warehouse_env: Path) -> Iterator[FakeSnowflake]:
    """fakesnow's server (in memory) on a free loopback port, for the whole session."""
    yield from _shared("fakesnow", shared_fakesnow, stop_shared_fakesnow)


@pytest.fixture(scope="session")
def bigquery_server(warehouse_env: Path) -> Iterator[BigQueryEmulator]:
    """bqemulator (in memory, from .venv-bq) on free loopback ports, for the whole session."""
    yield from _shared("bqemulator", shared_bqemulator, stop_shared_bqemulator)


def unique_name(prefix: str, seed: str | None = None) -> str:
    """A database or dataset name no other test uses (stable for one ``seed``)."""
    tail = uuid.uuid5(uuid.NAMESPACE_URL, seed).hex if seed else uuid.uuid4().hex
    return f"{prefix}_{tail[:16]}"
