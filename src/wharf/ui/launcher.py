"""Runs launched from the page (or by the daemon), each in a worker process, and the event bus
that carries their progress, new history rows and daemon ticks to the live page.

A run never executes inside the server: user code that hangs or crashes takes only its worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wharf._core.execution import new_run_id

if TYPE_CHECKING:
    from wharf.ui.workspace import Workspace


class EventBus:
    """Numbered events kept in a ring; readers ask for what came after the number they saw.

    Examples:
        >>> bus = EventBus()
        >>> bus.publish({"type": "hello"})
        1
        >>> bus.after(0)
        (1, [{'type': 'hello', 'seq': 1}])
    """

    def __init__(self, size: int = 2000) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0
        self._lock = threading.Lock()

    def publish(self, event: dict[str, Any]) -> int:
        """Add ``event`` (it gets a ``seq``) and return its number."""
        with self._lock:
            self._seq += 1
            self._events.append({**event, "seq": self._seq})
            return self._seq

    def after(self, seq: int) -> tuple[int, list[dict[str, Any]]]:
        """The events numbered above ``seq`` and the newest number."""
        with self._lock:
            return self._seq, [e for e in self._events if e["seq"] > seq]

    @property
    def last(self) -> int:
        """The newest event's number."""
        with self._lock:
            return self._seq


@dataclass
class Launch:
    """One launch: one worker process running one run (or a backfill's runs)."""

    launch_id: str
    runs: list[dict[str, Any]]
    started_at: float
    state: str = "running"
    returncode: int | None = None
    error: str | None = None
    steps: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "launch_id": self.launch_id,
            "run_ids": [r["run_id"] for r in self.runs],
            "partitions": [_partition_label(r) for r in self.runs],
            "started_at": self.started_at,
            "state": self.state,
            "returncode": self.returncode,
            "error": self.error,
            "steps": dict(self.steps),
        }


def _partition_label(run: dict[str, Any]) -> str | None:
    """A planned run's partition, ``A...B`` for a range."""
    span = run.get("partition_range")
    return f"{span[0]}...{span[1]}" if span else run.get("partition_key")


class Launcher:
    """Starts worker processes and follows them; every change goes on the bus."""

    def __init__(self, workspace: Workspace, bus: EventBus) -> None:
        self.workspace = workspace
        self.bus = bus
        self.launches: dict[str, Launch] = {}
        self._procs: dict[str, subprocess.Popen[str]] = {}
        self._lock = threading.Lock()

    def plan(
        self,
        selection: list[str] | None,
        partition: str | None,
        partitions: str | None,
        job: str | None = None,
    ) -> list[dict[str, Any]]:
        """The runs of a launch: one, or for a partition range the backfill's runs, one per
        partition or per range as the assets' backfill policies say (with the unpartitioned
        assets before and after), as ``wharf materialize --partitions`` plans them.

        Raises:
            WharfError: an unknown asset, or partitions the assets do not have.
        """
        defs = self.workspace.defs()
        planned = defs.asset_graph.resolve_selection(selection)
        if job is not None:  # the job's assets (those of them the selection names)
            in_job = set(defs.get_job_def(job).asset_keys)
            wanted = set(planned) if selection else in_job
            planned = [k for k in defs.asset_graph.toposort() if k in in_job and k in wanted]
        keys = [k.to_user_string() for k in planned]
        if not partitions:
            return [
                {"run_id": new_run_id(), "selection": keys, "partition_key": partition, "job": job}
            ]
        from wharf._core.instance import DagsterInstance
        from wharf._core.partitioning.runs import parse_partition_selection, plan_backfill

        plan = plan_backfill(
            defs.asset_graph,
            planned,
            parse_partition_selection(partitions),
            instance=DagsterInstance(self.workspace.home),
        )
        runs: list[dict[str, Any]] = []
        if plan.before:
            before = [k.to_user_string() for k in plan.before]
            runs.append({"run_id": new_run_id(), "selection": before, "required": True})
        inner = [k.to_user_string() for k in plan.partitioned]
        for key, span in plan.run_partitions():
            runs.append({"run_id": new_run_id(), "selection": inner, "partition_key": key})
            if span is not None:  # several partitions in one run
                runs[-1]["partition_range"] = [span.start, span.end]
        if plan.after:
            runs.append(
                {"run_id": new_run_id(), "selection": [k.to_user_string() for k in plan.after]}
            )
        return runs

    def launch(
        self,
        runs: list[dict[str, Any]],
        *,
        run_config: Any = None,
        tags: dict[str, str] | None = None,
        origin: str = "ui",
    ) -> Launch:
        """Start a worker for ``runs`` (from :meth:`plan`) and follow it in a thread."""
        loc = self.workspace.location
        spec = {
            "module": loc.module,
            "file": str(loc.file) if loc.file else None,
            "attribute": loc.attribute,
            "runs": runs,
            "run_config": run_config,
            "tags": tags,
        }
        env = {**os.environ, "WHARF_HOME": str(self.workspace.home)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "wharf.ui.worker", json.dumps(spec)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=os.getcwd(),
        )
        launch = Launch(runs[0]["run_id"], runs, time.time())
        with self._lock:
            self.launches[launch.launch_id] = launch
            self._procs[launch.launch_id] = proc
        self.bus.publish({"type": "launch", "origin": origin, **launch.as_json()})
        threading.Thread(target=self._follow, args=(launch, proc), daemon=True).start()
        return launch

    def _follow(self, launch: Launch, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for text in proc.stdout:
            try:
                event = json.loads(text)
            except ValueError:
                continue  # user code printed something: not ours
            if not isinstance(event, dict) or "event" not in event:
                continue
            if event["event"] == "step_start":
                launch.steps[event["asset_key"]] = "running"
            elif event["event"] == "step_end":
                launch.steps[event["asset_key"]] = event["status"]
            self.bus.publish({"type": event.pop("event"), "launch_id": launch.launch_id, **event})
        stderr = proc.stderr.read() if proc.stderr is not None else ""
        launch.returncode = proc.wait()
        launch.state = "success" if launch.returncode == 0 else "failed"
        if launch.returncode != 0 and stderr.strip():
            launch.error = self.workspace.redact(stderr.strip()[-4000:])
        self.bus.publish({"type": "launch_end", **launch.as_json()})

    def running(self) -> list[Launch]:
        """Launches whose worker has not finished."""
        with self._lock:
            return [x for x in self.launches.values() if x.state == "running"]

    def stop_all(self, timeout: float = 5.0) -> None:
        """Terminate running workers (the server is shutting down)."""
        with self._lock:
            procs = [p for p in self._procs.values() if p.poll() is None]
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()


class HistoryFollower:
    """Puts every new run-history row on the bus, whichever process wrote it."""

    def __init__(self, workspace: Workspace, bus: EventBus, interval: float = 0.25) -> None:
        self.workspace, self.bus, self.interval = workspace, bus, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="wharf-follow")
        self._thread.start()

    def _loop(self) -> None:
        history = self.workspace.history()
        try:
            seen = history.last_rowid()
            while not self._stop.wait(self.interval):
                if history.last_rowid() < seen:  # the history was emptied: start over
                    seen = 0
                seen, rows = history.since(seen)
                for r in rows:
                    self.bus.publish(
                        {
                            "type": "materialization",
                            "run_id": r.run_id,
                            "asset_key": r.asset_key,
                            "partition_key": r.partition_key,
                            "status": r.status,
                        }
                    )
        finally:
            history.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
