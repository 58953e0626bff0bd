"""A counter of what a SQL store asks its database: connections opened, and the statements
run on each (every ``Driver.execute`` and ``Driver.fetch``), to pin the shape of a load or a
write with counts, never with times."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from wharf._stores.sql import SqlStore


@dataclasses.dataclass
class Statements:
    """``sessions[i]``: the statements run on the i-th connection opened (``reading``: whether
    it was opened for an operation that writes nothing)."""

    sessions: list[list[str]] = dataclasses.field(default_factory=list)
    reading: list[bool] = dataclasses.field(default_factory=list)

    def reads(self) -> list[list[str]]:
        """The statements of the connections opened for reads."""
        return [s for s, r in zip(self.sessions, self.reading, strict=True) if r]

    def clear(self) -> None:
        self.sessions.clear()
        self.reading.clear()


def record_statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    """Record every connection a :class:`SqlStore` opens and the statements run on it."""
    seen = Statements()
    at: dict[int, int] = {}
    real_connect = SqlStore.connect

    def log(con: Any, sql: str) -> None:
        if id(con) in at:
            seen.sessions[at[id(con)]].append(sql)

    def connect(self: SqlStore, **kw: Any) -> Any:
        con = real_connect(self, **kw)
        at[id(con)] = len(seen.sessions)
        seen.sessions.append([])
        seen.reading.append(bool(kw.get("reading")))
        d = self.driver
        if not getattr(d, "_recorded", False):
            execute, fetch = d.execute, d.fetch

            def run(con: Any, sql: str, params: list[object]) -> Any:
                log(con, sql)
                return execute(con, sql, params)

            def pull(con: Any, sql: str, params: list[object], size: int) -> Any:
                log(con, sql)
                return fetch(con, sql, params, size)

            recording = copy.copy(d)  # the same driver, its statements logged
            recording.execute, recording.fetch = run, pull  # type: ignore[method-assign]
            recording._recorded = True  # type: ignore[attr-defined]
            monkeypatch.setattr(self, "driver", recording)
        return con

    monkeypatch.setattr(SqlStore, "connect", connect)
    return seen
