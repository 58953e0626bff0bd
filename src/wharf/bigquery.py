"""BigQuery: a resource for your own queries, and one I/O manager for every dataframe type.

``BigQueryIOManager`` stores pandas and polars DataFrames, polars LazyFrames, pyarrow Tables
and RecordBatchReaders, DuckDB relations and Spark DataFrames as BigQuery tables, and loads a
table as whatever type the input is annotated with. ``BigQueryPandasIOManager`` and
``BigQueryPySparkIOManager`` are the same manager with a different default for unannotated
inputs; they exist so Dagster code moves over unchanged (the config fields are Dagster's).

Writes are atomic (a load job fills a stage table, then one ``CREATE OR REPLACE TABLE ... AS
SELECT`` job swaps it in), columns are matched by name, empty frames keep their schema, and time
zones come back as written. See :mod:`wharf._stores.bigquery` for the details.

``api_endpoint`` (not a Dagster field) points the client at another endpoint, such as a local
emulator; credentials are then anonymous unless ``gcp_credentials`` is given. Importing this
module loads neither the BigQuery client nor pyarrow.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, PrivateAttr

from wharf._core.config import ConfigurableResource
from wharf._deps import require
from wharf._io.legacy import build_io_manager, io_manager_from, resource_from
from wharf._io.store_io import TableIOManager
from wharf._io.type_handlers import DbTypeHandler, FrameTypeHandler
from wharf.errors import ConfigError

if TYPE_CHECKING:
    from wharf._io.base import IOManagerDefinition
    from wharf._stores.bigquery import BigQueryConnector
    from wharf._stores.dialect import Dialect
    from wharf._stores.sql import SqlStore

__all__ = [
    "BigQueryIOManager",
    "BigQueryPandasIOManager",
    "BigQueryPandasTypeHandler",
    "BigQueryPySparkIOManager",
    "BigQueryPySparkTypeHandler",
    "BigQueryResource",
    "bigquery_pandas_io_manager",
    "bigquery_pyspark_io_manager",
    "bigquery_resource",
    "build_bigquery_io_manager",
]


def _credentials(config: Any) -> Any:
    """Service-account credentials from ``gcp_credentials`` (base64 of the JSON key), or None."""
    if not config.gcp_credentials:
        return None
    try:
        info = json.loads(base64.b64decode(config.gcp_credentials, validate=True))
    except (binascii.Error, ValueError):
        msg = (
            f"{type(config).__name__}.gcp_credentials must be the base64 of a service account "
            "JSON key (cat key.json | base64)"
        )
        raise ConfigError(msg, expected="base64 of a JSON key", got="undecodable text") from None
    service_account = require("google.oauth2.service_account", purpose="BigQuery credentials")
    return service_account.Credentials.from_service_account_info(info)


def _connector(config: Any, timeout: float | None = None) -> BigQueryConnector:
    from wharf._stores.bigquery import BigQueryConnector

    return BigQueryConnector(
        config.project,
        location=config.location,
        credentials=_credentials(config),
        api_endpoint=config.api_endpoint,
        timeout=timeout,
    )


class BigQueryResource(ConfigurableResource):
    """A BigQuery client for assets that run their own queries (Dagster's config fields).

    Args:
        project: the project jobs run in; None means the credentials' default project.
        location: where jobs run (``"EU"``, ``"us-central1"``).
        gcp_credentials: base64 of a service account JSON key; None means Application Default
            Credentials.
        api_endpoint: another endpoint (a local emulator); credentials are then anonymous
            unless ``gcp_credentials`` is given.

    Examples:
        >>> bq = BigQueryResource(project="my-project", location="EU")
        >>> bq.location
        'EU'
    """

    project: str | None = None
    location: str | None = None
    gcp_credentials: str | None = Field(default=None, repr=False)
    api_endpoint: str | None = None

    @contextmanager
    def get_client(self) -> Iterator[Any]:
        """A ``google.cloud.bigquery.Client``, closed when the block ends."""
        client = _connector(self).client()
        try:
            yield client
        finally:
            client.close()


class BigQueryIOManager(TableIOManager):
    """Stores any table-like value as a BigQuery table; loads it as the annotation asks.

    The table is named after the asset key's last part; the dataset comes from the asset's
    ``schema`` metadata, then ``dataset`` here, then the key prefix, then ``public``.
    ``AssetIn(metadata={"columns": [...]})`` loads only those columns.

    Args:
        project: the project that holds the datasets and runs the jobs.
        dataset: dataset for every asset without its own ``schema`` metadata (created as
            needed).
        location: where jobs run and new datasets are created.
        gcp_credentials: base64 of a service account JSON key; None means Application Default
            Credentials.
        timeout: seconds for each load or query job and API call.
        api_endpoint: another endpoint (a local emulator), not a Dagster field.
        column_names: how column names load. ``"auto"``: a table wharf did not write (one
            Dagster wrote, with upper-case names) loads with lower-case names, as Dagster's
            pandas handler loads it, and a partition, append or merge write puts a frame's
            ``owner`` into its ``OWNER`` (new columns upper-cased, as Dagster writes them); a
            table wharf wrote keeps its names exactly; ``"exact"``: every table as stored;
            ``"lower"``: every table lower-cased (with the types wharf wrote).

    Examples:
        >>> import wharf as dg
        >>> io = BigQueryIOManager(project="my-project", dataset="analytics",
        ...                        gcp_credentials=dg.EnvVar("GCP_CREDS"))
        >>> io.dataset
        'analytics'
    """

    default_load_type: ClassVar[str] = "pandas"

    project: str
    dataset: str | None = None
    location: str | None = None
    gcp_credentials: str | None = Field(default=None, repr=False)
    timeout: float | None = None
    api_endpoint: str | None = None
    column_names: Literal["auto", "exact", "lower"] = "auto"

    _store: Any = PrivateAttr(default=None)

    def table_store(self) -> SqlStore:
        if self._store is None:
            from wharf._stores.bigquery import bigquery_store

            self._store = bigquery_store(_connector(self, self.timeout))
            self._store.column_names = self.column_names
        store: SqlStore = self._store
        return store

    def dialect(self) -> Dialect:
        from wharf._stores.bigquery import BIGQUERY

        return BIGQUERY

    def default_schema(self) -> str | None:
        return self.dataset

    def handler_connection(self, connection: Any, creates_in: str | None = None) -> Any:
        """A type handler of your own is given the ``google.cloud.bigquery.Client``, as in
        Dagster; the dataset it writes in exists."""
        if creates_in is not None:
            from wharf._stores.bigquery import ensure_dataset

            ensure_dataset(connection, creates_in)
        return connection.client


class BigQueryPandasIOManager(BigQueryIOManager):
    """:class:`BigQueryIOManager` whose unannotated inputs load as ``pandas.DataFrame``."""

    default_load_type: ClassVar[str] = "pandas"


class BigQueryPySparkIOManager(BigQueryIOManager):
    """:class:`BigQueryIOManager` whose unannotated inputs load as a Spark ``DataFrame``."""

    default_load_type: ClassVar[str] = "pyspark"


# -- Dagster's function-style definitions ----------------------------------------------------

#: Dagster's ``bigquery_resource`` (config ``project``, ``location``, ...)
bigquery_resource = resource_from("wharf.bigquery:BigQueryResource", name="bigquery_resource")
#: Dagster's ``bigquery_pandas_io_manager``
bigquery_pandas_io_manager = io_manager_from(
    "wharf.bigquery:BigQueryPandasIOManager", name="bigquery_pandas_io_manager"
)
#: Dagster's ``bigquery_pyspark_io_manager``
bigquery_pyspark_io_manager = io_manager_from(
    "wharf.bigquery:BigQueryPySparkIOManager", name="bigquery_pyspark_io_manager"
)


class BigQueryPandasTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: pandas DataFrames in BigQuery, through Arrow and
    the I/O manager's atomic write."""

    adapters = ("pandas",)


class BigQueryPySparkTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: Spark DataFrames in BigQuery, through Arrow and
    the I/O manager's atomic write."""

    adapters = ("pyspark",)


def build_bigquery_io_manager(
    type_handlers: Sequence[DbTypeHandler[Any]], default_load_type: type | None = None
) -> IOManagerDefinition:
    """Dagster's ``build_bigquery_io_manager``: a function-style I/O manager, configured like
    :class:`BigQueryIOManager`, for the types of ``type_handlers``; unannotated inputs load as
    ``default_load_type`` (none given and one handler: its type)."""
    return build_io_manager(
        "wharf.bigquery:BigQueryIOManager",
        type_handlers,
        default_load_type,
        name="build_bigquery_io_manager",
    )
