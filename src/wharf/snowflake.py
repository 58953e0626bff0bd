"""Snowflake: a resource for your own SQL, and one I/O manager for every dataframe type.

``SnowflakeIOManager`` stores pandas and polars DataFrames, polars LazyFrames, pyarrow Tables
and RecordBatchReaders, DuckDB relations and Spark DataFrames as Snowflake tables, and loads a
table as whatever type the input is annotated with. ``SnowflakePandasIOManager`` and
``SnowflakePySparkIOManager`` are the same manager with a different default for unannotated
inputs; they exist so Dagster code moves over unchanged (the config fields are Dagster's).

Writes are atomic (the new table is staged, then swapped in by one ``CREATE OR REPLACE TABLE
... AS SELECT`` statement, which Snowflake runs as one transaction), columns are matched by
name and keep their exact case, empty frames keep their schema, and time zones come back as
written. Plain schema and table names are upper-cased like any unquoted Snowflake name (an
asset ``sales_summary`` is the table ``PUBLIC.SALES_SUMMARY``). See
:mod:`wharf._stores.snowflake` for the details.

``account`` may also be a URL (``http://127.0.0.1:8085``, ``https://acme.privatelink.host``):
the host, port and protocol are then taken from it, which is how tests point at a local
stand-in (fakesnow). Importing this module loads neither the Snowflake connector nor pyarrow.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr

from wharf._core.config import ConfigurableResource
from wharf._deps import require
from wharf._io.legacy import build_io_manager, io_manager_from, resource_from
from wharf._io.store_io import TableIOManager
from wharf._io.type_handlers import DbTypeHandler, FrameTypeHandler
from wharf.errors import ConfigError

if TYPE_CHECKING:
    from wharf._io.base import IOManagerDefinition
    from wharf._stores.dialect import Dialect
    from wharf._stores.sql import SqlStore

__all__ = [
    "SnowflakeIOManager",
    "SnowflakePandasIOManager",
    "SnowflakePandasTypeHandler",
    "SnowflakePolarsTypeHandler",
    "SnowflakePySparkIOManager",
    "SnowflakePySparkTypeHandler",
    "SnowflakeResource",
    "build_snowflake_io_manager",
    "snowflake_pandas_io_manager",
    "snowflake_pyspark_io_manager",
    "snowflake_resource",
]

# the connector keyword arguments that config fields of the same name pass through
_PASSED = (
    "user", "password", "database", "schema", "role", "warehouse", "authenticator",
    "autocommit", "client_prefetch_threads", "client_session_keep_alive", "login_timeout",
    "network_timeout", "ocsp_response_cache_filename", "validate_default_parameters",
    "paramstyle", "timezone",
)  # fmt: skip


def _account_args(account: str | None) -> dict[str, Any]:
    """``account`` as connector arguments; a URL gives host, port and protocol.

    Examples:
        >>> _account_args("acme-xy12345")
        {'account': 'acme-xy12345'}
        >>> sorted(_account_args("http://127.0.0.1:8085").items())  # doctest: +NORMALIZE_WHITESPACE
        [('account', 'local'), ('host', '127.0.0.1'), ('platform_detection_timeout_seconds', 0.0),
         ('port', 8085), ('protocol', 'http'),
         ('session_parameters', {'CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED': False})]
    """
    if not account or "://" not in account:
        return {"account": account} if account else {}
    url = urlsplit(account)
    if url.scheme not in ("http", "https") or not url.hostname:
        msg = f"Snowflake account URL {account!r} must look like https://host[:port]"
        raise ConfigError(msg, expected="https://host[:port]", got=account)
    first = url.hostname.split(".")[0]
    return {
        "account": url.username or ("local" if first.isdigit() else first),
        "host": url.hostname,
        "port": url.port or (443 if url.scheme == "https" else 80),
        "protocol": url.scheme,
        # a private endpoint or a local stand-in: send nothing to Snowflake's telemetry host,
        # and do not probe the cloud metadata endpoints (169.254.169.254) to name the platform
        "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        "platform_detection_timeout_seconds": 0.0,
    }


def _private_key(config: Any) -> bytes | None:
    """The DER (PKCS#8) bytes of ``private_key`` (PEM, or base64 of PEM) or the file at
    ``private_key_path``, decrypted with ``private_key_password``; as Dagster reads them."""
    if config.private_key_path:
        pem = Path(config.private_key_path).expanduser().read_bytes()
    elif config.private_key:
        pem = config.private_key.encode()
    else:
        return None
    serialization = require(
        "cryptography.hazmat.primitives.serialization", purpose="Snowflake key-pair auth"
    )
    password = config.private_key_password.encode() if config.private_key_password else None
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (TypeError, ValueError):
        try:
            key = serialization.load_pem_private_key(base64.b64decode(pem), password=password)
        except (TypeError, ValueError) as exc:
            msg = (
                f"{type(config).__name__} could not load the Snowflake private key: {exc}; "
                "give the PEM text, or its base64 (cat rsa_key.p8 | base64)"
            )
            raise ConfigError(msg, expected="a PEM private key", got="an unreadable key") from None
    der: bytes = key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    return der


def _connect_args(config: Any) -> dict[str, Any]:
    """``snowflake.connector.connect`` keyword arguments from a resource's or manager's fields."""
    methods = [n for n in ("password", "private_key", "private_key_path") if getattr(config, n)]
    if len(methods) > 1:
        msg = (
            f"{type(config).__name__} got both {' and '.join(methods)}: give a password or a "
            "private key, not both"
        )
        raise ConfigError(msg, expected="one authentication method", got=", ".join(methods))
    if not methods and not config.authenticator:
        msg = (
            f"{type(config).__name__} needs password, private_key, private_key_path or "
            "authenticator to log in to Snowflake"
        )
        raise ConfigError(msg, expected="an authentication method", got="none")
    args: dict[str, Any] = {}
    for name in _PASSED:
        value = getattr(config, "schema_" if name == "schema" else name, None)
        if value is not None:
            args[name] = value
    args.update(_account_args(config.account))
    key = _private_key(config)
    if key is not None:
        args["private_key"] = key
    extra = dict(config.additional_snowflake_connection_args or {})
    session = {**args.get("session_parameters", {}), **extra.pop("session_parameters", {})}
    args.update(extra)
    if session:
        args["session_parameters"] = session
    return args


class SnowflakeResource(ConfigurableResource):
    """A Snowflake connection for assets that run their own SQL (Dagster's config fields).

    Args:
        account: the account identifier (``orgname-account``), or a URL (see the module).
        user: login name.
        password: password; or use ``private_key`` / ``private_key_path`` (with
            ``private_key_password`` when the key is encrypted), or ``authenticator``.
        database, schema, role, warehouse: session defaults.
        additional_snowflake_connection_args: more ``snowflake.connector.connect`` arguments.

    The other fields (``autocommit``, ``login_timeout``, ``network_timeout``, ``paramstyle``,
    ``timezone``, ...) are passed to ``snowflake.connector.connect`` as they are.

    Examples:
        >>> snowflake = SnowflakeResource(account="acme", user="me", password="secret",
        ...                               database="SALES", warehouse="WH")
        >>> snowflake.database
        'SALES'
    """

    account: str | None = None
    user: str
    password: str | None = Field(default=None, repr=False)
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    role: str | None = None
    warehouse: str | None = None
    private_key: str | None = Field(default=None, repr=False)
    private_key_password: str | None = Field(default=None, repr=False)
    private_key_path: str | None = None
    autocommit: bool | None = None
    client_prefetch_threads: int | None = None
    client_session_keep_alive: bool | None = None
    login_timeout: int | None = None
    network_timeout: int | None = None
    ocsp_response_cache_filename: str | None = None
    validate_default_parameters: bool | None = None
    paramstyle: str | None = None
    timezone: str | None = None
    authenticator: str | None = None
    additional_snowflake_connection_args: dict[str, Any] | None = None

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        """A ``snowflake.connector`` connection; committed (unless autocommit) and closed when
        the block ends, closed without commit when it raises."""
        connector = require("snowflake.connector", purpose="SnowflakeResource")
        conn = connector.connect(**_connect_args(self))
        try:
            yield conn
            if not self.autocommit:
                conn.commit()
        finally:
            conn.close()


class SnowflakeIOManager(TableIOManager):
    """Stores any table-like value as a Snowflake table; loads it as the annotation asks.

    The table is named after the asset key's last part; the schema comes from the asset's
    ``schema`` metadata, then ``schema`` here, then the key prefix, then ``public``.
    ``AssetIn(metadata={"columns": [...]})`` loads only those columns.

    Args:
        database: the database to write to (it must exist; schemas are created as needed).
        account, user, password, warehouse, role, authenticator: as for
            :class:`SnowflakeResource`; or key-pair auth with ``private_key`` (PEM text or its
            base64) / ``private_key_path`` and ``private_key_password``.
        schema: schema for every asset without its own ``schema`` metadata.
        store_timestamps_as_strings: keep timestamp columns as ISO-8601 text in Snowflake
            (Dagster's workaround); they still load as timestamps with their zone.
        additional_snowflake_connection_args: more ``snowflake.connector.connect`` arguments.
        column_names: how column names load. ``"auto"``: a table wharf did not write (one
            Dagster wrote, with upper-case names) loads with lower-case names, as Dagster's
            pandas handler loads it, and a partition, append or merge write puts a frame's
            ``owner`` into its ``OWNER`` (new columns upper-cased, as Dagster writes them); a
            table wharf wrote keeps its names exactly; ``"exact"``: every table as stored;
            ``"lower"``: every table lower-cased (with the types wharf wrote).

    Examples:
        >>> import wharf as dg
        >>> io = SnowflakeIOManager(database="ANALYTICS", account=dg.EnvVar("SNOWFLAKE_ACCOUNT"),
        ...                         user="loader", password=dg.EnvVar("SNOWFLAKE_PASSWORD"))
        >>> io.database
        'ANALYTICS'
    """

    default_load_type: ClassVar[str] = "pandas"

    database: str
    account: str
    user: str
    schema_: str | None = Field(default=None, alias="schema")
    password: str | None = Field(default=None, repr=False)
    warehouse: str | None = None
    role: str | None = None
    private_key: str | None = Field(default=None, repr=False)
    private_key_path: str | None = None
    private_key_password: str | None = Field(default=None, repr=False)
    store_timestamps_as_strings: bool = False
    authenticator: str | None = None
    additional_snowflake_connection_args: dict[str, Any] | None = None
    column_names: Literal["auto", "exact", "lower"] = "auto"

    _store: Any = PrivateAttr(default=None)

    def table_store(self) -> SqlStore:
        if self._store is None:
            from wharf._stores.snowflake import snowflake_store

            self._store = snowflake_store(
                _connect_args(self), timestamps_as_strings=self.store_timestamps_as_strings
            )
            self._store.column_names = self.column_names
        store: SqlStore = self._store
        return store

    def dialect(self) -> Dialect:
        from wharf._stores.snowflake import SNOWFLAKE

        return SNOWFLAKE

    def default_schema(self) -> str | None:
        return self.schema_


class SnowflakePandasIOManager(SnowflakeIOManager):
    """:class:`SnowflakeIOManager` whose unannotated inputs load as ``pandas.DataFrame``."""

    default_load_type: ClassVar[str] = "pandas"


class SnowflakePySparkIOManager(SnowflakeIOManager):
    """:class:`SnowflakeIOManager` whose unannotated inputs load as a Spark ``DataFrame``."""

    default_load_type: ClassVar[str] = "pyspark"


# -- Dagster's function-style definitions ----------------------------------------------------

#: Dagster's ``snowflake_resource`` (config ``account``, ``user``, ``password``, ...)
snowflake_resource = resource_from("wharf.snowflake:SnowflakeResource", name="snowflake_resource")
#: Dagster's ``snowflake_pandas_io_manager``
snowflake_pandas_io_manager = io_manager_from(
    "wharf.snowflake:SnowflakePandasIOManager", name="snowflake_pandas_io_manager"
)
#: Dagster's ``snowflake_pyspark_io_manager``
snowflake_pyspark_io_manager = io_manager_from(
    "wharf.snowflake:SnowflakePySparkIOManager", name="snowflake_pyspark_io_manager"
)


class SnowflakePandasTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: pandas DataFrames in Snowflake, through Arrow and
    the I/O manager's atomic write."""

    adapters = ("pandas",)


class SnowflakePolarsTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: polars DataFrames and LazyFrames in Snowflake, through
    Arrow and the I/O manager's atomic write."""

    adapters = ("polars", "polars-lazy")


class SnowflakePySparkTypeHandler(FrameTypeHandler):
    """Dagster's handler of this name: Spark DataFrames in Snowflake, through Arrow and
    the I/O manager's atomic write."""

    adapters = ("pyspark",)


def build_snowflake_io_manager(
    type_handlers: Sequence[DbTypeHandler[Any]], default_load_type: type | None = None
) -> IOManagerDefinition:
    """Dagster's ``build_snowflake_io_manager``: a function-style I/O manager, configured like
    :class:`SnowflakeIOManager`, for the types of ``type_handlers``; unannotated inputs load as
    ``default_load_type`` (none given and one handler: its type)."""
    return build_io_manager(
        "wharf.snowflake:SnowflakeIOManager",
        type_handlers,
        default_load_type,
        name="build_snowflake_io_manager",
    )
