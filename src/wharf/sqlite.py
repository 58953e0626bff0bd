"""SQLite: one I/O manager for every dataframe type, embedded (no server).

``SQLiteIOManager`` stores pandas and polars DataFrames, polars LazyFrames, pyarrow Tables and
RecordBatchReaders, DuckDB relations and Spark DataFrames as tables of a SQLite database file,
and loads a table as whatever type the input is annotated with. Data moves as Arrow through
ADBC's SQLite driver. ``SQLitePandasIOManager``, ``SQLitePolarsIOManager`` and
``SQLitePySparkIOManager`` are the same manager with a different default for unannotated inputs.

Writes are atomic (stage, then swap in one transaction), columns are matched by name, empty
frames keep their schema, and the written Arrow schema is kept beside the table and restored on
load. SQLite has no schemas: an asset's table is named ``<schema>.<table>`` (``public.orders``).
See :mod:`wharf._stores.sqlite` for how types are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, PrivateAttr

from wharf._io.store_io import DatabaseFileIOManager, TableIOManager

if TYPE_CHECKING:
    from wharf._stores.dialect import Dialect
    from wharf._stores.sql import SqlStore

__all__ = [
    "SQLiteIOManager",
    "SQLitePandasIOManager",
    "SQLitePolarsIOManager",
    "SQLitePySparkIOManager",
]


class SQLiteIOManager(DatabaseFileIOManager, TableIOManager):
    """Stores any table-like value as a SQLite table; loads it as the input's annotation asks.

    The table is ``<schema>.<name>``: the name is the asset key's last part; the schema comes
    from the asset's ``schema`` metadata, then ``schema`` here, then the key prefix, then
    ``public``. ``AssetIn(metadata={"columns": [...]})`` loads only those columns.

    Args:
        database: path of the database file (created if missing), or ``":memory:"`` (kept for
            this manager's life, in this process).
        schema: schema for every asset without its own ``schema`` metadata.
        lock_timeout: seconds a write waits while another process writes the file.

    Examples:
        >>> import pandas as pd, polars as pl
        >>> import wharf as dg
        >>> @dg.asset
        ... def orders() -> pd.DataFrame:
        ...     return pd.DataFrame({"id": [1, 2], "amount": [9.5, 3.0]})
        >>> @dg.asset
        ... def total(orders: pl.DataFrame) -> pl.DataFrame:
        ...     return orders.select(pl.col("amount").sum())
        >>> io = SQLiteIOManager(database=":memory:")
        >>> result = dg.materialize([orders, total], resources={"io_manager": io})
        >>> result.output_for_node("total")["amount"].to_list()
        [12.5]
    """

    default_load_type: ClassVar[str] = "pandas"
    example_file: ClassVar[str] = "warehouse.sqlite"

    database: str = Field(min_length=1)
    schema_: str | None = Field(default=None, alias="schema")
    lock_timeout: float = 30.0

    _store: Any = PrivateAttr(default=None)

    def table_store(self) -> SqlStore:
        if self._store is None:
            from wharf._stores.sqlite import sqlite_store

            self._store = sqlite_store(self.database, lock_timeout=self.lock_timeout)
        store: SqlStore = self._store
        return store

    def dialect(self) -> Dialect:
        from wharf._stores.sqlite import SQLITE

        return SQLITE

    def default_schema(self) -> str | None:
        return self.schema_


class SQLitePandasIOManager(SQLiteIOManager):
    """:class:`SQLiteIOManager` whose unannotated inputs load as ``pandas.DataFrame``."""

    default_load_type: ClassVar[str] = "pandas"


class SQLitePolarsIOManager(SQLiteIOManager):
    """:class:`SQLiteIOManager` whose unannotated inputs load as ``polars.DataFrame``."""

    default_load_type: ClassVar[str] = "polars"


class SQLitePySparkIOManager(SQLiteIOManager):
    """:class:`SQLiteIOManager` whose unannotated inputs load as ``pyspark.sql.DataFrame``."""

    default_load_type: ClassVar[str] = "pyspark"
