"""DuckDB: a resource for your own SQL, and one I/O manager for every dataframe type.

``DuckDBIOManager`` stores pandas and polars DataFrames, polars LazyFrames, pyarrow Tables and
RecordBatchReaders, DuckDB relations and Spark DataFrames as tables, and loads a table as
whatever type the input is annotated with. ``DuckDBPandasIOManager``, ``DuckDBPolarsIOManager``
and ``DuckDBPySparkIOManager`` are the same manager with a different default for unannotated
inputs; they exist so Dagster code moves over unchanged.

Writes are atomic (stage, then swap in one transaction), columns are matched by name, empty
frames keep their schema, and processes that share a database file take turns on its lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, PrivateAttr

from wharf._core.config import ConfigurableResource
from wharf._io.legacy import build_io_manager, io_manager_from, resource_from
from wharf._io.store_io import DatabaseFileIOManager, TableIOManager
from wharf._io.type_handlers import DbTypeHandler, FrameTypeHandler

if TYPE_CHECKING:
    from wharf._io.base import IOManagerDefinition
    from wharf._stores.dialect import Dialect
    from wharf._stores.sql import SqlStore

__all__ = [
    "DuckDBIOManager",
    "DuckDBPandasIOManager",
    "DuckDBPandasTypeHandler",
    "DuckDBPolarsIOManager",
    "DuckDBPolarsTypeHandler",
    "DuckDBPySparkIOManager",
    "DuckDBPySparkTypeHandler",
    "DuckDBResource",
    "build_duckdb_io_manager",
    "duckdb_pandas_io_manager",
    "duckdb_polars_io_manager",
    "duckdb_pyspark_io_manager",
    "duckdb_resource",
]


def _store(database: str, config: dict[str, Any], lock_timeout: float) -> SqlStore:
    from wharf._stores.duckdb import duckdb_store

    return duckdb_store(database, connection_config=config, lock_timeout=lock_timeout)


class DuckDBResource(ConfigurableResource):
    """A DuckDB database for assets that run their own SQL.

    Args:
        database: path of the database file (created if missing), or ``":memory:"``.
        schema: default schema for unqualified names; created if missing. (Dagster ignores it.)
        connection_config: DuckDB settings passed to ``duckdb.connect(config=...)``.
        lock_timeout: seconds to wait, retrying, while another process holds the file.

    Examples:
        >>> duckdb = DuckDBResource(database=":memory:", schema="sales")
        >>> with duckdb.get_connection() as conn:
        ...     conn.execute("CREATE TABLE t AS SELECT 1 AS x").fetchall()
        ...     conn.sql("SELECT current_schema()").fetchall()
        [(1,)]
        [('sales',)]
    """

    database: str = Field(min_length=1)  # "" would be a throw-away in-memory database
    schema_: str | None = Field(default=None, alias="schema")
    connection_config: dict[str, Any] = Field(default_factory=dict)
    lock_timeout: float = 30.0

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        """A DuckDB connection, closed when the block ends (also when it raises)."""
        store = _store(self.database, self.connection_config, self.lock_timeout)
        conn = store.connect()
        try:
            if self.schema_:
                quoted = '"' + self.schema_.replace('"', '""') + '"'
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
                conn.execute(f"USE {quoted}")
            yield conn
        finally:
            store.driver.close(conn)  # where it checkpoints, with no other process opening


class DuckDBIOManager(DatabaseFileIOManager, TableIOManager):
    """Stores any table-like value as a DuckDB table; loads it as the input's annotation asks.

    The table is named after the asset key's last part; the schema comes from the asset's
    ``schema`` metadata, then ``schema`` here, then the key prefix, then ``public``.
    ``AssetIn(metadata={"columns": [...]})`` loads only those columns.

    Args:
        database: path of the database file, or ``":memory:"`` (kept for this manager's life).
        schema: schema for every asset without its own ``schema`` metadata.
        connection_config: DuckDB settings passed to ``duckdb.connect(config=...)``.
        lock_timeout: seconds to wait, retrying, while another process holds the file.

    Examples:
        >>> import pandas as pd, polars as pl
        >>> import wharf as dg
        >>> @dg.asset
        ... def orders() -> pd.DataFrame:
        ...     return pd.DataFrame({"id": [1, 2], "amount": [9.5, 3.0]})
        >>> @dg.asset
        ... def total(orders: pl.DataFrame) -> pl.DataFrame:
        ...     return orders.select(pl.col("amount").sum())
        >>> io = DuckDBIOManager(database=":memory:", schema="shop")
        >>> dg.materialize([orders, total], resources={"io_manager": io}).output_for_node("total")
        shape: (1, 1)
        ┌────────┐
        │ amount │
        │ ---    │
        │ f64    │
        ╞════════╡
        │ 12.5   │
        └────────┘
    """

    default_load_type: ClassVar[str] = "pandas"
    example_file: ClassVar[str] = "warehouse.duckdb"

    database: str = Field(min_length=1)  # "" would be a throw-away in-memory database
    schema_: str | None = Field(default=None, alias="schema")
    connection_config: dict[str, Any] = Field(default_factory=dict)
    lock_timeout: float = 30.0

    _store: Any = PrivateAttr(default=None)

    def table_store(self) -> SqlStore:
        if self._store is None:
            self._store = _store(self.database, self.connection_config, self.lock_timeout)
        store: SqlStore = self._store
        return store

    def dialect(self) -> Dialect:
        from wharf._stores.duckdb import DUCKDB

        return DUCKDB

    def default_schema(self) -> str | None:
        return self.schema_


class DuckDBPandasIOManager(DuckDBIOManager):
    """:class:`DuckDBIOManager` whose unannotated inputs load as ``pandas.DataFrame``."""

    default_load_type: ClassVar[str] = "pandas"


class DuckDBPolarsIOManager(DuckDBIOManager):
    """:class:`DuckDBIOManager` whose unannotated inputs load as ``polars.DataFrame``."""

    default_load_type: ClassVar[str] = "polars"


class DuckDBPySparkIOManager(DuckDBIOManager):
    """:class:`DuckDBIOManager` whose unannotated inputs load as ``pyspark.sql.DataFrame``.

    A Spark DataFrame is stored through Arrow, streamed partition by partition, and a table
    loads into the active ``SparkSession`` (see :mod:`wharf._frames.pyspark`).
    """

    default_load_type: ClassVar[str] = "pyspark"


# -- Dagster's function-style definitions ----------------------------------------------------

#: Dagster's ``duckdb_resource`` (config ``database``, ...)
duckdb_resource = resource_from("wharf.duckdb:DuckDBResource", name="duckdb_resource")
#: Dagster's ``duckdb_pandas_io_manager`` (config ``database``, ``schema``)
duckdb_pandas_io_manager = io_manager_from(
    "wharf.duckdb:DuckDBPandasIOManager", name="duckdb_pandas_io_manager"
)
#: Dagster's ``duckdb_polars_io_manager``
duckdb_polars_io_manager = io_manager_from(
    "wharf.duckdb:DuckDBPolarsIOManager", name="duckdb_polars_io_manager"
)
#: Dagster's ``duckdb_pyspark_io_manager``
duckdb_pyspark_io_manager = io_manager_from(
    "wharf.duckdb:DuckDBPySparkIOManager", name="duckdb_pyspark_io_manager"
)


class DuckDBPandasTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: pandas DataFrames in DuckDB, through Arrow and
    the I/O manager's atomic write."""

    adapters = ("pandas",)


class DuckDBPolarsTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: polars DataFrames and LazyFrames in DuckDB, through
    Arrow and the I/O manager's atomic write."""

    adapters = ("polars", "polars-lazy")


class DuckDBPySparkTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: Spark DataFrames in DuckDB, through Arrow and
    the I/O manager's atomic write."""

    adapters = ("pyspark",)


def build_duckdb_io_manager(
    type_handlers: Sequence[DbTypeHandler[Any]], default_load_type: type | None = None
) -> IOManagerDefinition:
    """Dagster's ``build_duckdb_io_manager``: a function-style I/O manager, configured like
    :class:`DuckDBIOManager`, for the types of ``type_handlers``; unannotated inputs load as
    ``default_load_type`` (none given and one handler: its type)."""
    return build_io_manager(
        "wharf.duckdb:DuckDBIOManager",
        type_handlers,
        default_load_type,
        name="build_duckdb_io_manager",
    )
