"""Every SQL table store wharf ships, as one row each: the one place a new store is listed.

From these rows come the extra named when a client library is missing (:mod:`wharf._deps`),
the conformance rows and the fidelity table's columns (:mod:`wharf.testing.stores`), the light
import checks and the check that ``pyproject.toml`` has each row's extra. A new SQL store is its
store module (a :class:`~wharf._stores.dialect.Dialect` row and a
:class:`~wharf._stores.driver.Driver`), its public
module (the I/O managers), a row here and, if it needs a server, its test-server starter.

This module imports nothing beyond the standard library: rows name modules and classes as text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["STORES", "StoreRow", "folder_name", "store_row"]


def folder_name(prefix: str, tmp: Path) -> str:
    """A database, schema or dataset name of its own for one test folder (at most 63 bytes).

    Examples:
        >>> folder_name("t", Path("/tmp/a")) == folder_name("t", Path("/tmp/a"))
        True
        >>> len(folder_name("t", Path("/tmp/a")))
        22
    """
    return f"{prefix}_{hashlib.sha1(str(tmp).encode()).hexdigest()[:20]}"


@dataclass(frozen=True)
class StoreRow:
    """One table store.

    Attributes:
        name: the store's name (conformance ids, fidelity columns): ``"sqlite"``.
        module: the public module: ``"wharf.sqlite"``.
        manager: the I/O manager class in it the tests build: ``"SQLiteIOManager"``.
        extra: the ``pip install 'wharf[<extra>]'`` that installs its clients.
        clients: the modules that extra installs (a missing one names the extra).
        example: keyword arguments of a manager built without connecting (light-import check).
        test_config: ``(folder, server) -> kwargs`` of a manager on a fresh database (or
            schema) for one test folder; ``server`` is None for an embedded store.
        server: ``"module:function"`` that returns the shared test server, if any.
        fixture: the pytest fixture that provides that server, where the tests need more than
            the server (an environment); else the suite starts ``server`` itself.
        capabilities: what the conformance suite expects of it (see ``StoreCase``).
        nul_in_text: whether its text holds U+0000.
        floats: which floats it keeps (its ``Dialect.floats``).
        expression: a ``partition_expr`` in its SQL (a time from integer seconds), for the
            golden SQL tests (``tests/_stores/golden``).
    """

    name: str
    module: str
    manager: str
    extra: str
    clients: tuple[str, ...]
    example: dict[str, Any]
    test_config: Callable[[Path, Any], dict[str, Any]]
    server: str | None = None
    fixture: str | None = None
    capabilities: frozenset[str] = frozenset({"projection", "crash_atomic", "write_modes"})
    nul_in_text: bool = True
    floats: str = "ieee"
    expression: str = ""


def _server_login(server: Any) -> dict[str, Any]:
    return {"host": server.host, "port": server.port, "user": server.user}


STORES: tuple[StoreRow, ...] = (
    StoreRow(
        "duckdb", "wharf.duckdb", "DuckDBIOManager", "duckdb", ("duckdb",),
        example={"database": ":memory:"},
        test_config=lambda tmp, _: {"database": str(tmp / "conformance.duckdb"),
                                    "schema": "public"},
        expression="TO_TIMESTAMP(TIME)",
    ),
    StoreRow(
        "sqlite", "wharf.sqlite", "SQLiteIOManager", "sqlite", ("adbc_driver_sqlite",),
        example={"database": "warehouse.sqlite"},
        test_config=lambda tmp, _: {"database": str(tmp / "conformance.sqlite")},
        floats="no_nan",
        expression="datetime(time, 'unixepoch')",
    ),
    StoreRow(
        "postgres", "wharf.postgres", "PostgresIOManager", "postgres",
        ("adbc_driver_postgresql", "psycopg"),
        example={"host": "db"},
        test_config=lambda tmp, server: {**_server_login(server), "schema": folder_name("t", tmp)},
        server="wharf.testing.postgres:shared_postgres",
        fixture="postgres_server",
        capabilities=frozenset(
            {"projection", "crash_atomic", "microsecond_timestamps", "write_modes"}
        ),
        nul_in_text=False,
        expression="to_timestamp(time)",
    ),
    StoreRow(
        "mysql", "wharf.mysql", "MySQLIOManager", "mysql", ("pymysql",),
        example={"host": "db", "password": "p"},
        test_config=lambda tmp, server: server.config(folder_name("t", tmp)),
        server="wharf.testing.mysql:shared_mariadb",
        floats="finite",
        expression="FROM_UNIXTIME(time)",
        capabilities=frozenset(
            {"projection", "crash_atomic", "microsecond_timestamps", "write_modes"}
        ),
    ),
    StoreRow(
        "snowflake", "wharf.snowflake", "SnowflakeIOManager", "snowflake",
        ("snowflake.connector",),
        example={"database": "D", "account": "a", "user": "u", "password": "p"},
        test_config=lambda tmp, server: server.config(folder_name("T", tmp).upper()),
        server="wharf.testing.snowflake:shared_fakesnow",
        fixture="fakesnow_server",
        capabilities=frozenset(
            {"projection", "crash_atomic", "standin_cuts_nanoseconds", "write_modes"}
        ),
        expression="TO_TIMESTAMP(TIME::INT)",
    ),
    StoreRow(
        "bigquery", "wharf.bigquery", "BigQueryIOManager", "bigquery",
        ("google.cloud.bigquery",),
        example={"project": "p"},
        test_config=lambda tmp, server: server.config(folder_name("t", tmp)),
        server="wharf.testing.bigquery:shared_bqemulator",
        fixture="bigquery_server",
        capabilities=frozenset(
            {"projection", "crash_atomic", "lists_never_null", "microsecond_timestamps",
             "write_modes"}
        ),
        expression="TIMESTAMP_SECONDS(TIME)",
    ),
)  # fmt: skip


def store_row(name: str) -> StoreRow:
    """The row of the store ``name``.

    Examples:
        >>> store_row("sqlite").module
        'wharf.sqlite'
        >>> store_row("oracle")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        LookupError: no table store named 'oracle'; the stores are duckdb, sqlite, postgres, ...
    """
    for row in STORES:
        if row.name == name:
            return row
    known = ", ".join(r.name for r in STORES)
    msg = f"no table store named {name!r}; the stores are {known}"
    raise LookupError(msg)
