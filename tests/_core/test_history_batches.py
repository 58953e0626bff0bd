"""Run history rows are written in groups: what readers see, when, and after a crash."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

import wharf as dg
from wharf._core import history as history_module
from wharf._core.history import RunHistory

MEMORY = {"io_manager": dg.InMemoryIOManager()}


def record(history: RunHistory, asset_key: str, status: str = "success") -> None:
    history.record(run_id="r", asset_key=asset_key, status=status, started_at=time.time(),
                   duration_s=0.0, metadata="{}")  # fmt: skip


def written(path: Path) -> list[str]:
    """The asset keys another process would see: a connection of its own, not wharf's."""
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        try:
            rows = conn.execute("SELECT asset_key FROM materializations ORDER BY rowid")
        except sqlite3.OperationalError:  # the file is there, its tables not yet
            return []
        return [r[0] for r in rows]


def test_a_batch_writes_its_rows_together_and_reads_in_the_process_see_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite"
    with RunHistory(path) as history, history.batch():
        record(history, "a")
        record(history, "b")
        history.record_logs("r", "b", [(time.time(), "INFO", "wharf", "hello")])
        assert written(path) == []  # queued, not yet written
        with RunHistory(path) as reader:  # another RunHistory of the file, in this process
            assert [r.asset_key for r in reader.for_run("r")] == ["a", "b"]
        assert written(path) == ["a", "b"]  # the read wrote the queue first
        record(history, "c")
    assert written(path) == ["a", "b", "c"]  # leaving the batch wrote the rest
    with RunHistory(path) as reader:
        assert [line[4] for line in reader.logs("r")] == ["hello"]


def test_a_batch_flushes_once_enough_rows_or_time_are_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite"
    monkeypatch.setattr(history_module, "FLUSH_ROWS", 3)
    monkeypatch.setattr(history_module, "FLUSH_SECONDS", 60.0)
    with RunHistory(path) as history, history.batch():
        record(history, "a")
        record(history, "b")
        history.flush_if_due()
        assert written(path) == []
        record(history, "c")
        history.flush_if_due()
        assert written(path) == ["a", "b", "c"]  # three rows waited
        monkeypatch.setattr(history_module, "FLUSH_SECONDS", 0.0)
        record(history, "d")
        history.flush_if_due()
        assert written(path) == ["a", "b", "c", "d"]  # the oldest waited long enough


def test_a_crash_loses_only_the_rows_not_yet_written(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    pid = os.fork()
    if pid == 0:  # a process that dies mid-run: no cleanup, no batch end
        history = RunHistory(path)
        with history.batch():
            record(history, "a")
            record(history, "b")
            history.flush()
            record(history, "c")
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3
    assert written(path) == ["a", "b"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_forked_child_leaves_the_parents_queued_rows_to_the_parent(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with RunHistory(path) as history, history.batch():
        record(history, "a")
        pid = os.fork()
        if pid == 0:  # the child reads the history (a read flushes its process's queue)
            with RunHistory(path) as reader:
                code = 0 if reader.last("a") is None else 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    assert written(path) == ["a"]  # once, by the parent


def test_a_failed_step_is_written_before_the_next_step_runs(wharf_home: Path) -> None:
    seen: list[list[str]] = []

    @dg.asset
    def broken() -> int:
        raise RuntimeError("nope")

    @dg.asset
    def later() -> int:
        seen.append(written(wharf_home / "history.sqlite"))
        return 1

    result = dg.materialize([broken, later], resources=MEMORY, raise_on_error=False)
    assert not result.success
    assert seen == [["broken"]]


def test_a_long_step_does_not_hold_back_the_rows_of_the_steps_before_it(
    wharf_home: Path,
) -> None:
    waited: list[float] = []

    @dg.asset
    def quick() -> int:
        return 1

    @dg.asset
    def slow(quick: int) -> int:
        t0 = time.monotonic()
        while "quick" not in written(wharf_home / "history.sqlite"):  # as the web UI polls
            if time.monotonic() - t0 > 5:
                break
            time.sleep(0.01)
        waited.append(time.monotonic() - t0)
        return quick

    dg.materialize([quick, slow], resources=MEMORY)
    assert waited[0] < 5 * history_module.FLUSH_SECONDS


def test_a_run_writes_every_row_by_its_end(wharf_home: Path) -> None:
    @dg.asset
    def one() -> int:
        return 1

    @dg.asset_check(asset=one)
    def positive(one: int) -> Any:
        return dg.AssetCheckResult(passed=one > 0)

    dg.materialize([one, positive], resources=MEMORY)
    assert written(wharf_home / "history.sqlite") == ["one", "one#positive"]
