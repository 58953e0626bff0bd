"""Dagster's ``dagster_gcp`` names: BigQuery from :mod:`wharf.bigquery`, GCS from
:mod:`wharf.gcs`."""

from __future__ import annotations

from wharf.bigquery import (
    BigQueryIOManager,
    BigQueryResource,
    bigquery_resource,
    build_bigquery_io_manager,
)
from wharf.gcs import (
    GCSPickleIOManager,
    GCSResource,
    gcs_pickle_io_manager,
    gcs_resource,
)

__all__ = [
    "BigQueryIOManager",
    "BigQueryResource",
    "GCSPickleIOManager",
    "GCSResource",
    "bigquery_resource",
    "build_bigquery_io_manager",
    "gcs_pickle_io_manager",
    "gcs_resource",
]
