"""Dagster's ``dagster_gcp_pandas`` names, as in Dagster; they live in
:mod:`wharf.bigquery` (one I/O manager for every frame type)."""

from __future__ import annotations

from wharf.bigquery import (
    BigQueryPandasIOManager,
    BigQueryPandasTypeHandler,
    bigquery_pandas_io_manager,
)

__all__ = [
    "BigQueryPandasIOManager",
    "BigQueryPandasTypeHandler",
    "bigquery_pandas_io_manager",
]
