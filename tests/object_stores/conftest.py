"""Object-store tests: the session servers and helpers live in ``fixtures.py``."""

from tests.object_stores.fixtures import (
    azure_server,
    cloud_env,
    gcs_server,
    s3_server,
    server,
)

__all__ = ["azure_server", "cloud_env", "gcs_server", "s3_server", "server"]
