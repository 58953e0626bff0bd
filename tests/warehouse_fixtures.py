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

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.network_guard import guarded_env
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


@pytest.fixture(scope="session")
def warehouse_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Fake-credential environment, link-local connections refused; yields a log folder."""
    with guarded_env(
        WAREHOUSE_ENV, ("GOOGLE_APPLICATION_CREDENTIALS", "BIGQUERY_EMULATOR_HOST"), BLOCKED
    ):
        yield tmp_path_factory.mktemp("warehouse-logs")


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
