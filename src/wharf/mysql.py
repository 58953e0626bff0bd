"""MySQL and MariaDB: one I/O manager for every dataframe type.

``MySQLIOManager`` stores pandas and polars DataFrames, polars LazyFrames, pyarrow Tables and
RecordBatchReaders, DuckDB relations and Spark DataFrames as MySQL tables, and loads a table as
whatever type the input is annotated with. ``MySQLPandasIOManager``, ``MySQLPolarsIOManager``
and ``MySQLPySparkIOManager`` are the same manager with a different default for unannotated
inputs.

A whole-table write loads a stage table in bulk and swaps it in with one ``RENAME TABLE``:
readers see the old table or the new one, and a failed write leaves the old table. Columns are
matched by name, empty frames keep their columns, and the written Arrow schema is kept in the
table comment and restored on load. A schema is a MySQL database. See
:mod:`wharf._stores.mysql` for the few types that cannot round-trip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, PrivateAttr, field_validator

from wharf._io.store_io import TableIOManager

if TYPE_CHECKING:
    from wharf._stores.dialect import Dialect
    from wharf._stores.sql import SqlStore

__all__ = [
    "MySQLIOManager",
    "MySQLPandasIOManager",
    "MySQLPolarsIOManager",
    "MySQLPySparkIOManager",
]


class MySQLIOManager(TableIOManager):
    """Stores any table-like value as a MySQL / MariaDB table; loads it as the input's
    annotation asks.

    The table is named after the asset key's last part; its database (MySQL's schema) comes from
    the asset's ``schema`` metadata, then ``database`` here, then the key prefix, then
    ``public``. ``AssetIn(metadata={"columns": [...]})`` loads only those columns.

    Args:
        host: server host name or address (the port goes in ``port``).
        port: server port.
        user: user to connect as.
        password: its password; give it as ``EnvVar("MYSQL_PASSWORD")``. Never shown.
        database: the database for every asset without its own ``schema`` metadata.

    Examples:
        >>> import wharf as dg
        >>> io = MySQLIOManager(host="db.internal", user="etl", database="shop",
        ...                     password=dg.EnvVar("MYSQL_PASSWORD"))
        >>> "MYSQL_PASSWORD" in repr(io)
        False
    """

    default_load_type: ClassVar[str] = "pandas"

    host: str = "localhost"
    port: int = 3306
    user: str = "root"
    password: str | None = Field(default=None, repr=False)
    database: str | None = None

    _store: Any = PrivateAttr(default=None)

    @field_validator("host")
    @classmethod
    def _one_host(cls, host: str) -> str:
        """A host name or an IP address; never ``host:port`` or a URI."""
        from wharf.postgres import check_host

        return check_host(host)

    def table_store(self) -> SqlStore:
        if self._store is None:
            from wharf._stores.mysql import MySQLConnector, mysql_store

            connector = MySQLConnector(
                host=self.host, port=int(self.port), user=self.user, password=self.password
            )
            self._store = mysql_store(connector)
        store: SqlStore = self._store
        return store

    def dialect(self) -> Dialect:
        from wharf._stores.mysql import MYSQL

        return MYSQL

    def default_schema(self) -> str | None:
        return self.database


class MySQLPandasIOManager(MySQLIOManager):
    """:class:`MySQLIOManager` whose unannotated inputs load as ``pandas.DataFrame``."""

    default_load_type: ClassVar[str] = "pandas"


class MySQLPolarsIOManager(MySQLIOManager):
    """:class:`MySQLIOManager` whose unannotated inputs load as ``polars.DataFrame``."""

    default_load_type: ClassVar[str] = "polars"


class MySQLPySparkIOManager(MySQLIOManager):
    """:class:`MySQLIOManager` whose unannotated inputs load as ``pyspark.sql.DataFrame``."""

    default_load_type: ClassVar[str] = "pyspark"
