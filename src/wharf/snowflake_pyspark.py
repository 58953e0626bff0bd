"""Dagster's ``dagster_snowflake_pyspark`` names, as in Dagster; they live in
:mod:`wharf.snowflake` (one I/O manager for every frame type)."""

from __future__ import annotations

from wharf.snowflake import (
    SnowflakePySparkIOManager,
    SnowflakePySparkTypeHandler,
    snowflake_pyspark_io_manager,
)

__all__ = [
    "SnowflakePySparkIOManager",
    "SnowflakePySparkTypeHandler",
    "snowflake_pyspark_io_manager",
]
