"""Schedule and sensor state in the run history's SQLite file: status, cursors, ticks, run keys.

A tick is claimed by inserting its row (unique per instigator and tick time) before it is
evaluated, so a tick is run at most once, even by two daemons or after a restart.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wharf._core.history import wharf_home

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instigators (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    cursor TEXT,
    last_tick REAL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ticks (
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    tick_at REAL NOT NULL,
    status TEXT NOT NULL,
    run_ids TEXT NOT NULL DEFAULT '[]',
    message TEXT,
    cursor TEXT,
    recorded_at REAL NOT NULL,
    UNIQUE (name, tick_at)
);
CREATE TABLE IF NOT EXISTS run_keys (
    name TEXT NOT NULL,
    run_key TEXT NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (name, run_key)
);
"""


@dataclass(frozen=True)
class InstigatorState:
    """A schedule's or sensor's stored state (``status`` is ``running`` or ``stopped``)."""

    name: str
    kind: str
    status: str
    cursor: str | None
    last_tick: float | None


@dataclass(frozen=True)
class Tick:
    """One evaluated tick: ``started`` (claimed), ``success``, ``skipped`` or ``failed``."""

    name: str
    kind: str
    tick_at: float
    status: str
    run_ids: list[str]
    message: str | None
    cursor: str | None
    recorded_at: float


class TickStore:
    """Reads and writes schedule/sensor state next to the run history.

    Examples:
        >>> import tempfile, pathlib
        >>> store = TickStore(pathlib.Path(tempfile.mkdtemp()) / "history.sqlite")
        >>> store.claim("nightly", "schedule", 60.0), store.claim("nightly", "schedule", 60.0)
        (True, False)
        >>> store.close()
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or wharf_home() / "history.sqlite"
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def state(self, name: str) -> InstigatorState | None:
        """The stored state of ``name`` (None if it was never started, stopped or ticked)."""
        row = (
            self._connect()
            .execute(
                "SELECT name, kind, status, cursor, last_tick FROM instigators WHERE name = ?",
                (name,),
            )
            .fetchone()
        )
        return InstigatorState(*row) if row else None

    def set_state(
        self,
        name: str,
        kind: str,
        *,
        status: str,
        now: float,
        cursor: str | None = None,
        last_tick: float | None = None,
    ) -> None:
        """Write the whole state of ``name``."""
        self._connect().execute(
            "INSERT INTO instigators VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "kind = excluded.kind, status = excluded.status, cursor = excluded.cursor, "
            "last_tick = excluded.last_tick, updated_at = excluded.updated_at",
            (name, kind, status, cursor, last_tick, now),
        )

    def claim(self, name: str, kind: str, tick_at: float, now: float | None = None) -> bool:
        """Record the tick at ``tick_at`` as started; False if it was claimed before."""
        cur = self._connect().execute(
            "INSERT OR IGNORE INTO ticks (name, kind, tick_at, status, recorded_at) "
            "VALUES (?, ?, ?, 'started', ?)",
            (name, kind, tick_at, now if now is not None else tick_at),
        )
        return cur.rowcount == 1

    def finish(
        self,
        name: str,
        tick_at: float,
        *,
        status: str,
        run_ids: list[str] | None = None,
        message: str | None = None,
        cursor: str | None = None,
    ) -> None:
        """Record how a claimed tick ended."""
        self._connect().execute(
            "UPDATE ticks SET status = ?, run_ids = ?, message = ?, cursor = ? "
            "WHERE name = ? AND tick_at = ?",
            (status, json.dumps(run_ids or []), message, cursor, name, tick_at),
        )

    def claim_run_key(self, name: str, run_key: str, run_id: str) -> bool:
        """Record that ``name`` launched ``run_key``; False if it did before."""
        cur = self._connect().execute(
            "INSERT OR IGNORE INTO run_keys VALUES (?, ?, ?)", (name, run_key, run_id)
        )
        return cur.rowcount == 1

    def ticks(self, name: str | None = None, limit: int = 50) -> list[Tick]:
        """The newest ticks (of ``name``, or of every instigator), newest first."""
        where, params = ("WHERE name = ?", (name, limit)) if name else ("", (limit,))
        rows = (
            self._connect()
            .execute(
                "SELECT name, kind, tick_at, status, run_ids, message, cursor, recorded_at "
                f"FROM ticks {where} ORDER BY tick_at DESC, rowid DESC LIMIT ?",
                params,
            )
            .fetchall()
        )
        return [Tick(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7]) for r in rows]

    def tick_counts(self) -> dict[str, int]:
        """How many ticks each instigator has."""
        rows = self._connect().execute("SELECT name, COUNT(*) FROM ticks GROUP BY name")
        return {str(r[0]): int(r[1]) for r in rows.fetchall()}

    def __enter__(self) -> TickStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (the next call reopens it)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def tick_json(t: Tick) -> dict[str, Any]:
    """A tick as JSON for the UI and the CLI."""
    return {
        "name": t.name,
        "kind": t.kind,
        "tick_at": t.tick_at,
        "status": t.status,
        "run_ids": t.run_ids,
        "message": t.message,
        "cursor": t.cursor,
    }
