"""The spool a value is written to before its single upload to an object store.

Objects must not be written by streaming into ``fs.open(url, "wb")`` (an exception there
publishes the partial object, see :mod:`wharf._io.object_store`), so a value is first written
here, then uploaded in one ``pipe_file`` or ``put_file``.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["Spool"]

_SWEPT: list[float] = []  # when this process last removed killed writers' spool files


def _sweep(every: float = 60.0) -> None:
    """Remove the spool files of writers that were killed (at most once a minute)."""
    import time

    from wharf._io.upath import sweep_stale

    now = time.monotonic()
    if _SWEPT and now - _SWEPT[-1] < every:
        return
    _SWEPT[:] = [now]
    sweep_stale(Path(tempfile.gettempdir()), "wharf-", ".spool")


class Spool:
    """Where one value is written before its single upload: a write-only file kept in memory
    up to ``limit`` bytes, then moved to a temporary file (so large tables stream to disk).

    ``open("wb")`` returns the spool itself, which stays open until :meth:`discard`.

    Examples:
        >>> spool = Spool(limit=4)
        >>> with spool.open("wb") as f:
        ...     _ = f.write(b"abc")
        >>> spool.size(), spool._path is None
        (3, True)
        >>> _ = spool.write(b"defgh")  # past the limit: moved to a temp file
        >>> spool.size(), spool._path is not None
        (8, True)
        >>> spool.discard()
    """

    def __init__(self, limit: int) -> None:
        _sweep()
        self.limit = limit
        self.closed = False
        self._memory = io.BytesIO()
        self._disk: Any = None
        self._path: Path | None = None

    def path(self) -> Path:
        """The spool as an empty local file, for code that writes to a path."""
        self._to_disk()
        self._disk.close()
        assert self._path is not None
        return self._path

    def _to_disk(self) -> None:
        if self._path is None:
            fd, name = tempfile.mkstemp(prefix=f"wharf-{os.getpid()}-", suffix=".spool")
            self._path, self._disk = Path(name), os.fdopen(fd, "wb")
            self._disk.write(self._memory.getbuffer())
            self._memory = io.BytesIO()

    # -- the file API that pickle and pyarrow's ParquetWriter use ----------------------------
    def open(self, mode: str = "wb") -> Spool:
        return self

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._path is None and self._memory.tell() + memoryview(data).nbytes > self.limit:
            self._to_disk()
        written: int = (self._memory if self._path is None else self._disk).write(data)
        return written

    def tell(self) -> int:
        return int((self._memory if self._path is None else self._disk).tell())

    def flush(self) -> None:
        if self._path is not None and not self._disk.closed:
            self._disk.flush()

    def close(self) -> None:
        self.flush()

    # -- after writing ----------------------------------------------------------------------
    def size(self) -> int:
        if self._path is None:
            return len(self._memory.getbuffer())
        self.flush()
        return self._path.stat().st_size

    def upload(self, fs: Any, rpath: str, **kwargs: Any) -> None:
        """One ``pipe_file`` (in memory) or ``put_file`` (on disk) to ``rpath``."""
        if self._path is None:
            fs.pipe_file(rpath, self._memory.getvalue(), **kwargs)
        else:
            self._disk.close()
            fs.put_file(str(self._path), rpath, **kwargs)

    def discard(self) -> None:
        self._memory = io.BytesIO()
        if self._path is not None:
            self._disk.close()
            self._path.unlink(missing_ok=True)
