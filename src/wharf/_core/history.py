"""The run history: one SQLite row per materialization attempt, under ``$WHARF_HOME``.

Rows are written in groups. Inside :meth:`RunHistory.batch` (a run's scheduler holds one for
the whole run) :meth:`RunHistory.record` and :meth:`RunHistory.record_logs` only queue their
rows in this process; :meth:`RunHistory.flush` writes the queue as one transaction. The
scheduler flushes every :data:`FLUSH_ROWS` rows or :data:`FLUSH_SECONDS`, when a step fails,
before it hands work to another process, and when the run ends, however it ends (see
``wharf._core.executors.schedule``). Every read of the same history file in this process
flushes first, so it sees what was recorded. A crash loses at most the queued rows, never a
written one, and never leaves a half-written group: SQLite rolls an unfinished transaction
back.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS materializations (
    run_id TEXT NOT NULL,
    asset_key TEXT NOT NULL,
    partition_key TEXT,
    status TEXT NOT NULL,
    started_at REAL NOT NULL,
    duration_s REAL NOT NULL,
    io_manager TEXT,
    metadata TEXT NOT NULL,
    error TEXT,
    code_version TEXT,
    data_version TEXT,
    input_versions TEXT,
    metadata_kinds TEXT
);
CREATE INDEX IF NOT EXISTS by_asset ON materializations (asset_key, started_at);
CREATE TABLE IF NOT EXISTS step_logs (
    run_id TEXT NOT NULL,
    asset_key TEXT NOT NULL,
    ts REAL NOT NULL,
    level TEXT NOT NULL,
    logger TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_run ON step_logs (run_id, asset_key);
CREATE TABLE IF NOT EXISTS dynamic_partitions (
    name TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    added_at REAL NOT NULL,
    PRIMARY KEY (name, partition_key)
);
"""
_NEWEST = "ORDER BY started_at DESC, rowid DESC"
#: columns added after the first release; older history files get them on open
_ADDED_COLUMNS = ("code_version", "data_version", "input_versions", "metadata_kinds")
_COLUMNS = (
    "run_id, asset_key, partition_key, status, started_at, duration_s, io_manager, metadata, "
    "error, code_version, data_version, input_versions, metadata_kinds"
)
_INSERT_ROW = f"INSERT INTO materializations ({_COLUMNS}) VALUES ({', '.join('?' * 13)})"
_INSERT_LOG = "INSERT INTO step_logs VALUES (?, ?, ?, ?, ?, ?)"
#: a batch writes its queued rows once this many are waiting ...
FLUSH_ROWS = 500
#: ... or once the oldest has waited this long (seconds): followers such as the web UI's live
#: view see a running run's steps this late at most
FLUSH_SECONDS = 0.1


class _Queue:
    """The rows recorded in this process and not yet written, for one history file."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.logs: list[tuple[Any, ...]] = []
        self.since = 0.0  # time.monotonic() when the oldest queued row came
        self.batches = 0  # open batch() blocks: while there is one, rows wait to be flushed
        self.lock = threading.Lock()  # guards the lists
        self.writing = threading.Lock()  # one flush at a time, so rows land in order

    def waited(self) -> float:
        """How long the oldest queued row has waited (seconds; 0 when none waits)."""
        return time.monotonic() - self.since if self.rows or self.logs else 0.0


class _Queues:
    """This process's queue of each history file (by absolute path)."""

    def __init__(self) -> None:
        self.by_file: dict[str, _Queue] = {}
        self.lock = threading.Lock()

    def get(self, key: str) -> _Queue | None:
        return self.by_file.get(key)

    def of(self, key: str) -> _Queue:
        found = self.by_file.get(key)
        if found is None:
            with self.lock:
                found = self.by_file.setdefault(key, _Queue())
        return found

    def forget(self) -> None:
        """In a forked child: the parent's queued rows are the parent's to write."""
        self.by_file, self.lock = {}, threading.Lock()


_QUEUES = _Queues()
os.register_at_fork(after_in_child=_QUEUES.forget)


def wharf_home() -> Path:
    """``$WHARF_HOME``, or ``.wharf`` in the current directory."""
    return Path(os.environ.get("WHARF_HOME") or Path.cwd() / ".wharf")


@dataclass(frozen=True)
class HistoryRecord:
    """One materialization attempt as the history stored it.

    Attributes:
        run_id: the run the attempt belonged to.
        asset_key: the asset's key as ``a/b`` text.
        partition_key: the partition, if the run had one.
        status: ``success``, ``failed`` or ``skipped``.
        started_at: when the attempt started (seconds since the epoch).
        duration_s: how long it took, in seconds.
        io_manager: the resource key of the asset's I/O manager.
        metadata: the materialization metadata (JSON values).
        error: the traceback of a failure, or why the asset was skipped.
        code_version: the asset's code version when it ran (see :mod:`wharf._core.versions`).
        data_version: the data version it stored.
        input_versions: the data version of each upstream asset it read, by key.
        metadata_kinds: the kind (``md``, ``url``, ``table``, ...) of each metadata entry whose
            JSON value does not tell it (text, numbers, booleans and nulls are left out).
    """

    run_id: str
    asset_key: str
    partition_key: str | None
    status: str
    started_at: float
    duration_s: float
    io_manager: str | None
    metadata: dict[str, Any]
    error: str | None
    code_version: str | None = None
    data_version: str | None = None
    input_versions: dict[str, str | None] | None = None
    metadata_kinds: dict[str, str] | None = None


@dataclass(frozen=True)
class RunSummary:
    """One run as the history's rows show it (a run has no row of its own).

    Attributes:
        run_id: the run.
        started_at: when its first asset started (seconds since the epoch).
        ended_at: when its last asset ended.
        assets: how many assets it recorded.
        failed: how many of them failed.
        skipped: how many were skipped.
        partition_key: the partition, if the run had one.
    """

    run_id: str
    started_at: float
    ended_at: float
    assets: int
    failed: int
    skipped: int
    partition_key: str | None

    @property
    def status(self) -> str:
        """``failed`` if an asset failed or was skipped, else ``success``."""
        return "failed" if self.failed or self.skipped else "success"


class RunHistory:
    """Append-only record of materializations, readable by ``wharf list`` and ``wharf show``.

    Examples:
        >>> import tempfile, pathlib
        >>> h = RunHistory(pathlib.Path(tempfile.mkdtemp()) / "history.sqlite")
        >>> h.record(run_id="r1", asset_key="a", status="success", started_at=0.0,
        ...          duration_s=0.1, metadata='{"rows": 3}')
        >>> h.last("a").metadata
        {'rows': 3}
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or wharf_home() / "history.sqlite"
        self._key = os.path.abspath(self.path)  # every RunHistory of one file shares its queue
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            have = {str(r[1]) for r in conn.execute("PRAGMA table_info(materializations)")}
            for column in _ADDED_COLUMNS:
                if column not in have:
                    conn.execute(f"ALTER TABLE materializations ADD COLUMN {column} TEXT")
            self._conn = conn
        return self._conn

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Queue the rows recorded inside and write them together (one transaction) on leaving,
        however the block ends, and at each :meth:`flush` or due :meth:`flush_if_due` inside.
        Blocks nest; rows are written when the outermost one ends."""
        queue = _QUEUES.of(self._key)
        with queue.lock:
            queue.batches += 1
        try:
            yield
        finally:
            with queue.lock:
                queue.batches -= 1
                outermost = queue.batches == 0
            if outermost:
                self.flush()

    def flush(self) -> None:
        """Write every queued row of this history file (this process's) as one transaction."""
        queue = _QUEUES.get(self._key)
        if queue is None or not (queue.rows or queue.logs):
            return
        with queue.writing:
            with queue.lock:
                rows, logs, queue.rows, queue.logs = queue.rows, queue.logs, [], []
            if not (rows or logs):
                return
            conn = self._connect()
            try:
                conn.execute("BEGIN")
                conn.executemany(_INSERT_ROW, rows)
                conn.executemany(_INSERT_LOG, logs)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                with queue.lock:  # not written: they stay queued, in order, for the next flush
                    queue.rows[:0], queue.logs[:0] = rows, logs
                raise

    def flush_if_due(self) -> None:
        """:meth:`flush` when :data:`FLUSH_ROWS` rows wait or the oldest has waited
        :data:`FLUSH_SECONDS`."""
        queue = _QUEUES.get(self._key)
        if queue is None or not (queue.rows or queue.logs):
            return
        if queue.waited() >= FLUSH_SECONDS or len(queue.rows) + len(queue.logs) >= FLUSH_ROWS:
            self.flush()

    @contextlib.contextmanager
    def flushing_while_busy(self) -> Iterator[None]:
        """While inside, a helper thread writes rows that waited twice :data:`FLUSH_SECONDS`
        (the thread that queued them is busy in a long step of an in-process run, so readers
        in other processes still see the steps that ended before it)."""
        stop = threading.Event()

        def watch() -> None:
            with RunHistory(self.path) as own:  # a connection of this thread's own
                while not stop.wait(FLUSH_SECONDS):
                    queue = _QUEUES.get(self._key)
                    if queue is not None and queue.waited() >= 2 * FLUSH_SECONDS:
                        own.flush()

        thread = threading.Thread(target=watch, name="wharf-history-flush", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _queued(self, rows: list[tuple[Any, ...]] | None, logs: list[tuple[Any, ...]]) -> None:
        queue = _QUEUES.of(self._key)
        with queue.lock:
            if not (queue.rows or queue.logs):
                queue.since = time.monotonic()
            if rows:
                queue.rows.extend(rows)
            queue.logs.extend(logs)
            waits = queue.batches > 0
        if not waits:
            self.flush()

    def _readable(self) -> bool:
        """Whether the file exists, once this process's queued rows of it are written (so a
        read sees every row recorded before it)."""
        self.flush()
        return self.path.exists()

    def record(
        self,
        *,
        run_id: str,
        asset_key: str,
        status: str,
        started_at: float,
        duration_s: float,
        metadata: str,
        partition_key: str | None = None,
        io_manager: str | None = None,
        error: str | None = None,
        code_version: str | None = None,
        data_version: str | None = None,
        input_versions: dict[str, str | None] | None = None,
        metadata_kinds: dict[str, str] | None = None,
    ) -> None:
        inputs = None if input_versions is None else json.dumps(input_versions, sort_keys=True)
        kinds = json.dumps(metadata_kinds) if metadata_kinds else None
        row = (run_id, asset_key, partition_key, status, started_at, duration_s, io_manager,
               metadata, error, code_version, data_version, inputs, kinds)  # fmt: skip
        self._queued([row], [])

    def record_logs(
        self, run_id: str, asset_key: str, lines: Sequence[tuple[float, str, str, str]]
    ) -> None:
        """Keep the log lines (timestamp, level, logger, message) of one step of a run."""
        if lines:
            self._queued(None, [(run_id, asset_key, *line) for line in lines])

    def logs(
        self, run_id: str, asset_key: str | None = None
    ) -> list[tuple[str, float, str, str, str]]:
        """(asset key, timestamp, level, logger, message) of a run's steps, in order."""
        if not self._readable():
            return []
        where = "run_id = ?" + ("" if asset_key is None else " AND asset_key = ?")
        params = (run_id,) if asset_key is None else (run_id, asset_key)
        rows = self._connect().execute(
            f"SELECT asset_key, ts, level, logger, message FROM step_logs WHERE {where} "
            "ORDER BY ts, rowid",
            params,
        )
        return [(str(r[0]), float(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]

    def run_ids_starting(self, prefix: str) -> list[str]:
        """The run ids that start with ``prefix`` (a full id matches itself)."""
        if not self._readable():
            return []
        rows = self._connect().execute(
            "SELECT DISTINCT run_id FROM materializations WHERE run_id >= ? AND run_id < ?",
            (prefix, prefix + "\uffff"),
        )
        return sorted(str(r[0]) for r in rows)

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[HistoryRecord]:
        if not self._readable():
            return []
        rows = self._connect().execute(sql.replace("SELECT *", f"SELECT {_COLUMNS}", 1), params)
        return [_record(r) for r in rows.fetchall()]

    def last(self, asset_key: str, *, status: str | None = "success") -> HistoryRecord | None:
        """The newest record for ``asset_key`` (with that status, unless ``status`` is None)."""
        where = "asset_key = ?" + (" AND status = ?" if status else "")
        params = (asset_key, status) if status else (asset_key,)
        rows = self._rows(f"SELECT * FROM materializations WHERE {where} {_NEWEST} LIMIT 1", params)
        return rows[0] if rows else None

    def for_asset(self, asset_key: str, limit: int = 20) -> list[HistoryRecord]:
        """The newest ``limit`` records of ``asset_key``, newest first."""
        return self._rows(
            f"SELECT * FROM materializations WHERE asset_key = ? {_NEWEST} LIMIT ?",
            (asset_key, limit),
        )

    def for_run(self, run_id: str) -> list[HistoryRecord]:
        """Every record of one run, in the order the assets finished."""
        return self._rows(
            "SELECT * FROM materializations WHERE run_id = ? ORDER BY rowid", (run_id,)
        )

    def asset_keys(self) -> list[str]:
        """Every asset key with at least one record, sorted."""
        if not self._readable():
            return []
        rows = self._connect().execute("SELECT DISTINCT asset_key FROM materializations").fetchall()
        return sorted(str(r[0]) for r in rows)

    def latest_by_asset(self, status: str | None = None) -> dict[str, HistoryRecord]:
        """The newest record (any status, or only ``status``) of every asset, by asset key.

        Examples:
            >>> import tempfile, pathlib
            >>> h = RunHistory(pathlib.Path(tempfile.mkdtemp()) / "history.sqlite")
            >>> for run, status in (("r1", "success"), ("r2", "failed")):
            ...     h.record(run_id=run, asset_key="a", status=status, started_at=0.0,
            ...              duration_s=0.1, metadata="{}")
            >>> h.latest_by_asset()["a"].run_id
            'r2'
            >>> h.close()
        """
        same = "" if status is None else "AND status = ?"
        rows = self._rows(
            "SELECT * FROM materializations m WHERE rowid = (SELECT rowid FROM materializations "
            f"WHERE asset_key = m.asset_key {same} {_NEWEST} LIMIT 1)",
            () if status is None else (status,),
        )
        return {r.asset_key: r for r in rows}

    def runs(self, limit: int = 100, before: float | None = None) -> list[RunSummary]:
        """The newest ``limit`` runs (started before ``before``), newest first."""
        if not self._readable():
            return []
        where = "" if before is None else "HAVING MIN(started_at) < ?"
        sql = (
            "SELECT run_id, MIN(started_at), MAX(started_at + duration_s), COUNT(*), "
            "SUM(status = 'failed'), SUM(status = 'skipped'), MAX(partition_key) "
            f"FROM materializations GROUP BY run_id {where} ORDER BY MIN(started_at) DESC LIMIT ?"
        )
        params: tuple[Any, ...] = (limit,) if before is None else (before, limit)
        rows = self._connect().execute(sql, params).fetchall()
        return [RunSummary(str(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def since(self, rowid: int) -> tuple[int, list[HistoryRecord]]:
        """Records added after ``rowid`` (oldest first) and the newest rowid, for followers
        such as the web UI's live updates; ``since(0)`` starts from the beginning."""
        if not self._readable():
            return rowid, []
        rows = (
            self._connect()
            .execute(
                f"SELECT rowid, {_COLUMNS} FROM materializations WHERE rowid > ? "
                "ORDER BY rowid LIMIT 1000",
                (rowid,),
            )
            .fetchall()
        )
        if not rows:
            return rowid, []
        found = [_record(r[1:]) for r in rows]
        return int(rows[-1][0]), found

    def last_rowid(self) -> int:
        """The rowid of the newest record (0 when there is none)."""
        if not self._readable():
            return 0
        row = self._connect().execute("SELECT MAX(rowid) FROM materializations").fetchone()
        return int(row[0] or 0)

    def versions(
        self, keys: Iterable[str] | None = None
    ) -> dict[tuple[str, str | None], HistoryRecord]:
        """The newest successful record (or observation) of every (asset key, partition key):
        what staleness and skip-unchanged runs compare with (one query for the whole graph;
        ``keys``: only these asset keys, e.g. a run's graph, not the checks' rows)."""
        where, params = _only(keys)
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY asset_key, "
            "partition_key ORDER BY started_at DESC, rowid DESC) AS newest "
            f"FROM materializations WHERE status IN ('success', 'observed'){where}) "
            "WHERE newest = 1",
            params,
        )
        return {(r.asset_key, r.partition_key): r for r in rows}

    def latest_attempts(
        self, keys: Iterable[str] | None = None
    ) -> dict[tuple[str, str | None], str]:
        """The status of the newest attempt (success or failed; not retries or skips) of every
        (asset key, partition key) (``keys``: only these asset keys)."""
        if not self._readable():
            return {}
        where, params = _only(keys)
        rows = self._connect().execute(
            "SELECT asset_key, partition_key, status FROM (SELECT asset_key, partition_key, "
            "status, ROW_NUMBER() OVER (PARTITION BY asset_key, partition_key "
            "ORDER BY started_at DESC, rowid DESC) AS newest FROM materializations "
            f"WHERE status IN ('success', 'failed'){where}) WHERE newest = 1",
            params,
        )
        return {(str(r[0]), r[1]): str(r[2]) for r in rows.fetchall()}

    def partition_status(self, asset_key: str) -> dict[str, str]:
        """The newest status of each partition of ``asset_key`` that has a record."""
        if not self._readable():
            return {}
        rows = (
            self._connect()
            .execute(
                "SELECT partition_key, status FROM materializations WHERE asset_key = ? "
                "AND partition_key IS NOT NULL ORDER BY started_at, rowid",
                (asset_key,),
            )
            .fetchall()
        )
        return {str(r[0]): str(r[1]) for r in rows}

    # -- dynamic partitions (see wharf._core.instance) -----------------------------------------
    def add_dynamic_partitions(self, name: str, keys: Sequence[str], added_at: float) -> None:
        """Add partition keys of the dynamic partitions definition ``name`` (existing stay)."""
        rows = [(name, key, added_at) for key in keys]
        self._connect().executemany(
            "INSERT OR IGNORE INTO dynamic_partitions VALUES (?, ?, ?)", rows
        )

    def dynamic_partitions(self, name: str) -> list[str]:
        """The keys of ``name``, in the order they were first added."""
        if not self._readable():
            return []
        sql = "SELECT partition_key FROM dynamic_partitions WHERE name = ? ORDER BY rowid"
        return [str(r[0]) for r in self._connect().execute(sql, (name,)).fetchall()]

    def delete_dynamic_partition(self, name: str, key: str) -> None:
        """Remove one key of ``name`` (nothing happens if it is not there)."""
        if self._readable():
            self._connect().execute(
                "DELETE FROM dynamic_partitions WHERE name = ? AND partition_key = ?", (name, key)
            )

    def __enter__(self) -> RunHistory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection (reads and writes reopen it)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _only(keys: Iterable[str] | None) -> tuple[str, tuple[Any, ...]]:
    """The ``AND asset_key IN (...)`` clause (and its parameter) for ``keys``; none for None."""
    if keys is None:
        return "", ()
    return " AND asset_key IN (SELECT value FROM json_each(?))", (json.dumps(list(keys)),)


def _record(r: Sequence[Any]) -> HistoryRecord:
    inputs = json.loads(r[11]) if len(r) > 11 and r[11] else None
    kinds = json.loads(r[12]) if len(r) > 12 and r[12] else None
    return HistoryRecord(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8],
        r[9] if len(r) > 9 else None, r[10] if len(r) > 10 else None, inputs, kinds,
    )  # fmt: skip
