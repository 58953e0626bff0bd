"""Where a value is written before it is published, and the sweeps of what killed writers left.

Objects must not be written by streaming into ``fs.open(url, "wb")`` (an exception there
publishes the partial object, see :mod:`wharf._io.object_store`), so a value is first written
to a :class:`Spool`, then uploaded in one ``pipe_file`` or ``put_file``. A local value is
written to a temp file beside its target and renamed over it. A writer killed in the middle
leaves its spool or temp file behind; the names carry the writer's PID, so a later write
removes those whose process is gone (:func:`sweep_stale`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from wharf._stores.turns import process_alive

__all__ = ["Spool", "sweep_folder", "sweep_stale"]

_LOG = logging.getLogger("wharf")


def sweep_stale(folder: Path, prefix: str, suffix: str, *, marker: str = "") -> None:
    """Remove ``<prefix><pid>-<id><suffix>`` files in ``folder`` whose writer process is gone
    (killed mid-write: ``kill -9`` leaves its temp file); a live writer's file is kept. With a
    ``marker``, the PID follows the marker's last occurrence in the name."""
    try:
        names = [
            n
            for n in os.listdir(folder)
            if n.startswith(prefix) and n.endswith(suffix) and marker in n
        ]
    except OSError:
        return
    for name in names:
        body = name[len(prefix) : -len(suffix)]
        pid = (body.rsplit(marker, 1)[-1] if marker else body).split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            with contextlib.suppress(OSError):
                (folder / name).unlink()
                _LOG.info("removed %s, left by writer process %s that is gone", name, pid)


#: folder -> when its stale temp files were last swept (monotonic seconds)
_SWEPT_FOLDERS: dict[str, float] = {}
_SWEEP_EVERY_S = 60.0


def sweep_folder(folder: Path) -> None:
    """Remove what killed writers left in ``folder`` (any value's temp file), at most once a
    minute per folder: listing a folder of 12,000 partition files before each of 12,000 writes
    would make a range run quadratic."""
    now, key = time.monotonic(), str(folder)
    last = _SWEPT_FOLDERS.get(key)
    if last is not None and now - last < _SWEEP_EVERY_S:
        return
    _SWEPT_FOLDERS[key] = now
    sweep_stale(folder, ".", ".tmp", marker=".wharf-")


_SWEPT: list[float] = []  # when this process last removed killed writers' spool files


def _sweep(every: float = 60.0) -> None:
    """Remove the spool files of writers that were killed (at most once a minute)."""
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
