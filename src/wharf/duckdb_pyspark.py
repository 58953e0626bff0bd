"""Dagster's ``dagster_duckdb_pyspark`` names, as in Dagster; they live in
:mod:`wharf.duckdb` (one I/O manager for every frame type)."""

from __future__ import annotations

from wharf.duckdb import (
    DuckDBPySparkIOManager,
    DuckDBPySparkTypeHandler,
    duckdb_pyspark_io_manager,
)

__all__ = [
    "DuckDBPySparkIOManager",
    "DuckDBPySparkTypeHandler",
    "duckdb_pyspark_io_manager",
]
