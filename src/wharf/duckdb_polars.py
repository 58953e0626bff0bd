"""Dagster's ``dagster_duckdb_polars`` names, as in Dagster; they live in
:mod:`wharf.duckdb` (one I/O manager for every frame type)."""

from __future__ import annotations

from wharf.duckdb import (
    DuckDBPolarsIOManager,
    DuckDBPolarsTypeHandler,
    duckdb_polars_io_manager,
)

__all__ = [
    "DuckDBPolarsIOManager",
    "DuckDBPolarsTypeHandler",
    "duckdb_polars_io_manager",
]
