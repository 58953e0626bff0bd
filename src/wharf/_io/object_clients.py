"""The clients behind object-store URLs: filesystem builders, their errors, and secret masking.

:data:`FILESYSTEMS` maps a URL scheme to the builder in its store module (bounded retries,
timeouts, no listing cache); :func:`client_errors` lists what those clients raise;
:class:`MaskedSecrets` keeps credentials out of reprs.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from wharf._core.config import ConfigurableResource
from wharf._core.env import EnvVar
from wharf._deps import require
from wharf._stores.blob import MASK, client_errors

__all__ = [
    "ABANDONED_UPLOADS",
    "FILESYSTEMS",
    "MASK",
    "SECRET_OPTIONS",
    "MaskedSecrets",
    "client_errors",
    "filesystem_for",
    "sweep_abandoned_uploads",
]

#: URL scheme -> "module:function" that builds the fsspec filesystem with bounded retries.
FILESYSTEMS: dict[str, str] = {
    "s3": "wharf.s3:s3_filesystem",
    "s3a": "wharf.s3:s3_filesystem",
    "gs": "wharf.gcs:gcs_filesystem",
    "gcs": "wharf.gcs:gcs_filesystem",
    "abfs": "wharf.adls2:azure_filesystem",
    "abfss": "wharf.adls2:azure_filesystem",
    "az": "wharf.adls2:azure_filesystem",
}

#: URL scheme -> "module:function" that aborts the unfinished uploads killed writers left.
#: Only S3 keeps them for ever (and bills them); GCS expires an unfinished resumable upload
#: after a week, Azure drops uncommitted blocks after a week.
ABANDONED_UPLOADS: dict[str, str] = {
    "s3": "wharf.s3:abort_abandoned_uploads",
    "s3a": "wharf.s3:abort_abandoned_uploads",
}
_SWEPT: dict[tuple[str, str], float] = {}  # (protocol, prefix) -> when this process last looked
_LOG = logging.getLogger("wharf.io")

#: storage option names whose values are credentials; never shown in reprs or messages.
SECRET_OPTIONS = frozenset(
    {
        "key", "secret", "token", "password", "credential", "credentials", "account_key",
        "sas_token", "connection_string", "client_secret", "session_token",
        "aws_secret_access_key", "aws_session_token", "aws_access_key_id",
    }
)  # fmt: skip


def filesystem_for(protocol: str, options: Mapping[str, Any]) -> Any:
    """The fsspec filesystem for ``protocol`` (``s3``, ``gs``, ``abfs``, ...).

    Cloud protocols go through wharf's builders (bounded retries, timeouts, no listing cache);
    any other protocol through ``fsspec.filesystem``.

    Examples:
        >>> type(filesystem_for("memory", {})).__name__
        'MemoryFileSystem'
    """
    target = FILESYSTEMS.get(protocol)
    if target is None:
        fsspec = require("fsspec", purpose=f"{protocol}:// paths")
        return fsspec.filesystem(protocol, **options)
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)(**options)


def sweep_abandoned_uploads(
    protocol: str,
    fs: Any,
    prefix: str,
    idle_limit: Callable[[int], float],
    *,
    every: float = 60.0,
) -> None:
    """Abort the unfinished uploads below ``prefix`` that got no part for ``idle_limit(part
    bytes)`` seconds (their writer was killed), at most once a minute per prefix and process.

    Looking is best effort: a client error (say, no permission to list multipart uploads) is
    logged and the write that called this stays successful.
    """
    target = ABANDONED_UPLOADS.get(protocol)
    now = time.monotonic()
    if target is None or now - _SWEPT.get((protocol, prefix), -every) < every:
        return
    _SWEPT[(protocol, prefix)] = now
    module, name = target.split(":")
    try:
        getattr(importlib.import_module(module), name)(fs, prefix, idle_limit)
    except client_errors() as exc:
        _LOG.warning(
            "could not look for abandoned uploads below %s://%s (%s: %s); killed writers' "
            "unfinished uploads stay until a later write", protocol, prefix,
            type(exc).__name__, exc,
        )  # fmt: skip


def _masked(value: Any, secret_names: frozenset[str]) -> Any:
    if isinstance(value, Mapping):
        return {
            k: (MASK if k in secret_names and v is not None and not isinstance(v, EnvVar) else
                _masked(v, secret_names))
            for k, v in value.items()
        }  # fmt: skip
    return value


class MaskedSecrets(ConfigurableResource):
    """A resource whose credential fields (and such keys in dict fields) never show in reprs.

    The repr lists only the fields that were given, not every default.

    Examples:
        >>> class Creds(MaskedSecrets):
        ...     secret_fields = frozenset({"password"})
        ...     user: str
        ...     password: str
        >>> Creds(user="ann", password="hunter2")
        Creds(user='ann', password='**********')
    """

    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def __repr_args__(self) -> Any:
        given = self.model_fields_set
        for name, value in super().__repr_args__():
            if name in type(self).model_fields and name not in given:
                continue
            if name in self.secret_fields and value is not None and not isinstance(value, EnvVar):
                yield name, MASK
            else:
                yield name, _masked(value, SECRET_OPTIONS)

    def secret_values(self) -> list[str]:
        """The resolved values of the secret fields, to scrub from error messages."""
        found = [getattr(self, name, None) for name in self.secret_fields]
        return [str(v) for v in found if v and not isinstance(v, EnvVar)]
