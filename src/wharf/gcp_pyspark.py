"""Dagster's ``dagster_gcp_pyspark`` names, as in Dagster; they live in
:mod:`wharf.bigquery` (one I/O manager for every frame type)."""

from __future__ import annotations

from wharf.bigquery import (
    BigQueryPySparkIOManager,
    BigQueryPySparkTypeHandler,
    bigquery_pyspark_io_manager,
)

__all__ = [
    "BigQueryPySparkIOManager",
    "BigQueryPySparkTypeHandler",
    "bigquery_pyspark_io_manager",
]
