"""Snowflake tests run against fakesnow's server, started once per session."""

from tests.warehouse_fixtures import fakesnow_server, warehouse_env

__all__ = ["fakesnow_server", "warehouse_env"]
