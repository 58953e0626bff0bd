"""Dagster's ``dagster_snowflake_pandas`` names, as in Dagster; they live in
:mod:`wharf.snowflake` (one I/O manager for every frame type)."""

from __future__ import annotations

from wharf.snowflake import (
    SnowflakePandasIOManager,
    SnowflakePandasTypeHandler,
    snowflake_pandas_io_manager,
)

__all__ = [
    "SnowflakePandasIOManager",
    "SnowflakePandasTypeHandler",
    "snowflake_pandas_io_manager",
]
