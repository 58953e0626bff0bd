"""A local Snowflake stand-in for tests: fakesnow's HTTP server on a free loopback port.

**Server mode, not patch mode.** fakesnow's server speaks Snowflake's REST protocol, so the real
``snowflake-connector-python`` talks to it exactly as to Snowflake: login, ``PUT`` of a file to a
stage, ``COPY INTO``, and Arrow result chunks (``fetch_arrow_batches``), which is the client path
the store uses. Patch mode (``fakesnow.patch()``) swaps the connector for an in-process fake
whose cursor has no ``fetch_arrow_batches`` / ``fetch_arrow_all``, so the store's read path
cannot run on it; it is only needed for the connector's ``write_pandas``, which wharf does not
use (in server mode it fails on fakesnow's stage URL parsing, see ``backends.md``).

The server runs as a child process (``python -c <launcher>``, a
:class:`~wharf.testing._process.ChildServer`) of the test session, in memory, and is stopped by
its PID. The launcher fixes two fakesnow 0.12 bugs before serving, and changes
nothing else: NULL timestamps in Arrow results arrived as 1970-01-01 (``timestamp_to_sf_struct``
built the struct array without a validity mask), and ``COPY ... MATCH_BY_COLUMN_NAME =
CASE_SENSITIVE`` compared the Parquet names with the table's names upper-cased, so it matched no
lower-case or mixed-case column (``_get_table_columns``).

Connections use the account URL form wharf understands (``http://127.0.0.1:<port>``) and fake
credentials; the connector then never contacts Snowflake (telemetry is switched off too).

A test session typically does::

    with start_fakesnow() as snow:
        io = SnowflakeIOManager(**snow.config("MY_DB"))   # account = snow.account, a URL
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wharf.testing._process import LOOPBACK, ChildServer, Shared, WarehouseStartError, free_port

__all__ = [
    "FakeSnowflake",
    "WarehouseStartError",
    "shared_fakesnow",
    "start_fakesnow",
    "stop_shared_fakesnow",
]

_LAUNCHER = """
import sys, warnings
warnings.simplefilter("ignore")
import pyarrow as pa, pyarrow.compute as pc
import fakesnow.arrow as fa

_to_struct = fa.timestamp_to_sf_struct

def timestamp_to_sf_struct(ts):  # keep NULLs NULL (fakesnow 0.12 sends them as the epoch)
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    out = _to_struct(ts)
    if not ts.null_count:
        return out
    children = [pc.fill_null(out.field(i), 0) for i in range(out.type.num_fields)]
    return pa.StructArray.from_arrays(children, fields=list(out.type), mask=ts.is_null())

fa.timestamp_to_sf_struct = timestamp_to_sf_struct

import fakesnow.copy_into as ci

def _get_table_columns(table, duck_conn, current_database, current_schema):
    # exact names (fakesnow 0.12 upper-cases them, so MATCH_BY_COLUMN_NAME = CASE_SENSITIVE
    # matches nothing lower-case, and DuckDB's ASCII-only case folding misses "näme")
    return [c[0] for c in ci._describe_table(table, duck_conn, current_database, current_schema)]

ci._get_table_columns = _get_table_columns
import fakesnow.server, uvicorn
uvicorn.run(fakesnow.server.app, host=sys.argv[1], port=int(sys.argv[2]), log_level="warning")
"""

#: the user and password fakesnow accepts (any would do: it checks nothing)
FAKE_USER, FAKE_PASSWORD = "fake", "snow"


@dataclass
class FakeSnowflake(ChildServer):
    """A running fakesnow server. Use it as a context manager, or call :meth:`stop`."""

    @property
    def account(self) -> str:
        """The ``account`` value that points wharf at this server: its URL."""
        return self.url

    def env(self, database: str) -> dict[str, str]:
        """``SNOWFLAKE_*`` variables for the seed example's ``EnvVar`` settings."""
        return {
            "SNOWFLAKE_ACCOUNT": self.account,
            "SNOWFLAKE_USER": FAKE_USER,
            "SNOWFLAKE_PASSWORD": FAKE_PASSWORD,
            "SNOWFLAKE_DATABASE": database,
        }

    def config(self, database: str, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for ``SnowflakeIOManager`` / ``SnowflakeResource``."""
        return {
            "account": self.account,
            "user": FAKE_USER,
            "password": FAKE_PASSWORD,
            "database": database,
            **extra,
        }

    def connect(self, database: str, **kwargs: Any) -> Any:
        """A raw ``snowflake.connector`` connection to ``database`` (created on first use)."""
        import snowflake.connector

        return snowflake.connector.connect(
            user=FAKE_USER, password=FAKE_PASSWORD, account="fakesnow", host=LOOPBACK,
            port=self.port, protocol="http", database=database, paramstyle="qmark",
            session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
            platform_detection_timeout_seconds=0.0, **kwargs,
        )  # fmt: skip


def start_fakesnow(log_dir: Path | str | None = None, *, timeout: float = 60.0) -> FakeSnowflake:
    """Start fakesnow's server (in memory) on a free loopback port and wait until it answers.

    Raises:
        WarehouseStartError: it exited or did not answer; the message has the log's tail.
    """
    try:
        import fakesnow  # noqa: F401
    except ImportError as exc:
        msg = "fakesnow is not installed: run `make test` (or install wharf[dev])"
        raise WarehouseStartError(msg) from exc
    port = free_port()
    argv = [sys.executable, "-c", _LAUNCHER, LOOPBACK, str(port)]
    # its uploads (fakesnow_bucket_*) go to its workdir (TMPDIR), deleted when it stops
    return FakeSnowflake("fakesnow", argv, port, log_dir=log_dir).start(timeout)


_SHARED = Shared(start_fakesnow)
#: one server for the whole process, started on first use and stopped at exit (or by
#: ``stop_shared_fakesnow()``): the test session's fixtures and the fidelity table share it
shared_fakesnow, stop_shared_fakesnow = _SHARED.get, _SHARED.stop
