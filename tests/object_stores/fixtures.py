"""Session fixtures: moto (S3), fake-gcs-server (GCS) and Azurite (Azure) on loopback ports.

Imported by ``tests/object_stores/conftest.py`` and by ``tests/test_conformance.py``. Both
places get the same server process: a server starts on first use, is shared by reference
count, and is stopped (by its PID) when the last user's session fixture ends
(:func:`tests.warehouse_fixtures.shared_server`). A server that
cannot start makes its tests fail with the server's log, never skip.

Every fixture runs with fake credentials and the cloud metadata endpoints blocked: any attempt
to connect to 169.254.169.254 (or another link-local address) raises and is recorded, and the
session fails if one happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.network_guard import guarded_env
from tests.warehouse_fixtures import WAREHOUSE_ENV, shared_server
from wharf.testing.servers import (
    FAKE_AWS_ENV,
    LocalServer,
    start_azurite,
    start_fake_gcs,
    start_moto,
)

BUCKET = "wharf"
CLOUD_ENV = {
    **FAKE_AWS_ENV,
    "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",  # read when gcsfs is imported
    **WAREHOUSE_ENV,  # no GCE metadata probe, no proxy
}
#: connection attempts to link-local addresses (cloud metadata services) seen this session
BLOCKED: list[str] = []


@pytest.fixture(scope="session")
def cloud_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Fake credentials in the environment; link-local connections refused and recorded."""
    with guarded_env(
        CLOUD_ENV, ("AWS_PROFILE", "AWS_ENDPOINT_URL", "GOOGLE_APPLICATION_CREDENTIALS"), BLOCKED
    ):
        yield tmp_path_factory.mktemp("server-logs")


def _with_bucket(start: Callable[[Path], LocalServer], logs: Path) -> Iterator[LocalServer]:
    def started() -> LocalServer:
        server = start(logs)
        server.create_bucket(BUCKET)
        return server

    return shared_server(start.__name__, started)


@pytest.fixture(scope="session")
def s3_server(cloud_env: Path) -> Iterator[LocalServer]:
    """moto's S3 server with the bucket ``wharf``."""
    yield from _with_bucket(start_moto, cloud_env)


@pytest.fixture(scope="session")
def gcs_server(cloud_env: Path) -> Iterator[LocalServer]:
    """fake-gcs-server with the bucket ``wharf``."""
    yield from _with_bucket(start_fake_gcs, cloud_env)


@pytest.fixture(scope="session")
def azure_server(cloud_env: Path) -> Iterator[LocalServer]:
    """Azurite with the container ``wharf``."""
    yield from _with_bucket(start_azurite, cloud_env)


SERVER_FIXTURES = ("s3_server", "gcs_server", "azure_server")
PROTOCOL = {"s3": "s3", "gcs": "gs", "azure": "abfs"}


def url(server: LocalServer, *parts: str) -> str:
    """``<scheme>://wharf/<parts>`` on ``server``."""
    return f"{PROTOCOL[server.kind]}://{'/'.join((BUCKET, *parts))}"


@pytest.fixture(params=SERVER_FIXTURES, ids=["s3", "gcs", "azure"])
def server(request: pytest.FixtureRequest) -> LocalServer:
    """Each of the three servers in turn."""
    found: LocalServer = request.getfixturevalue(request.param)
    return found
