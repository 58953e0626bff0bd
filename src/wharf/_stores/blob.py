"""Blob stores: each value's bytes at a path, every write atomic (the :class:`BlobStore` protocol).

The Parquet-or-pickle I/O managers (:mod:`wharf._io.object_store`) store through one of these and
never ask where the bytes go; :func:`blob_store_for` is the one place that chooses:

- :class:`LocalBlobStore`, a folder on this machine: ``put`` writes a temp file beside the target
  (named with the writer's PID, so a later write removes what a killed writer left) and
  ``os.replace``-s it over the target, atomic on one file system.
- :class:`FsspecBlobStore`, any fsspec filesystem (S3, GCS, Azure, ``memory://``, ...): ``put``
  writes a local :class:`~wharf._stores.spool.Spool` and publishes it with one upload, which
  becomes visible only when it completes (see :mod:`wharf._io.object_store` for why nothing
  streams into the final object).

Paths are universal-pathlib paths below the store's base. A store raises its client's own
exceptions (:meth:`BlobStore.errors`); the manager that knows the asset turns them into one
:class:`~wharf.errors.StorageError` with :meth:`BlobStore.error`.

Examples:
    >>> import tempfile
    >>> from upath import UPath
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     store = blob_store_for(UPath(tmp))
    ...     path = UPath(tmp) / "a" / "b"
    ...     _, size = store.put(path, lambda p: p.write_bytes(b"abc"))
    ...     store.get(path), size, store.find(UPath(tmp))
    (b'abc', 3, ['a/b'])
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from wharf.errors import StorageError, WharfError

__all__ = [
    "MASK",
    "BlobStore",
    "FsspecBlobStore",
    "LocalBlobStore",
    "UploadPolicy",
    "blob_store_for",
    "check_local_path",
    "client_errors",
    "local_path",
    "name_limits",
]

T = TypeVar("T")
MASK = "**********"

#: errors of a path that cannot hold the value: name too long, a file or folder in the way
_PATH_ERRORS = frozenset({errno.ENAMETOOLONG, errno.EISDIR, errno.ENOTDIR, errno.EEXIST})
#: lazy and projected reads: read ahead in 8 MiB blocks (s3fs would fetch 50 MiB per miss)
_RANGED: dict[str, Any] = {"cache_type": "readahead", "block_size": 8 * 2**20}


class BlobStore(Protocol):
    """Whole values as bytes at paths; what the Parquet-or-pickle managers store through.

    A missing value is ``FileNotFoundError`` from :meth:`get` and :meth:`open`; every other
    failure is one of :meth:`errors`, for the caller to translate with :meth:`error`.
    """

    #: the folder the values are in when they are on this machine's disk (its names then
    #: follow that file system: case folding, length limits); None for an object store
    local_root: Path | None

    def put(
        self, path: Any, write: Callable[[Any], T], *, real_file: bool = False
    ) -> tuple[T, int]:
        """Call ``write(p)`` with something to write the value to (``p.open("wb")``; a real
        local file when ``real_file``), then make it the value at ``path`` in one step: readers
        see the old value or the whole new one, never part. Returns ``write``'s result and the
        bytes stored."""

    def get(self, path: Any) -> bytes:
        """The whole value at ``path``, in one read (one request)."""

    def open(self, path: Any) -> Any:
        """The value at ``path`` as a seekable binary file read in ranges (only what is read
        is fetched)."""

    def exists(self, path: Any) -> bool:
        """Whether a value (a file, not a folder) is at ``path``."""

    def delete(self, path: Any) -> bool | None:
        """Remove the value at ``path`` if one is there (a folder there is kept); True if one
        was removed, False if none was there, None if the store cannot tell without asking
        again."""

    def find(self, path: Any) -> list[str]:
        """The values below the folder ``path`` (at any depth), as ``/``-joined paths relative
        to it; ``[]`` if there is no such folder."""

    def check(self, path: Any, *, asset: str, manager: str) -> None:
        """Refuse, before anything is written, a ``path`` this store cannot hold."""

    def location(self, path: Any) -> str:
        """The URL of ``path`` (``file://`` on the local disk)."""

    def shown(self, path: Any) -> str:
        """``path`` as messages and the ``path`` metadata show it."""

    def arrow(self, paths: Iterable[Any]) -> tuple[Any, list[str]]:
        """A ``pyarrow.fs`` filesystem and the paths on it, to read ``paths`` as one dataset."""

    def errors(self) -> tuple[type[BaseException], ...]:
        """What this store's client raises for a failed request."""

    def error(
        self, action: str, path: Any, exc: BaseException, *, asset: str, manager: str
    ) -> StorageError:
        """The error for ``action`` (``upload``, ``download``, ...) on ``path`` that failed
        with ``exc``, naming the asset and the manager."""


class UploadPolicy(Protocol):
    """How an object store's uploads are tuned (the manager's settings)."""

    #: values up to this size are spooled in memory before their upload, larger ones on disk
    spool_in_memory: int
    #: extra keyword arguments for the filesystem's ``put_file`` / ``pipe_file``
    upload_options: dict[str, Any]
    #: bytes per second an upload must at least achieve (its deadline counts on it)
    min_upload_rate: float

    def upload_deadline(self, fs: Any, size: int) -> float:
        """Seconds an upload of ``size`` bytes may take in all, retries included."""

    def after_upload(self, fs: Any) -> None:
        """Called after each successful upload (to clean up what killed writers left)."""


def local_path(path: Any) -> Path:
    """A local path (a pathlib path, or a ``file://`` / plain UPath) as a pathlib ``Path``."""
    return Path(path.path) if hasattr(path, "protocol") else Path(path)


def _is_local(path: Any) -> bool:
    if isinstance(path, Path):
        return True
    return getattr(path, "protocol", None) in ("", "file", "local")


def blob_store_for(
    base: Any, filesystem: Any = None, *, secrets: Iterable[str] = (), policy: Any = None
) -> BlobStore:
    """The blob store for values below ``base`` (a UPath): local disk or ``filesystem`` (by
    default the one universal-pathlib picks for the URL). The one place that tells them apart."""
    if _is_local(base):
        return LocalBlobStore(base)
    fs = filesystem if filesystem is not None else base.fs
    return FsspecBlobStore(fs, protocol=base.protocol, secrets=secrets, policy=policy)


# -- the local disk ---------------------------------------------------------------------------
class LocalBlobStore:
    """Values as files below a local folder; a write is a temp file beside its target, renamed
    over it."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self.local_root: Path | None = local_path(base)

    def put(
        self, path: Any, write: Callable[[Any], T], *, real_file: bool = False
    ) -> tuple[T, int]:
        from wharf._stores.spool import sweep_folder

        # the temp name keeps a name near the file system's limit from overflowing it; the
        # writer's PID in it lets a later write remove what a killed writer left behind
        stem = f".{path.name[:100]}.wharf-"
        tmp = path.with_name(f"{stem}{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
        target = local_path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            sweep_folder(target.parent)
            result = write(tmp)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):  # the error to report is the first one
                local_path(tmp).unlink(missing_ok=True)
        return result, os.path.getsize(target)

    def get(self, path: Any) -> bytes:
        return local_path(path).read_bytes()

    def open(self, path: Any) -> Any:
        return local_path(path).open("rb")

    def exists(self, path: Any) -> bool:
        return local_path(path).is_file()

    def delete(self, path: Any) -> bool:
        target = local_path(path)
        try:
            if target.is_file():  # a folder there holds other assets' values (keys below)
                target.unlink()
                return True
        except OSError as exc:  # a name too long to exist holds nothing
            if exc.errno != errno.ENAMETOOLONG:
                raise
        return False

    def find(self, path: Any) -> list[str]:
        root = local_path(path)
        found: list[str] = []
        for folder, _, files in os.walk(root):
            rel = os.path.relpath(folder, root)
            prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            found.extend(prefix + f for f in files)
        return sorted(found)

    def check(self, path: Any, *, asset: str, manager: str) -> None:
        assert self.local_root is not None
        check_local_path(manager, asset, self.local_root, local_path(path))

    def location(self, path: Any) -> str:
        if str(path).startswith("file:"):
            return str(path)
        return local_path(path).absolute().as_uri()

    def shown(self, path: Any) -> str:
        return str(path)

    def arrow(self, paths: Iterable[Any]) -> tuple[Any, list[str]]:
        from wharf._deps import require

        fs = require("pyarrow.fs", purpose="reading partitions as one dataset")
        return fs.LocalFileSystem(), [str(local_path(p)) for p in paths]

    def errors(self) -> tuple[type[BaseException], ...]:
        return (OSError,)

    def error(
        self, action: str, path: Any, exc: BaseException, *, asset: str, manager: str
    ) -> StorageError:
        """A value that cannot be written at ``path``: a name too long, another asset in the
        way, or the file system's own error (no space left, read-only)."""
        code = getattr(exc, "errno", None)
        strerror = getattr(exc, "strerror", None) or str(exc)
        if action != "upload":
            why, expected = f"[Errno {code}] {strerror}", f"a readable {path}"
        elif code == errno.ENAMETOOLONG:
            why = "the name is longer than the file system allows (255 bytes per file name)"
            expected = "a shorter asset key or partition key"
        elif code not in _PATH_ERRORS:  # a full disk, a read-only folder, a lost mount
            why = f"[Errno {code}] {strerror}"
            expected = "a file system that accepts the write"
        else:
            why = (
                "another asset's value is in the way (a file where a folder must go, or a "
                "folder of assets whose keys start with this one's where its file must go)"
            )
            expected = "asset keys where no key is the prefix of another's"
        doing = "store" if action == "upload" else action
        tail = "; the previously stored value is unchanged" if action == "upload" else ""
        msg = f"{manager} could not {doing} asset {asset!r} at {path}: {why}{tail}"
        return StorageError(msg, asset=asset, io_manager=manager, expected=expected, got=strerror)


# -- any fsspec filesystem ----------------------------------------------------------------------
class _Defaults:
    """The upload policy of a store made without one (e.g. in tests and docs)."""

    spool_in_memory = 64 * 2**20
    upload_options: dict[str, Any] = {}  # noqa: RUF012  # read only
    min_upload_rate = float(2**20)

    def upload_deadline(self, fs: Any, size: int) -> float:
        return float(getattr(fs, "wharf_retry_budget", 300.0)) + size / self.min_upload_rate

    def after_upload(self, fs: Any) -> None:
        return None


class FsspecBlobStore:
    """Values as objects on an fsspec filesystem; a write is spooled locally, then uploaded in
    one ``pipe_file`` / ``put_file``."""

    local_root: Path | None = None

    def __init__(
        self,
        fs: Any,
        *,
        protocol: str = "",
        secrets: Iterable[str] = (),
        policy: UploadPolicy | None = None,
    ) -> None:
        self.fs = fs
        self.protocol = protocol
        self.secrets = tuple(s for s in secrets if s)
        self.policy: UploadPolicy = policy if policy is not None else _Defaults()

    def put(
        self, path: Any, write: Callable[[Any], T], *, real_file: bool = False
    ) -> tuple[T, int]:
        from wharf._stores.spool import Spool

        spool = Spool(0 if real_file else self.policy.spool_in_memory)
        try:
            result = write(spool.path() if real_file else spool)
            size = spool.size()
            self._upload(spool, path.path, self.policy.upload_deadline(self.fs, size))
        finally:
            spool.discard()
        self.policy.after_upload(self.fs)
        return result, size

    def _upload(self, spool: Any, rpath: str, deadline: float) -> None:
        options = self.policy.upload_options
        if not getattr(self.fs, "async_impl", False):  # only fsspec's async clients take one
            spool.upload(self.fs, rpath, **options)
            return
        from fsspec.exceptions import FSTimeoutError

        try:
            spool.upload(self.fs, rpath, timeout=deadline, **options)
        except FSTimeoutError as exc:
            rate = self.policy.min_upload_rate / 2**20
            msg = (
                f"the upload did not finish within its deadline of {deadline:.1f} s (the "
                f"client's retry budget, plus the size at {rate:g} MiB/s)"
            )
            raise TimeoutError(msg) from exc

    def get(self, path: Any) -> bytes:
        return bytes(self.fs.cat_file(path.path))

    def open(self, path: Any) -> Any:
        return self.fs.open(path.path, "rb", **_RANGED)

    def exists(self, path: Any) -> bool:
        return bool(self.fs.isfile(path.path))

    def delete(self, path: Any) -> None:
        with contextlib.suppress(FileNotFoundError):  # one DELETE; no HEAD first
            self.fs.rm_file(path.path)

    def find(self, path: Any) -> list[str]:
        root = path.path.rstrip("/") + "/"
        try:
            listed = self.fs.find(root)
        except FileNotFoundError:
            return []
        return sorted(str(n)[len(root) :] for n in listed if str(n).startswith(root))

    def check(self, path: Any, *, asset: str, manager: str) -> None:
        return None

    def location(self, path: Any) -> str:
        return str(path)

    def shown(self, path: Any) -> str:
        return str(path)

    def arrow(self, paths: Iterable[Any]) -> tuple[Any, list[str]]:
        from wharf._deps import require

        fs = require("pyarrow.fs", purpose="reading partitions as one dataset")
        return fs.PyFileSystem(fs.FSSpecHandler(self.fs)), [p.path for p in paths]

    def errors(self) -> tuple[type[BaseException], ...]:
        return client_errors()

    def error(
        self, action: str, path: Any, exc: BaseException, *, asset: str, manager: str
    ) -> StorageError:
        detail = (str(exc).strip().splitlines() or [""])[0] or type(exc).__name__
        detail = f"{type(exc).__name__}: {detail}"
        for secret in self.secrets:
            detail = detail.replace(secret, MASK)
        writing = action in ("upload", "delete the stale copy of")
        tail = "; the previously stored value is unchanged" if action == "upload" else ""
        where = self.location(path)
        msg = (
            f"{manager} could not {action} asset {asset!r} at {where} "
            f"(the client's retries are used up): last error {detail}{tail}"
        )
        expected = f"the store to {'accept' if writing else 'serve'} {where}"
        return StorageError(msg, asset=asset, io_manager=manager, expected=expected, got=detail)


def client_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a storage client raises for a failed request (only loaded modules).

    Not ``RuntimeError`` or ``ValueError``: those are bugs (wharf's or a library's), reported as
    they are, never as "the client's retries are used up"."""
    found: list[type[BaseException]] = [OSError, TimeoutError]
    for module, names in (
        ("botocore.exceptions", ("BotoCoreError", "ClientError")),
        ("aiohttp", ("ClientError",)),
        ("gcsfs.retry", ("HttpError", "ChecksumError")),
        ("google.auth.exceptions", ("GoogleAuthError",)),
        ("azure.core.exceptions", ("AzureError",)),
    ):
        loaded = sys.modules.get(module)
        found.extend(getattr(loaded, n) for n in names if hasattr(loaded, n))
    return tuple(found)


# -- what a local path must be ------------------------------------------------------------------
def name_limits(folder: Path) -> tuple[int, int]:
    """``(bytes per file name, bytes per path)`` of the file system ``folder`` is (or would be)
    on."""
    existing = Path(os.path.abspath(folder))
    while not os.path.isdir(existing) and existing != existing.parent:
        existing = existing.parent
    try:
        return os.pathconf(existing, "PC_NAME_MAX"), os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows): its usual limits
        return 255, 260


def check_lengths(
    manager: str, asset: str, path: Path, limits: tuple[int, int], error: type[WharfError]
) -> None:
    """Refuse (with ``error``) a ``path`` longer than ``limits`` allow."""
    name_max, path_max = limits
    full = os.fsencode(os.path.abspath(path))
    longest = max(path.parts, key=lambda p: len(os.fsencode(p)))
    if len(os.fsencode(longest)) > name_max:
        why = (
            f"its file name is {len(os.fsencode(longest))} bytes and the file system allows "
            f"{name_max} bytes per name"
        )
    elif len(full) >= path_max:
        why = f"its path is {len(full)} bytes and the file system allows {path_max - 1}"
    else:
        return
    msg = (
        f"{manager} cannot store asset {asset!r} at {path}: {why}; expected a shorter asset key "
        "or partition key (nothing was written)"
    )
    raise error(msg, asset=asset, io_manager=manager, expected="a shorter name", got=why)


def check_local_path(manager: str, asset: str, base: Path, path: Path) -> None:
    """Before a local write: ``path`` fits the file system, and stays inside ``base`` once
    symlinks are resolved (a symlinked folder inside the storage folder must not lead out)."""
    check_lengths(manager, asset, path, name_limits(base), StorageError)
    root = Path(os.path.realpath(base))
    resolved = Path(os.path.realpath(path.parent))
    if resolved == root or resolved.is_relative_to(root):
        return
    msg = (
        f"{manager} refuses to store asset {asset!r} at {path}: a symlink leads it to "
        f"{resolved}, outside the storage folder {root}; expected every folder below the "
        "storage folder to stay inside it (nothing was written)"
    )
    raise StorageError(
        msg, asset=asset, io_manager=manager, expected=f"a path inside {root}", got=str(resolved)
    )
