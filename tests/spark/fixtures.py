"""Session fixture: one local-mode SparkSession (about 6 s to start), shared by every importer.

Imported by ``tests/spark/conftest.py`` and by the modules that run the Spark frame kind
(conformance). The session starts on first use and stops when the last user's session fixture
ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wharf.testing.spark import local_spark

_USERS = [0]


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    session = local_spark(local_dir=str(tmp_path_factory.mktemp("spark")))
    _USERS[0] += 1
    try:
        yield session
    finally:
        _USERS[0] -= 1
        if not _USERS[0]:
            session.stop()
