"""Dagster's ``dagster_duckdb_pandas`` names, as in Dagster; they live in
:mod:`wharf.duckdb` (one I/O manager for every frame type)."""

from __future__ import annotations

from wharf.duckdb import (
    DuckDBPandasIOManager,
    DuckDBPandasTypeHandler,
    duckdb_pandas_io_manager,
)

__all__ = [
    "DuckDBPandasIOManager",
    "DuckDBPandasTypeHandler",
    "duckdb_pandas_io_manager",
]
