"""PostgreSQL: a resource for your own SQL, and one I/O manager for every dataframe type.

``PostgresIOManager`` stores pandas and polars DataFrames, polars LazyFrames, pyarrow Tables and
RecordBatchReaders, DuckDB relations and Spark DataFrames as PostgreSQL tables, and loads a
table as whatever type the input is annotated with. Data moves as Arrow through ADBC (a binary
bulk ``COPY`` each way), never row by row.

Writes are atomic: the data is copied into a stage table and swapped in by ``DROP`` + ``RENAME``
in the same transaction, so readers see the old table or the new one, never a mix, and a failed
write leaves the old table as it was. Columns are matched by name, names keep their case, empty
frames keep their columns, and the written Arrow schema (time zones, categoricals, unsigned
integers, ...) is kept in the table comment and restored on load. See
:mod:`wharf._stores.postgres` for the few types that cannot round-trip.

The connection is given as fields (``host``, ``port``, ``user``, ``password``, ``database`` and
libpq ``options`` such as ``sslmode``); pass the password as ``EnvVar("PGPASSWORD")``. It never
appears in a repr, a message or metadata.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, PrivateAttr, field_validator

from wharf._core.config import ConfigurableResource
from wharf._deps import require
from wharf._io.legacy import build_io_manager
from wharf._io.store_io import TableIOManager
from wharf._io.type_handlers import DbTypeHandler, FrameTypeHandler

if TYPE_CHECKING:
    from wharf._io.base import IOManagerDefinition
    from wharf._stores.dialect import Dialect
    from wharf._stores.sql import SqlStore

__all__ = [
    "PostgresIOManager",
    "PostgresPandasIOManager",
    "PostgresPandasTypeHandler",
    "PostgresPolarsIOManager",
    "PostgresPolarsTypeHandler",
    "PostgresPySparkIOManager",
    "PostgresPySparkTypeHandler",
    "PostgresResource",
    "build_postgres_io_manager",
]


def check_host(host: str) -> str:
    """``host`` if it names one host (a name, an IPv4 or IPv6 address, a socket folder).

    Examples:
        >>> check_host("::1"), check_host("db.internal")
        ('::1', 'db.internal')
        >>> check_host("127.0.0.1:5432")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: host and port are separate fields (host='127.0.0.1', port=5432); expected a ...
    """
    import ipaddress
    import re

    if host.startswith("/") or ":" not in host:
        return host
    try:
        ipaddress.IPv6Address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return host.strip("[]")
    if "://" in host:
        hint = "give the URI's parts as the fields host, port, user, password and database"
    elif found := re.fullmatch(r"\[?(.*?)\]?:(\d+)", host):
        hint = f"host and port are separate fields (host={found[1]!r}, port={found[2]})"
    else:
        hint = "a host name or address, and the port in the port field"
    msg = f"{hint}; expected a host name or address without a port"
    raise ValueError(msg)


class _Connection(ConfigurableResource):
    """The connection fields shared by the resource and the I/O manager."""

    host: str = "localhost"
    port: int = 5432
    user: str = "postgres"
    password: str | None = Field(default=None, repr=False)
    database: str = "postgres"
    schema_: str | None = Field(default=None, alias="schema")
    options: dict[str, str] = Field(default_factory=dict)

    @field_validator("host")
    @classmethod
    def _one_host(cls, host: str) -> str:
        """A host name, an IP address or a socket folder; never ``host:port`` or a URI."""
        return check_host(host)

    def _uri(self) -> str:
        from wharf._stores.postgres import postgres_uri

        return postgres_uri(
            host=self.host, port=int(self.port), user=self.user, password=self.password,
            database=self.database, options=self.options,
        )  # fmt: skip


class PostgresResource(_Connection):
    """A PostgreSQL database for assets that run their own SQL.

    Args:
        host: server host name or address, or a Unix socket folder (``/run/postgresql``).
        port: server port.
        user: role to connect as.
        password: its password; give it as ``EnvVar("PGPASSWORD")``. Never shown.
        database: database to connect to.
        schema: created if missing and put first on the ``search_path``.
        options: more libpq connection parameters (``{"sslmode": "require"}``).

    Examples:
        >>> import wharf as dg
        >>> pg = PostgresResource(host="db.internal", password=dg.EnvVar("PGPASSWORD"))
        >>> "PGPASSWORD" in repr(pg)  # never shown, not even the variable's name
        False
        >>> with pg.get_connection() as conn:  # doctest: +SKIP
        ...     conn.execute("SELECT count(*) FROM orders").fetchone()
        (42,)
    """

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        """A ``psycopg`` connection; the block's work is committed when it ends, rolled back
        if it raises, and the connection is closed either way."""
        psycopg = require("psycopg", purpose="PostgresResource.get_connection")
        conn = psycopg.connect(self._uri())
        try:
            if self.schema_:
                name = psycopg.sql.Identifier(self.schema_)
                conn.execute(psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
                conn.execute(psycopg.sql.SQL("SET search_path TO {}, public").format(name))
                conn.commit()
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    @contextmanager
    def get_adbc_connection(self) -> Iterator[Any]:
        """An ADBC DB-API connection, for Arrow in and out (``cursor.adbc_ingest``,
        ``cursor.fetch_arrow_table()``); closed when the block ends."""
        from wharf._stores.postgres import PostgresConnector

        conn = PostgresConnector(self._uri())()
        try:
            yield conn
        finally:
            conn.close()


class PostgresIOManager(_Connection, TableIOManager):
    """Stores any table-like value as a PostgreSQL table; loads it as the input's annotation asks.

    The table is named after the asset key's last part; the schema comes from the asset's
    ``schema`` metadata, then ``schema`` here, then the key prefix, then ``public``.
    ``AssetIn(metadata={"columns": [...]})`` loads only those columns.

    Args:
        host, port, user, password, database, options: the connection (see
            :class:`PostgresResource`).
        schema: schema for every asset without its own ``schema`` metadata.

    Examples:
        >>> import pandas as pd, polars as pl
        >>> import wharf as dg
        >>> @dg.asset
        ... def orders() -> pd.DataFrame:
        ...     return pd.DataFrame({"id": [1, 2], "amount": [9.5, 3.0]})
        >>> @dg.asset
        ... def total(orders: pl.DataFrame) -> pl.DataFrame:
        ...     return orders.select(pl.col("amount").sum())
        >>> io = PostgresIOManager(host="db.internal", password=dg.EnvVar("PGPASSWORD"),
        ...                        database="shop", schema="analytics")
        >>> dg.materialize([orders, total], resources={"io_manager": io})  # doctest: +SKIP
    """

    default_load_type: ClassVar[str] = "pandas"

    _store: Any = PrivateAttr(default=None)

    def table_store(self) -> SqlStore:
        if self._store is None:
            from wharf._stores.postgres import postgres_store

            self._store = postgres_store(self._uri())
        store: SqlStore = self._store
        return store

    def dialect(self) -> Dialect:
        from wharf._stores.postgres import POSTGRES

        return POSTGRES

    def default_schema(self) -> str | None:
        return self.schema_


class PostgresPandasIOManager(PostgresIOManager):
    """:class:`PostgresIOManager` whose unannotated inputs load as ``pandas.DataFrame``."""

    default_load_type: ClassVar[str] = "pandas"


class PostgresPolarsIOManager(PostgresIOManager):
    """:class:`PostgresIOManager` whose unannotated inputs load as ``polars.DataFrame``."""

    default_load_type: ClassVar[str] = "polars"


class PostgresPySparkIOManager(PostgresIOManager):
    """:class:`PostgresIOManager` whose unannotated inputs load as ``pyspark.sql.DataFrame``."""

    default_load_type: ClassVar[str] = "pyspark"


class PostgresPandasTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: pandas DataFrames in PostgreSQL, through Arrow and
    the I/O manager's atomic write."""

    adapters = ("pandas",)


class PostgresPolarsTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: polars DataFrames and LazyFrames in PostgreSQL, through
    Arrow and the I/O manager's atomic write."""

    adapters = ("polars", "polars-lazy")


class PostgresPySparkTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: Spark DataFrames in PostgreSQL, through Arrow and
    the I/O manager's atomic write."""

    adapters = ("pyspark",)


def build_postgres_io_manager(
    type_handlers: Sequence[DbTypeHandler[Any]], default_load_type: type | None = None
) -> IOManagerDefinition:
    """Dagster's ``build_postgres_io_manager``: a function-style I/O manager, configured like
    :class:`PostgresIOManager`, for the types of ``type_handlers``; unannotated inputs load as
    ``default_load_type`` (none given and one handler: its type)."""
    return build_io_manager(
        "wharf.postgres:PostgresIOManager",
        type_handlers,
        default_load_type,
        name="build_postgres_io_manager",
    )
