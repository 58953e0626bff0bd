"""Tests every warehouse store passes, each against its own stand-in (fakesnow, bqemulator)."""

from tests.spark.fixtures import spark
from tests.warehouse_fixtures import bigquery_server, fakesnow_server, warehouse_env

__all__ = ["bigquery_server", "fakesnow_server", "spark", "warehouse_env"]
