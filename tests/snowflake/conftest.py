"""Snowflake tests run against fakesnow's server, started once per session."""

from tests.spark.fixtures import spark
from tests.warehouse_fixtures import fakesnow_server, warehouse_env

__all__ = ["fakesnow_server", "spark", "warehouse_env"]
