"""Import optional back-ends on first use, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from wharf.errors import MissingDependencyError

# module to import -> the wharf extra that installs it
EXTRAS: dict[str, str] = {
    "pyarrow": "arrow",
    "pandas": "pandas",
    "polars": "polars",
    "duckdb": "duckdb",
    "pyiceberg": "iceberg",
    "pyspark": "spark",
    "s3fs": "s3",
    "boto3": "s3",
    "botocore": "s3",
    "azure.storage.blob": "adls2",
    "gcsfs": "gcs",
    "adlfs": "adls2",
    "snowflake.connector": "snowflake",
    "google.cloud.bigquery": "bigquery",
    "psycopg": "postgres",
    "adbc_driver_postgresql": "postgres",
    "distributed": "dask",
    "croniter": "ui",
    "starlette": "ui",
    "uvicorn": "ui",
    "yaml": "ui",
}


def require(module: str, *, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise a :class:`MissingDependencyError` naming the extra.

    Examples:
        >>> require("json").__name__
        'json'
        >>> require("no_such_module_xyz", purpose="testing")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        wharf.errors.MissingDependencyError: ... pip install 'wharf[no_such_module_xyz]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = EXTRAS.get(module, module.split(".", maxsplit=1)[0])
        who = purpose or "wharf"
        msg = (
            f"{who} needs the Python package {module!r}, which is not installed. "
            f"Install it with: pip install 'wharf[{extra}]'"
        )
        raise MissingDependencyError(msg, expected=module, got="not installed") from exc
