"""First come, first served waits for a database that one process at a time may open.

A DuckDB file is open for writing in one process at a time. Waiters used to retry with
jittered back-off, so under load one writer could lose every race for a long time (16 writers
and readers looping: the slowest wait was 27.4 s of the 30 s lock timeout). Now a wharf process
that finds the database locked takes a *ticket*, a file named ``<time ns>-<pid>-<n>`` in a
folder of the temp dir keyed by the database, and only the oldest ticket tries to open the
database; the others wait their turn. A process that connects while tickets are waiting queues
behind them instead of barging in.

A ticket whose process is gone (killed while waiting) is removed by the next waiter; one not
refreshed for :data:`STALLED` seconds (its process is stopped) is passed over until it is
refreshed again, so nobody waits for ever behind a waiter that does not move.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["STALLED", "Turns", "process_alive"]

#: seconds after which a waiter that has not refreshed its ticket is passed over
STALLED = 2.0
_COUNTER = itertools.count()


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class Turns:
    """The queue of wharf processes waiting for ``key`` (a database's resolved path).

    Examples:
        >>> turns = Turns("/tmp/doc-turns.duckdb")
        >>> turns.waiting()
        False
        >>> with turns.ticket() as first:
        ...     first(), turns.waiting()
        (True, True)
        >>> turns.waiting()
        False
    """

    def __init__(self, key: str) -> None:
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        self.folder = Path(tempfile.gettempdir()) / f"wharf-turns-{digest}"

    def _tickets(self) -> list[str]:
        """The live tickets, oldest first; removes those whose process is gone."""
        try:
            names = sorted(os.listdir(self.folder))
        except OSError:
            return []
        live, now = [], time.time()
        for name in names:
            pid = name.split("-")[1] if name.count("-") == 2 else ""
            if not pid.isdigit() or not process_alive(int(pid)):
                with contextlib.suppress(OSError):
                    (self.folder / name).unlink()
                continue
            with contextlib.suppress(OSError):
                if now - (self.folder / name).stat().st_mtime < STALLED:
                    live.append(name)
        return live

    def waiting(self) -> bool:
        """Whether some process is queued (then a newcomer queues behind it)."""
        return bool(self._tickets())

    @contextlib.contextmanager
    def ticket(self) -> Iterator[Callable[[], bool]]:
        """A place in the queue, for the ``with`` block; yields ``first()``: whether it is
        this ticket's turn (each call also refreshes the ticket). Where no ticket can be made
        (a temp dir not writable), ``first()`` is always true: back-off as before."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_COUNTER)}"
        path = self.folder / name
        try:
            self.folder.mkdir(exist_ok=True)
            path.touch(exist_ok=False)
        except OSError:
            yield lambda: True
            return

        def first() -> bool:
            with contextlib.suppress(OSError):
                os.utime(path)
            ahead = self._tickets()
            return not ahead or ahead[0] >= name

        try:
            yield first
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
