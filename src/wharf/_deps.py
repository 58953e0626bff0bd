"""Import optional back-ends on first use, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from wharf.errors import MissingDependencyError

# module to import -> the wharf extra that installs it (the table stores' clients: their rows
# in wharf._stores.registry)
EXTRAS: dict[str, str] = {
    "pyarrow": "arrow",
    "pandas": "pandas",
    "polars": "polars",
    "pyiceberg": "iceberg",
    "pyspark": "spark",
    "s3fs": "s3",
    "boto3": "s3",
    "botocore": "s3",
    "azure.storage.blob": "adls2",
    "gcsfs": "gcs",
    "adlfs": "adls2",
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
        extra = EXTRAS.get(module) or _store_extra(module) or module.split(".", maxsplit=1)[0]
        who = purpose or "wharf"
        msg = (
            f"{who} needs the Python package {module!r}, which is not installed. "
            f"Install it with: pip install 'wharf[{extra}]'"
        )
        raise MissingDependencyError(msg, expected=module, got="not installed") from exc


def _store_extra(module: str) -> str | None:
    """The extra of the table store whose client ``module`` is (its registry row), if any.

    Examples:
        >>> _store_extra("adbc_driver_sqlite"), _store_extra("json")
        ('sqlite', None)
    """
    from wharf._stores.registry import STORES

    return next((row.extra for row in STORES if module in row.clients), None)
