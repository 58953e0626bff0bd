"""Amazon S3 (and S3-compatible stores): a resource and the Dagster-named pickle I/O manager.

``S3Resource`` takes dagster-aws's field names, so existing definitions move over unchanged;
``get_client()`` returns a boto3 client as in Dagster, ``filesystem()`` an s3fs filesystem.
``S3PickleIOManager`` stores under ``s3://<s3_bucket>/<s3_prefix>/<asset key>``: tables as
Parquet at ``<key>.parquet``, every other value pickled at ``<key>`` (it also loads the plain
pickles Dagster's manager wrote there). For any URL, use
:class:`~wharf._io.object_store.ObjectStoreIOManager` (``base_path="s3://bucket/prefix"``).

Writes are published by one final PUT (or multipart completion), so a failed write leaves the
previous object. Each request is retried ``max_attempts`` times in botocore's ``standard`` mode
(5xx, timeouts, throttling, dropped connections), then fails with a
:class:`~wharf.errors.StorageError` naming the asset, the URL and the last error.

boto3 and s3fs are imported on first use: ``pip install 'wharf[s3]'``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

from pydantic import Field

from wharf._core.config import InitResourceContext
from wharf._deps import require
from wharf._io.legacy import io_manager_from, resource_from
from wharf._io.object_clients import MaskedSecrets
from wharf._io.object_store import BlobIOManagerFactory, ParquetOrPickleIOManager

__all__ = [
    "ConfigurablePickledObjectS3IOManager",
    "S3PickleIOManager",
    "S3Resource",
    "abort_abandoned_uploads",
    "s3_filesystem",
    "s3_pickle_io_manager",
    "s3_resource",
]


@cache
def _bounded_class() -> type:
    s3fs = require("s3fs", purpose="S3 storage")

    class BoundedS3FileSystem(s3fs.S3FileSystem):  # type: ignore[misc,name-defined]
        """s3fs whose own retry loop makes one pass: botocore's retries are the only ones."""

        retries = 1

    return BoundedS3FileSystem


def s3_filesystem(*, max_attempts: int = 5, timeout: float = 60.0, **options: Any) -> Any:
    """An ``s3fs.S3FileSystem`` whose requests are tried at most ``max_attempts`` times.

    Retries are botocore's ``standard`` mode (exponential back-off with jitter, for 5xx,
    throttling, timeouts and dropped connections); s3fs's own retry loop makes one pass so the
    two do not multiply. ``timeout`` bounds connecting and each read. Listings are not cached,
    so objects written elsewhere are seen at once. ``options`` are ``s3fs.S3FileSystem``
    arguments (``key``, ``secret``, ``endpoint_url``, ``client_kwargs``, ...); equal options
    share one filesystem (and its connections), as fsspec does.
    """
    config = dict(options.pop("config_kwargs", None) or {})
    config.setdefault("retries", {"max_attempts": max_attempts, "mode": "standard"})
    config.setdefault("connect_timeout", timeout)
    config.setdefault("read_timeout", timeout)
    options.setdefault("use_listings_cache", False)
    fs = _bounded_class()(config_kwargs=config, **options)
    # botocore's standard mode sleeps up to min(20, 2**n) s before retry n
    backoff = sum(min(20.0, 2.0**n) for n in range(1, max_attempts))
    fs.wharf_retry_budget = max_attempts * timeout + backoff
    return fs


_LOG = logging.getLogger("wharf.s3")


def abort_abandoned_uploads(fs: Any, prefix: str, idle_limit: Callable[[int], float]) -> list[str]:
    """Abort the unfinished multipart uploads below ``prefix`` (``bucket/key prefix``) that
    received no part for longer than ``idle_limit(largest part in bytes)`` seconds, measured
    by the server's clock (its ``Date`` header), so the client's clock does not matter.

    A writer killed in the middle of a multipart upload (``kill -9``, a lost machine) leaves
    its parts in the bucket, billed and invisible, until someone aborts the upload; a live
    writer adds a part at least every ``idle_limit`` seconds, so its upload is kept. Returns
    the keys whose uploads were aborted.
    """
    from email.utils import parsedate_to_datetime

    bucket, _, keys = prefix.partition("/")
    keys = keys.strip("/") + "/" if keys.strip("/") else ""
    listing: dict[str, Any] = {"Bucket": bucket, "Prefix": keys}
    aborted: list[str] = []
    while True:
        page = fs.call_s3("list_multipart_uploads", **listing)
        now = parsedate_to_datetime(page["ResponseMetadata"]["HTTPHeaders"]["date"])
        for upload in page.get("Uploads", []):
            key, upload_id = upload["Key"], upload["UploadId"]
            parts = _parts(fs, bucket, key, upload_id)
            last = max([upload["Initiated"], *(p["LastModified"] for p in parts)])
            largest = max((int(p.get("Size", 0)) for p in parts), default=0)
            idle = (now - last).total_seconds()
            if idle > idle_limit(largest):
                fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)
                aborted.append(key)
                _LOG.info(
                    "aborted the unfinished multipart upload of s3://%s/%s (%d parts, no new "
                    "part for %.0f s: its writer is gone)", bucket, key, len(parts), idle,
                )  # fmt: skip
        if not page.get("IsTruncated"):
            return aborted
        listing.update(KeyMarker=page["NextKeyMarker"], UploadIdMarker=page["NextUploadIdMarker"])


def _parts(fs: Any, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]]:
    """Every part uploaded so far (``list_parts`` answers 1,000 at a time)."""
    found: list[dict[str, Any]] = []
    marker = 0
    while True:
        page = fs.call_s3(
            "list_parts", Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
        )
        found.extend(page.get("Parts", []))
        if not page.get("IsTruncated"):
            return found
        marker = page["NextPartNumberMarker"]


class S3Resource(MaskedSecrets):
    """Access to S3 with dagster-aws's configuration fields.

    Args:
        region_name: the region; by default boto's chain (``AWS_DEFAULT_REGION``, profile).
        endpoint_url: a custom endpoint (MinIO, moto, ...); ``AWS_ENDPOINT_URL`` also works.
        profile_name: a profile from ``~/.aws/credentials``.
        aws_access_key_id: access key; by default boto's credential chain.
        aws_secret_access_key: secret key (use an :class:`~wharf.EnvVar`).
        aws_session_token: session token for temporary credentials.
        use_unsigned_session: anonymous, unsigned requests (public buckets).
        use_ssl: use HTTPS.
        verify: verify TLS certificates; or a path to a CA bundle.
        max_attempts: attempts per request, the first included (botocore ``standard`` retries).
        timeout: seconds to wait for a connection or a response before retrying (wharf only).

    Examples:
        >>> S3Resource(region_name="eu-west-1", aws_secret_access_key="abc")
        S3Resource(region_name='eu-west-1', aws_secret_access_key='**********')
    """

    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
    )

    use_unsigned_session: bool = False
    region_name: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = Field(default=5, ge=1)
    profile_name: str | None = None
    use_ssl: bool = True
    verify: bool | str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    timeout: float = Field(default=60.0, gt=0)

    def get_client(self) -> Any:
        """A boto3 S3 client, as dagster-aws's ``S3Resource.get_client()`` returns."""
        require("s3fs", purpose="S3Resource.get_client")  # the s3 extra, which brings boto3
        boto3 = require("boto3", purpose="S3Resource.get_client")
        botocore_config = require("botocore.config", purpose="S3Resource.get_client")
        extra: dict[str, Any] = {}
        if self.use_unsigned_session:
            extra["signature_version"] = require("botocore").UNSIGNED
        config = botocore_config.Config(
            retries={"max_attempts": self.max_attempts, "mode": "standard"},
            connect_timeout=self.timeout, read_timeout=self.timeout, **extra,
        )  # fmt: skip
        session = boto3.session.Session(profile_name=self.profile_name)
        return session.client(
            "s3", region_name=self.region_name, endpoint_url=self.endpoint_url,
            use_ssl=self.use_ssl, verify=self.verify, config=config,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
        )  # fmt: skip

    def storage_options(self) -> dict[str, Any]:
        """The same settings as ``s3fs.S3FileSystem`` arguments (for :func:`s3_filesystem`)."""
        client: dict[str, Any] = {}
        if self.region_name:
            client["region_name"] = self.region_name
        if self.verify is not None:
            client["verify"] = self.verify
        options: dict[str, Any] = {
            "anon": self.use_unsigned_session, "use_ssl": self.use_ssl, "client_kwargs": client,
            "max_attempts": self.max_attempts, "timeout": self.timeout,
        }  # fmt: skip
        given = {
            "endpoint_url": self.endpoint_url, "profile": self.profile_name,
            "key": self.aws_access_key_id, "secret": self.aws_secret_access_key,
            "token": self.aws_session_token,
        }  # fmt: skip
        options.update({name: value for name, value in given.items() if value is not None})
        return options

    def filesystem(self) -> Any:
        """An ``s3fs.S3FileSystem`` with these settings and bounded retries."""
        return s3_filesystem(**self.storage_options())


class S3PickleIOManager(BlobIOManagerFactory):
    """Stores assets under ``s3://<s3_bucket>/<s3_prefix>/``: tables as Parquet, the rest pickled.

    Args:
        s3_resource: the :class:`S3Resource` with the endpoint and credentials.
        s3_bucket: the bucket.
        s3_prefix: the key prefix (Dagster's default, ``dagster``).

    Examples:
        >>> S3PickleIOManager(s3_resource=S3Resource(), s3_bucket="lake", s3_prefix="raw")
        S3PickleIOManager(s3_resource=S3Resource(), s3_bucket='lake', s3_prefix='raw')
    """

    s3_resource: S3Resource = Field(default_factory=S3Resource)
    s3_bucket: str
    s3_prefix: str = "dagster"

    def create_io_manager(self, context: InitResourceContext) -> ParquetOrPickleIOManager:
        parts = (self.s3_bucket, self.s3_prefix.strip("/"))
        return self.manager_below("s3", parts, self.s3_resource)


class ConfigurablePickledObjectS3IOManager(S3PickleIOManager):
    """Dagster's older name for :class:`S3PickleIOManager`."""


# -- Dagster's function-style definitions ----------------------------------------------------

#: Dagster's ``s3_resource``: a boto3 S3 client, configured with :class:`S3Resource`'s fields
s3_resource = resource_from("wharf.s3:S3Resource", name="s3_resource", value="get_client")

#: Dagster's ``s3_pickle_io_manager`` (config ``s3_bucket``, ``s3_prefix``; requires ``s3``)
s3_pickle_io_manager = io_manager_from(
    "wharf.s3:S3PickleIOManager", name="s3_pickle_io_manager", resources={"s3_resource": "s3"}
)
