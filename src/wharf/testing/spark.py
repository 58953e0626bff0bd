"""A local-mode SparkSession for tests: loopback only, no UI, quiet, this Python on the workers.

Starting one costs about 6 s (a JVM), so a test session builds it once (a session-scoped
fixture) and stops it at the end. :func:`local_spark` sets what local mode needs on a machine
like CI's:

- ``PYSPARK_PYTHON`` / ``PYSPARK_DRIVER_PYTHON`` = ``sys.executable``: Python workers (Arrow
  UDFs, ``mapInArrow``) must run in this environment, or they fail to import pyarrow.
- ``SPARK_LOCAL_IP=127.0.0.1``: the driver binds to loopback only.
- no web UI, no console progress bar, WARN-level JVM logging, UTC session time zone, Arrow on.

Examples:
    >>> spark = local_spark()  # doctest: +SKIP
    >>> spark.range(3).count()  # doctest: +SKIP
    3
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

__all__ = ["SPARK_CONF", "local_spark"]

SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.python.worker.reuse": "true",
    "spark.driver.memory": "1g",
}


def local_spark(
    app_name: str = "wharf-tests", cores: int = 2, local_dir: str | None = None, **conf: str
) -> Any:
    """Build (or return the running) local-mode SparkSession with :data:`SPARK_CONF`.

    Args:
        app_name: shown in Spark's logs.
        cores: ``local[cores]``.
        local_dir: Spark's scratch and warehouse folder (a new temporary folder if not given).
        conf: more settings, e.g. ``**{"spark.sql.shuffle.partitions": "4"}``.
    """
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(f"local[{cores}]").appName(app_name)
    warehouse = local_dir or tempfile.mkdtemp(prefix="wharf-spark-")
    settings = {**SPARK_CONF, "spark.sql.warehouse.dir": warehouse, **conf}
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
