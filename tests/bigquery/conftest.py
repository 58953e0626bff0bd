"""BigQuery tests run against bqemulator (from .venv-bq), started once per session."""

from tests.warehouse_fixtures import bigquery_server, warehouse_env

__all__ = ["bigquery_server", "warehouse_env"]
