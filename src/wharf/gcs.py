"""Google Cloud Storage: a resource and the Dagster-named pickle I/O manager.

``GCSResource`` takes dagster-gcp's field names (``project``, ``gcp_credentials``) plus an
emulator ``endpoint_url``; ``get_client()`` returns a ``google.cloud.storage.Client`` as in
Dagster, ``filesystem()`` a gcsfs filesystem. ``GCSPickleIOManager`` stores under
``gs://<gcs_bucket>/<gcs_prefix>/<asset key>``: tables as Parquet at ``<key>.parquet``, every
other value pickled at ``<key>`` (it also loads the plain pickles Dagster's manager wrote).
For any URL, use :class:`~wharf._io.object_store.ObjectStoreIOManager` (``gs://bucket/prefix``).

Objects are published by one upload (simple, or resumable and finalised by its last chunk), so
a failed write leaves the previous object. Each request is retried at most ``max_attempts``
times on 5xx, 408, 429, timeouts and dropped connections, with exponential back-off capped at
8 s (gcsfs's own loop makes 6 attempts with up to 32 s between them), then fails with a
:class:`~wharf.errors.StorageError` naming the asset, the URL and the last error.

gcsfs is imported on first use (``pip install 'wharf[gcs]'``). Before that import,
``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT`` is set to ``false`` unless already set: with it on,
gcsfs probes every bucket over gRPC, which stalls for 60 s against anything but Google.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
from functools import cache
from typing import Any, ClassVar

from pydantic import Field

from wharf._core.config import InitResourceContext
from wharf._deps import require
from wharf._io.legacy import io_manager_from, resource_from
from wharf._io.object_clients import MaskedSecrets
from wharf._io.object_store import BlobIOManagerFactory, ParquetOrPickleIOManager
from wharf.errors import ConfigError

__all__ = [
    "GCSPickleIOManager",
    "GCSResource",
    "gcs_filesystem",
    "gcs_pickle_io_manager",
    "gcs_resource",
]


def _gcsfs() -> Any:
    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    return require("gcsfs", purpose="GCS storage")


def backoff(attempt: int, *, base: float = 0.25, cap: float = 8.0) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, ...): capped, with full jitter.

    Examples:
        >>> all(0 <= backoff(n) <= 8.0 for n in range(1, 20))
        True
    """
    return random.uniform(0, min(cap, base * 2**attempt))  # jitter, not crypto


@cache
def _bounded_class() -> type:
    gcsfs = _gcsfs()
    from gcsfs.retry import is_retriable

    single_attempt = getattr(gcsfs.GCSFileSystem._request, "__wrapped__", None)

    class BoundedGCSFileSystem(gcsfs.GCSFileSystem):  # type: ignore[misc,name-defined]
        """gcsfs whose requests are retried ``max_attempts`` times with capped back-off."""

        def __init__(self, *args: Any, max_attempts: int = 5, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.max_attempts = max_attempts

        async def _request(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            if single_attempt is None:  # gcsfs changed: keep its own retries
                return await super()._request(method, path, *args, **kwargs)
            attempt = 1
            while True:
                try:
                    return await single_attempt(self, method, path, *args, **kwargs)
                except Exception as exc:
                    transient = isinstance(exc, asyncio.TimeoutError) or is_retriable(exc)
                    if not transient or attempt >= self.max_attempts:
                        raise
                await asyncio.sleep(backoff(attempt))
                attempt += 1

    return BoundedGCSFileSystem


def gcs_filesystem(*, max_attempts: int = 5, timeout: float = 60.0, **options: Any) -> Any:
    """A ``gcsfs.GCSFileSystem`` whose requests are tried at most ``max_attempts`` times.

    ``timeout`` bounds connecting and each read. Listings are not cached. ``options`` are
    ``gcsfs.GCSFileSystem`` arguments (``project``, ``token``, ``endpoint_url``, ...); equal
    options share one filesystem (and its connections), as fsspec does.
    """
    cls = _bounded_class()
    aiohttp = require("aiohttp", purpose="GCS storage")
    options.setdefault(
        "requests_timeout", aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)
    )
    options.setdefault("use_listings_cache", False)
    options.setdefault("project", "")  # None only makes gcsfs warn
    fs = cls(max_attempts=max_attempts, **options)
    backoff = sum(min(8.0, 0.25 * 2**n) for n in range(1, max_attempts))  # see backoff()
    fs.wharf_retry_budget = max_attempts * timeout + backoff
    return fs


class GCSResource(MaskedSecrets):
    """Access to Google Cloud Storage with dagster-gcp's configuration fields.

    Args:
        project: the Google Cloud project.
        gcp_credentials: a service-account key file's JSON, base64-encoded (as in Dagster);
            by default Google's application-default credentials.
        endpoint_url: another endpoint, e.g. an emulator; ``STORAGE_EMULATOR_HOST`` also works.
        anonymous: send no credentials (public buckets, emulators).
        max_attempts: attempts per request, the first included.
        timeout: seconds to wait for a connection or a response before retrying.

    Examples:
        >>> GCSResource(project="analytics", gcp_credentials="eyJ0eXBlIjogIi4uLiJ9")
        GCSResource(project='analytics', gcp_credentials='**********')
    """

    secret_fields: ClassVar[frozenset[str]] = frozenset({"gcp_credentials"})

    project: str | None = None
    gcp_credentials: str | None = None
    endpoint_url: str | None = None
    anonymous: bool = False
    max_attempts: int = Field(default=5, ge=1)
    timeout: float = Field(default=60.0, gt=0)

    def _service_account(self) -> dict[str, Any]:
        assert self.gcp_credentials is not None
        try:
            info: dict[str, Any] = json.loads(base64.b64decode(self.gcp_credentials))
        except ValueError:
            msg = (
                "GCSResource field 'gcp_credentials' must be a service-account key (JSON), "
                "base64-encoded: expected base64 of a JSON object, got something else"
            )
            raise ConfigError(msg, io_manager="GCSResource", expected="base64 JSON") from None
        return info

    def storage_options(self) -> dict[str, Any]:
        """The same settings as ``gcsfs.GCSFileSystem`` arguments (for :func:`gcs_filesystem`)."""
        options: dict[str, Any] = {
            "project": self.project or "", "max_attempts": self.max_attempts,
            "timeout": self.timeout,
        }  # fmt: skip
        if self.endpoint_url:
            options["endpoint_url"] = self.endpoint_url
        if self.anonymous:
            options["token"] = "anon"
        elif self.gcp_credentials:
            options["token"] = self._service_account()
        return options

    def filesystem(self) -> Any:
        """A ``gcsfs.GCSFileSystem`` with these settings and bounded retries."""
        return gcs_filesystem(**self.storage_options())

    def get_client(self) -> Any:
        """A ``google.cloud.storage.Client``, as dagster-gcp's ``GCSResource.get_client()``."""
        _gcsfs()  # the gcs extra, which brings google-cloud-storage
        storage = require("google.cloud.storage", purpose="GCSResource.get_client")
        kwargs: dict[str, Any] = {"project": self.project}
        if self.endpoint_url:
            kwargs["client_options"] = {"api_endpoint": self.endpoint_url}
        if self.anonymous:
            kwargs["credentials"] = require("google.auth.credentials").AnonymousCredentials()
        elif self.gcp_credentials:
            service_account = require("google.oauth2.service_account")
            info = self._service_account()
            kwargs["credentials"] = service_account.Credentials.from_service_account_info(info)
        return storage.Client(**kwargs)


class GCSPickleIOManager(BlobIOManagerFactory):
    """Stores assets under ``gs://<gcs_bucket>/<gcs_prefix>/``: tables as Parquet, the rest pickled.

    Args:
        gcs: the :class:`GCSResource` with the project and credentials.
        gcs_bucket: the bucket.
        gcs_prefix: the object name prefix (Dagster's default, ``dagster``).

    Examples:
        >>> GCSPickleIOManager(gcs=GCSResource(project="p"), gcs_bucket="lake")
        GCSPickleIOManager(gcs=GCSResource(project='p'), gcs_bucket='lake', gcs_prefix='dagster')
    """

    gcs: GCSResource = Field(default_factory=GCSResource)
    gcs_bucket: str
    gcs_prefix: str = "dagster"

    def create_io_manager(self, context: InitResourceContext) -> ParquetOrPickleIOManager:
        return self.manager_below("gs", (self.gcs_bucket, self.gcs_prefix.strip("/")), self.gcs)


# -- Dagster's function-style definitions ----------------------------------------------------

#: Dagster's ``gcs_resource``: a ``google.cloud.storage`` client, from :class:`GCSResource`'s
#: fields
gcs_resource = resource_from("wharf.gcs:GCSResource", name="gcs_resource", value="get_client")

#: Dagster's ``gcs_pickle_io_manager`` (config ``gcs_bucket``, ``gcs_prefix``; requires ``gcs``)
gcs_pickle_io_manager = io_manager_from(
    "wharf.gcs:GCSPickleIOManager", name="gcs_pickle_io_manager", resources={"gcs": "gcs"}
)
