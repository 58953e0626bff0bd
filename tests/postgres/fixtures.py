"""Session fixture: one throw-away PostgreSQL server (Debian's binaries) on a loopback port.

Imported by ``tests/postgres/conftest.py`` and by the modules that run the postgres store row
(conformance, fidelity). Every importer gets the same server process: it starts on first use
(:func:`wharf.testing.postgres.shared_postgres`) and is stopped, by its PID, when the last
user's session fixture ends (:func:`tests.warehouse_fixtures.shared_server`). A server that
cannot start fails the tests with its log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from tests.warehouse_fixtures import shared_server
from wharf.testing.postgres import PostgresServer, shared_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from shared_server("postgres", shared_postgres)


def schema_for(node_id: str) -> str:
    """A schema name unique to one test (at most 63 bytes): tests never see each other's tables."""
    return "t_" + hashlib.sha1(node_id.encode()).hexdigest()[:20]


@pytest.fixture
def pg_schema(request: pytest.FixtureRequest) -> str:
    return schema_for(request.node.nodeid)
