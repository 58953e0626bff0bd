"""Spark tests: the session SparkSession lives in ``fixtures.py``."""

from tests.spark.fixtures import spark

__all__ = ["spark"]
