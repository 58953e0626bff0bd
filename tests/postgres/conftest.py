"""PostgreSQL tests: the session server lives in ``fixtures.py``."""

from tests.postgres.fixtures import pg_schema, postgres_server

__all__ = ["pg_schema", "postgres_server"]
