"""Azure Data Lake Storage Gen2 / Blob Storage: a resource and the Dagster-named I/O manager.

``ADLS2Resource`` takes dagster-azure's fields (``storage_account`` and a ``credential`` that is
an :class:`ADLS2Key`, :class:`ADLS2SASToken` or :class:`ADLS2DefaultAzureCredential`), plus an
``endpoint_url`` for Azurite or another endpoint. ``ConfigurablePickledObjectADLS2IOManager``
(also ``ADLS2PickleIOManager``) stores under ``abfs://<file system>/<prefix>/<asset key>``:
tables as Parquet at ``<key>.parquet``, every other value pickled at ``<key>`` (it also loads
the plain pickles Dagster's manager wrote). For any URL, use
:class:`~wharf._io.object_store.ObjectStoreIOManager` (``abfs://container/prefix``).

Objects go through the Blob API (adlfs), which works on accounts with or without the
hierarchical namespace. A blob is published by one PUT, or by committing its block list after
every block is staged, so a failed write leaves the previous blob; no lease is needed (Dagster's
``lease_duration`` is accepted and unused). Each request is retried at most ``max_attempts``
times with exponential back-off (Azure's default waits 15 s, then 18 s, then 24 s), then fails
with a :class:`~wharf.errors.StorageError` naming the asset, the URL and the last error.

adlfs is imported on first use: ``pip install 'wharf[adls2]'``.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from wharf._core.config import InitResourceContext
from wharf._deps import require
from wharf._io.legacy import io_manager_from, resource_from
from wharf._io.object_clients import MaskedSecrets
from wharf._io.object_store import BlobIOManagerFactory, ParquetOrPickleIOManager

__all__ = [
    "ADLS2DefaultAzureCredential",
    "ADLS2Key",
    "ADLS2PickleIOManager",
    "ADLS2Resource",
    "ADLS2SASToken",
    "ConfigurablePickledObjectADLS2IOManager",
    "adls2_pickle_io_manager",
    "adls2_resource",
    "azure_filesystem",
]


@cache
def _bounded_class() -> type:
    adlfs = require("adlfs", purpose="Azure storage")
    from azure.storage.blob.aio import BlobServiceClient, ExponentialRetry

    class BoundedAzureBlobFileSystem(adlfs.AzureBlobFileSystem):  # type: ignore[misc,name-defined]
        """adlfs whose client retries ``max_attempts`` times and may use any account URL."""

        def __init__(
            self, *args: Any, account_url: str | None = None, max_attempts: int = 5,
            timeout: float = 60.0, client_kwargs: dict[str, Any] | None = None, **kwargs: Any,
        ) -> None:  # fmt: skip
            self._wharf_account_url = account_url
            self._wharf_client_kwargs = {
                **(client_kwargs or {}),
                "retry_policy": ExponentialRetry(
                    initial_backoff=0, increment_base=2, retry_total=max_attempts - 1,
                    random_jitter_range=1,
                ),
                "connection_timeout": timeout,
                "read_timeout": timeout,
            }  # fmt: skip
            super().__init__(*args, **kwargs)

        def do_connect(self) -> None:
            kwargs = self._wharf_client_kwargs
            if self.connection_string:
                self.service_client = BlobServiceClient.from_connection_string(
                    self.connection_string, **kwargs
                )
                return
            url = self._wharf_account_url or f"https://{self.account_name}.blob.core.windows.net"
            credential: Any = self.credential
            if credential is None and self.account_key:
                credential = {"account_name": self.account_name, "account_key": self.account_key}
            if credential is None and self.sas_token:
                credential = self.sas_token.lstrip("?")
            self.service_client = BlobServiceClient(url, credential=credential, **kwargs)

    return BoundedAzureBlobFileSystem


def azure_filesystem(*, max_attempts: int = 5, timeout: float = 60.0, **options: Any) -> Any:
    """An ``adlfs.AzureBlobFileSystem`` whose requests are tried at most ``max_attempts`` times.

    ``timeout`` bounds connecting and each read; listings are not cached. ``options`` are
    adlfs arguments (``account_name``, ``account_key``, ``sas_token``, ``credential``,
    ``connection_string``), ``account_url`` for an endpoint such as Azurite's
    ``http://127.0.0.1:10000/devstoreaccount1``, and ``client_kwargs`` for the
    ``BlobServiceClient`` (``max_single_put_size``, ``max_block_size``, ...). Equal options
    share one filesystem (and its connections), as fsspec does.
    """
    options.setdefault("use_listings_cache", False)
    fs = _bounded_class()(max_attempts=max_attempts, timeout=timeout, **options)
    backoff = sum(2.0**n + 1 for n in range(1, max_attempts))  # ExponentialRetry below
    fs.wharf_retry_budget = max_attempts * timeout + backoff
    return fs


class ADLS2SASToken(MaskedSecrets):
    """A shared access signature.

    Examples:
        >>> ADLS2SASToken(token="sv=2024&sig=abc")
        ADLS2SASToken(token='**********')
    """

    secret_fields: ClassVar[frozenset[str]] = frozenset({"token"})
    credential_type: Literal["sas"] = "sas"
    token: str


class ADLS2Key(MaskedSecrets):
    """The storage account's access key.

    Examples:
        >>> ADLS2Key(key="c2VjcmV0")
        ADLS2Key(key='**********')
    """

    secret_fields: ClassVar[frozenset[str]] = frozenset({"key"})
    credential_type: Literal["key"] = "key"
    key: str


class ADLS2DefaultAzureCredential(MaskedSecrets):
    """``azure.identity.DefaultAzureCredential`` (environment, managed identity, CLI, ...).

    Examples:
        >>> ADLS2DefaultAzureCredential(kwargs={"exclude_cli_credential": True})
        ADLS2DefaultAzureCredential(kwargs={'exclude_cli_credential': True})
    """

    credential_type: Literal["default_azure_credential"] = "default_azure_credential"
    kwargs: dict[str, Any] = Field(default_factory=dict)


Credential = Annotated[
    ADLS2SASToken | ADLS2Key | ADLS2DefaultAzureCredential, Field(discriminator="credential_type")
]


class ADLS2Resource(MaskedSecrets):
    """Access to an Azure storage account with dagster-azure's configuration fields.

    Args:
        storage_account: the account name.
        credential: :class:`ADLS2Key`, :class:`ADLS2SASToken` or
            :class:`ADLS2DefaultAzureCredential`.
        endpoint_url: the blob endpoint, when not ``https://<account>.blob.core.windows.net``
            (Azurite: ``http://127.0.0.1:10000/devstoreaccount1``).
        max_attempts: attempts per request, the first included.
        timeout: seconds to wait for a connection or a response before retrying.

    Examples:
        >>> ADLS2Resource(storage_account="lake", credential=ADLS2Key(key="c2VjcmV0"))
        ADLS2Resource(storage_account='lake', credential=ADLS2Key(key='**********'))
    """

    storage_account: str
    credential: Credential
    endpoint_url: str | None = None
    max_attempts: int = Field(default=5, ge=1)
    timeout: float = Field(default=60.0, gt=0)

    def storage_options(self) -> dict[str, Any]:
        """The same settings as adlfs arguments (for :func:`azure_filesystem`)."""
        options: dict[str, Any] = {
            "account_name": self.storage_account, "max_attempts": self.max_attempts,
            "timeout": self.timeout,
        }  # fmt: skip
        if self.endpoint_url:
            options["account_url"] = self.endpoint_url.rstrip("/")
        cred = self.credential
        if isinstance(cred, ADLS2Key):
            options["account_key"] = cred.key
        elif isinstance(cred, ADLS2SASToken):
            options["sas_token"] = cred.token
        else:
            identity = require("azure.identity.aio", purpose="ADLS2DefaultAzureCredential")
            options["credential"] = identity.DefaultAzureCredential(**cred.kwargs)
        return options

    def secret_values(self) -> list[str]:
        return self.credential.secret_values()

    def filesystem(self) -> Any:
        """An ``adlfs.AzureBlobFileSystem`` with these settings and bounded retries."""
        return azure_filesystem(**self.storage_options())

    @property
    def account_url(self) -> str:
        return (
            self.endpoint_url or f"https://{self.storage_account}.blob.core.windows.net"
        ).rstrip("/")

    def _sync_credential(self) -> Any:
        cred = self.credential
        if isinstance(cred, ADLS2Key):
            return {"account_name": self.storage_account, "account_key": cred.key}
        if isinstance(cred, ADLS2SASToken):
            return cred.token.lstrip("?")
        identity = require("azure.identity", purpose="ADLS2DefaultAzureCredential")
        return identity.DefaultAzureCredential(**cred.kwargs)

    @property
    def blob_client(self) -> Any:
        """An ``azure.storage.blob.BlobServiceClient`` for the account, as in dagster-azure."""
        require("adlfs", purpose="ADLS2Resource.blob_client")  # the adls2 extra
        blob = require("azure.storage.blob", purpose="ADLS2Resource.blob_client")
        return blob.BlobServiceClient(self.account_url, credential=self._sync_credential())


class ADLS2PickleIOManager(BlobIOManagerFactory):
    """Stores assets under ``abfs://<adls2_file_system>/<adls2_prefix>/``: tables as Parquet,
    the rest pickled.

    Args:
        adls2: the :class:`ADLS2Resource` with the account and credential.
        adls2_file_system: the file system (container).
        adls2_prefix: the path prefix (Dagster's default, ``dagster``).
        lease_duration: accepted for compatibility with Dagster; unused (uploads commit
            atomically without a lease).

    Examples:
        >>> res = ADLS2Resource(storage_account="lake", credential=ADLS2SASToken(token="sig"))
        >>> io = ADLS2PickleIOManager(adls2=res, adls2_file_system="raw", adls2_prefix="p")
        >>> io.adls2
        ADLS2Resource(storage_account='lake', credential=ADLS2SASToken(token='**********'))
    """

    adls2: ADLS2Resource
    adls2_file_system: str
    adls2_prefix: str = "dagster"
    lease_duration: int = 60

    def create_io_manager(self, context: InitResourceContext) -> ParquetOrPickleIOManager:
        parts = (self.adls2_file_system, self.adls2_prefix.strip("/"))
        return self.manager_below("abfs", parts, self.adls2)


class ConfigurablePickledObjectADLS2IOManager(ADLS2PickleIOManager):
    """Dagster's older name for :class:`ADLS2PickleIOManager`."""


# -- Dagster's function-style definitions ----------------------------------------------------


def _legacy_credential(fields: dict[str, Any]) -> dict[str, Any]:
    """dagster-azure's ``credential: {sas: ...} | {key: ...} | {DefaultAzureCredential: {...}}``
    as :class:`ADLS2Resource`'s fields."""
    given = fields.get("credential")
    if isinstance(given, dict) and len(given) == 1 and "credential_type" not in given:
        ((kind, value),) = given.items()
        forms = {
            "sas": {"credential_type": "sas", "token": value},
            "key": {"credential_type": "key", "key": value},
            "DefaultAzureCredential": {"credential_type": "default_azure_credential",
                                       "kwargs": value or {}},
        }  # fmt: skip
        fields = {**fields, "credential": forms.get(kind, given)}
    return fields


#: Dagster's ``adls2_resource`` (config ``storage_account``, ``credential``)
adls2_resource = resource_from("wharf.adls2:ADLS2Resource", name="adls2_resource",
                               adapt=_legacy_credential)  # fmt: skip

#: Dagster's ``adls2_pickle_io_manager`` (config ``adls2_file_system``, ``adls2_prefix``;
#: requires ``adls2``)
adls2_pickle_io_manager = io_manager_from(
    "wharf.adls2:ADLS2PickleIOManager", name="adls2_pickle_io_manager", resources={"adls2": "adls2"}
)
