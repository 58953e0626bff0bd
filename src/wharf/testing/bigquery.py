"""A local BigQuery stand-in for tests: bqemulator's REST server on a free loopback port.

bqemulator cannot share a virtual environment with fakesnow (its sqlglot and DuckDB pins clash),
so it runs from its own, ``.venv-bq`` (``make .venv-bq`` builds it, pinned: bqemulator 1.4.0,
duckdb 1.5.5 and the ``duckdb-extension-spatial`` wheel). The python found is
``$WHARF_BQ_PYTHON``, else ``.venv-bq/bin/python`` in the source checkout.

The emulator insists on DuckDB's ``spatial`` extension at start-up and would download it; the
launcher installs it from the wheel instead (``duckdb_extensions.import_extension``, which copies
it under ``~/.duckdb``). ``BQEMU_ENABLE_FORMAT_EXTENSIONS=false`` stops it trying to download the
``avro`` extension. Clients use anonymous credentials and ``ClientOptions(api_endpoint=...)``:
nothing reaches Google or a metadata server.

A test session typically does::

    with start_bqemulator() as bq:
        io = BigQueryIOManager(**bq.config("my_dataset"))  # project + api_endpoint
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wharf.testing._process import LOOPBACK, ChildServer, Shared, WarehouseStartError, free_port

__all__ = [
    "BigQueryEmulator",
    "WarehouseStartError",
    "bq_python",
    "shared_bqemulator",
    "start_bqemulator",
    "stop_shared_bqemulator",
]

PROJECT = "wharf-test"

_LAUNCHER = """
import sys, warnings
warnings.simplefilter("ignore")
from duckdb_extensions import import_extension
import_extension("spatial")  # from the duckdb-extension-spatial wheel: no download
from bqemulator.cli import main
sys.exit(main())
"""


def bq_python() -> Path:
    """The python of the bqemulator virtual environment.

    Raises:
        WarehouseStartError: it is not there; the message says how to build it.
    """
    env = os.environ.get("WHARF_BQ_PYTHON")
    if env:
        candidates = [Path(env).absolute()]
    else:
        root = Path(__file__).resolve().parents[3]  # src/wharf/testing -> the checkout
        candidates = [root / ".venv-bq" / "bin" / "python", Path.cwd() / ".venv-bq/bin/python"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    msg = (
        f"no bqemulator virtual environment (looked for {', '.join(map(str, candidates))}): "
        "run `make .venv-bq` (or `make test`), or set WHARF_BQ_PYTHON"
    )
    raise WarehouseStartError(msg)


@dataclass
class BigQueryEmulator(ChildServer):
    """A running bqemulator. Use it as a context manager, or call :meth:`stop`."""

    project: str = PROJECT

    @property
    def api_endpoint(self) -> str:
        return self.url

    def config(self, dataset: str | None = None, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for ``BigQueryIOManager`` / ``BigQueryResource``."""
        config: dict[str, Any] = {"project": self.project, "api_endpoint": self.api_endpoint}
        if dataset is not None:
            config["dataset"] = dataset
        return {**config, **extra}

    def client(self) -> Any:
        """A ``bigquery.Client`` on the emulator, with anonymous credentials."""
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=self.project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=self.api_endpoint),
        )


def start_bqemulator(
    log_dir: Path | str | None = None, *, timeout: float = 90.0
) -> BigQueryEmulator:
    """Start bqemulator (in memory) on free loopback ports and wait until it answers.

    Raises:
        WarehouseStartError: no ``.venv-bq``, or it exited or did not answer (with the log).
    """
    python = bq_python()
    port, grpc_port = free_port(), free_port()
    argv = [
        str(python), "-c", _LAUNCHER, "start", "--rest-host", LOOPBACK, "--rest-port", str(port),
        "--grpc-host", LOOPBACK, "--grpc-port", str(grpc_port), "--project", PROJECT,
        "--log-level", "warning", "--ephemeral",
    ]  # fmt: skip
    # uploads and DuckDB spill files go to TMPDIR: its workdir, deleted when it stops
    server = BigQueryEmulator(
        "bqemulator", argv, port, log_dir=log_dir,
        ready_path=f"/bigquery/v2/projects/{PROJECT}/datasets",
        extra_env={"BQEMU_ENABLE_FORMAT_EXTENSIONS": "false"},
    )  # fmt: skip
    return server.start(timeout)


_SHARED = Shared(start_bqemulator)
#: one server for the whole process, started on first use and stopped at exit (or by
#: ``stop_shared_bqemulator()``): the test session's fixtures and the fidelity table share it
shared_bqemulator, stop_shared_bqemulator = _SHARED.get, _SHARED.stop
