"""Session fixtures for the warehouse stand-ins: fakesnow (Snowflake) and bqemulator (BigQuery).

Imported by ``tests/snowflake/conftest.py``, ``tests/bigquery/conftest.py``,
``tests/warehouses/conftest.py``, ``tests/test_conformance.py`` and ``tests/test_docs.py``. Every
place gets the same server process (``shared_fakesnow()`` / ``shared_bqemulator()``, which the
fidelity table uses too): :func:`shared_server`, which the object-store and PostgreSQL fixtures
use as well, starts a server on first use, shares it by reference count, and stops it by its
PID when the last user's session fixture ends. A server that cannot start fails its tests with
the server's log; nothing skips.

``warehouse_env`` sets fake credentials and points google-auth's metadata probe at a closed
loopback port, and refuses (and records) any connection to a link-local address such as the
cloud metadata endpoint 169.254.169.254; the session fails if one was attempted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import wharf as dg
from tests.network_guard import guarded_env
from wharf.testing._process import ChildServer
from wharf.testing.bigquery import BigQueryEmulator, shared_bqemulator
from wharf.testing.snowflake import FakeSnowflake, shared_fakesnow

WAREHOUSE_ENV = {
    "NO_GCE_CHECK": "True",  # google-auth: do not probe the GCE metadata server
    "GCE_METADATA_HOST": "127.0.0.1:9",  # ... and if it does, a closed loopback port
    "GCE_METADATA_IP": "127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
BLOCKED: list[str] = []
_RUNNING: dict[str, list[Any]] = {}  # name -> [server, session fixtures using it]
S = TypeVar("S", bound=ChildServer)


@pytest.fixture(scope="session")
def warehouse_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Fake-credential environment, link-local connections refused; yields a log folder."""
    with guarded_env(
        WAREHOUSE_ENV, ("GOOGLE_APPLICATION_CREDENTIALS", "BIGQUERY_EMULATOR_HOST"), BLOCKED
    ):
        yield tmp_path_factory.mktemp("warehouse-logs")


def shared_server(name: str, start: Callable[[], S]) -> Iterator[S]:
    """A session fixture's body: the server ``name``, started on first use (or when it died),
    stopped when the last session fixture using it ends."""
    entry = _RUNNING.setdefault(name, [None, 0])
    if entry[0] is None or not entry[0].running:
        entry[0] = start()
    entry[1] += 1
    try:
        yield entry[0]
    finally:
        entry[1] -= 1
        if entry[1] == 0:
            del _RUNNING[name]
            entry[0].stop()


@pytest.fixture(scope="session")
def fakesnow_server(warehouse_env: Path) -> Iterator[FakeSnowflake]:
    """fakesnow's server (in memory) on a free loopback port, for the whole session."""
    yield from shared_server("fakesnow", shared_fakesnow)


@pytest.fixture(scope="session")
def bigquery_server(warehouse_env: Path) -> Iterator[BigQueryEmulator]:
    """bqemulator (in memory, from .venv-bq) on free loopback ports, for the whole session."""
    yield from shared_server("bqemulator", shared_bqemulator)


def unique_name(prefix: str, seed: str | None = None) -> str:
    """A database or dataset name no other test uses (stable for one ``seed``)."""
    tail = uuid.uuid5(uuid.NAMESPACE_URL, seed).hex if seed else uuid.uuid4().hex
    return f"{prefix}_{tail[:16]}"


def store_and_load(io: Any, value: Any, annotation: Any, name: str = "t") -> Any:
    """Materialize an asset ``name`` returning ``value`` and one loading it as ``annotation``
    through ``io``; return (the loaded value, the run's result)."""
    seen: list[Any] = []

    def produce():  # type: ignore[no-untyped-def]
        return value

    def consume(t):  # type: ignore[no-untyped-def]
        seen.append(t)

    consume.__annotations__ = {"t": annotation, "return": None}
    ins = {"t": dg.AssetIn(key=name)}
    assets = [dg.asset(name=name)(produce), dg.asset(name="consume", ins=ins)(consume)]
    result = dg.materialize(assets, resources={"io_manager": io})
    assert result.success
    return seen[0], result
