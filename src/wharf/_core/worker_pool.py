"""A pool of warm worker processes for one run of the multiprocess executor.

Each worker is started once per run (forked from the preloaded fork server), unpickles the run
once, then serves steps one at a time: the parent sends a step key, the worker sets up that
step's resources, runs it, tears them down and sends back the outcome. A step that raises fails
alone and its worker serves the next one. A worker that dies (killed, out of memory, ``os._exit``)
fails only the step it was running; a fresh worker takes its place when a step next needs one.
An idle step goes to the worker that has waited longest, so steps spread over the pool.

Messages on a worker's pipe: ``("run", payload)`` (the pickled run, again after a dynamic
expansion changed the plan), ``("step", key)`` (answered by one outcome) and ``None`` (exit).
"""

from __future__ import annotations

import itertools
import os
import pickle
import signal
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from typing import Any

from wharf._core.execution import RunContext, StepOutcome, failed_outcome, run_step
from wharf._core.resources import RunResources, step_resource_keys
from wharf._deps import require

__all__ = ["WorkerPool", "portable", "run_in_worker"]


def run_in_worker(run: RunContext, key: str) -> StepOutcome:
    """Set up this process's own resources, run one step, tear the resources down."""
    step = run.step(key)
    keys = step_resource_keys(run, [step])
    with RunResources(run.resources.definitions, keys, run.run_id, run.instance) as resources:
        return run_step(replace(run, resources=resources), step)


def portable(outcome: StepOutcome) -> StepOutcome:
    """The outcome with an error that survives pickling (else its text as a RuntimeError)."""
    if outcome.error is None:
        return outcome
    try:
        pickle.loads(pickle.dumps(outcome.error))
    except Exception:
        text = "".join(traceback.format_exception(outcome.error)).strip()
        outcome.error = RuntimeError(text)
    return outcome


def _serve(conn: Connection) -> None:
    """A worker: take the run, then run the steps it is sent until told to stop."""
    status = 0
    run: RunContext | None = None
    broken: BaseException | None = None  # why the run could not be unpickled
    try:
        while (message := conn.recv()) is not None:
            if message[0] == "run":
                try:
                    run = require("cloudpickle", purpose="the multiprocess executor").loads(
                        message[1]
                    )
                    broken = None
                except BaseException as exc:
                    run, broken = None, exc
                continue
            conn.send(portable(_one_step(run, broken, message[1])))
    except EOFError:  # the run's process is gone
        pass
    except BaseException:
        status = 1
    finally:
        conn.close()
        os._exit(status)  # a worker must not run the exit handlers it inherited


def _one_step(run: RunContext | None, broken: BaseException | None, key: str) -> StepOutcome:
    start = time.perf_counter()
    try:
        if run is None:
            raise broken or RuntimeError("the worker was sent a step before the run")
        return run_in_worker(run, key)
    except BaseException as exc:
        step = run.step(key) if run is not None else _unknown(key)
        outcome = failed_outcome(step, exc, f" in process {os.getpid()}")
        outcome.duration_s = time.perf_counter() - start
        return outcome


def _unknown(key: str) -> Any:
    from wharf._core.keys import AssetKey

    return AssetKey([key])


@contextmanager
def _main_not_reimported() -> Iterator[None]:
    """Start workers that do not re-run the caller's ``__main__``.

    ``spawn`` and ``forkserver`` children re-import the parent's main script (as
    ``__mp_main__``) before they run, which is why multiprocessing asks for an
    ``if __name__ == "__main__":`` guard, and which fails outright for ``python -`` and other
    mains without a file. A worker needs nothing from it: the run, assets defined in
    ``__main__`` included, reaches it through cloudpickle. So while a worker starts,
    ``sys.modules["__main__"]`` is a blank module that names no file or module to re-import.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection
    version: int = -1  # which payload of the run it holds
    idle_since: int = -1  # a turn number: the longest idle worker is chosen first


@dataclass(eq=False)
class Task:
    """A step handed to a worker (a handle of :func:`wharf._core.executors.schedule`)."""

    key: str
    worker: _Worker | None
    started_at: float
    outcome: StepOutcome | None = None  # known at once: the step could not be sent


class WorkerPool:
    """Warm workers for one run, at most ``size`` alive; use as a context manager.

    Args:
        run: the run (for the names in a dead worker's error).
        ctx: a multiprocessing context (forkserver, spawn or fork).
        size: most workers alive at once (the executor's ``max_concurrent``).
        payload: the pickled run and its version; called before each step is sent, it returns
            a new version when the plan grew (dynamic outputs).
    """

    def __init__(
        self, run: RunContext, ctx: Any, size: int, payload: Callable[[], tuple[int, bytes]]
    ) -> None:
        self.run, self.ctx, self.size, self.payload = run, ctx, size, payload
        self.idle: list[_Worker] = []
        self.alive: set[_Worker] = set()
        self.started = 0  # workers started in this run, replacements included
        self._turn = itertools.count()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def warm(self, count: int) -> None:
        """Start ``count`` workers now (at most ``size``), each unpickling the run meanwhile."""
        while len(self.alive) < min(count, self.size):
            self.idle.append(self._spawn())

    def _spawn(self) -> _Worker:
        parent_end, child_end = self.ctx.Pipe(duplex=True)
        process = self.ctx.Process(target=_serve, args=(child_end,), daemon=True)
        with _main_not_reimported():
            process.start()
        child_end.close()
        worker = _Worker(process, parent_end)
        self.alive.add(worker)
        self.started += 1
        with suppress(OSError):  # a worker dead already shows when it is sent its step
            self._send_run(worker)
        return worker

    def _send_run(self, worker: _Worker) -> None:
        version, data = self.payload()
        if worker.version != version:
            worker.conn.send(("run", data))
            worker.version = version

    def submit(self, key: str) -> Task:
        """Hand ``key`` to the longest idle worker (a new one if none is idle)."""
        error: BaseException | None = None
        for _ in range(2):  # a worker that died while idle is replaced once
            worker = self._take()
            try:
                self._send_run(worker)
                worker.conn.send(("step", key))
            except OSError as exc:
                self._bury(worker)
                error = exc
                continue
            return Task(key, worker, time.time())
        step = self.run.step(key)
        err = RuntimeError(f"no worker process could be sent {step.label}: {error!r}")
        return Task(key, None, time.time(), failed_outcome(step, err))

    def _take(self) -> _Worker:
        if not self.idle:
            return self._spawn()
        worker = min(self.idle, key=lambda w: w.idle_since)
        self.idle.remove(worker)
        return worker

    def collect(self, tasks: list[Any]) -> list[tuple[Any, StepOutcome]]:
        """Wait until at least one of ``tasks`` ends; their ``(task, outcome)`` pairs."""
        known = [(t, t.outcome) for t in tasks if t.outcome is not None]
        if known:
            return known
        conns = {t.worker.conn: t for t in tasks}
        sentinels = {t.worker.process.sentinel: t for t in tasks}
        ended: dict[Task, StepOutcome] = {}
        for ready in wait([*conns, *sentinels]):
            task = conns.get(ready) if isinstance(ready, Connection) else sentinels.get(ready)
            if task is not None and task not in ended:
                ended[task] = self._result(task)
        return list(ended.items())

    def _result(self, task: Task) -> StepOutcome:
        worker = task.worker
        assert worker is not None
        try:
            if not worker.conn.poll():
                raise EOFError  # its process ended without a word
            outcome: StepOutcome = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join()
            self._bury(worker)
            return _died(self.run, task.key, worker.process.exitcode, time.time() - task.started_at)
        except Exception as exc:  # the outcome came whole but does not unpickle here
            step = self.run.step(task.key)
            why = f"the outcome of {step.label} could not be read from its worker: {exc!r}"
            outcome = failed_outcome(step, RuntimeError(why))
        worker.idle_since = next(self._turn)
        self.idle.append(worker)
        return outcome

    def _bury(self, worker: _Worker) -> None:
        self.alive.discard(worker)
        with suppress(ValueError):
            self.idle.remove(worker)
        worker.conn.close()

    def close(self, timeout: float = 5.0) -> None:
        """Stop every worker: idle ones are told to exit, busy ones (the run was interrupted)
        are killed."""
        busy = self.alive.difference(self.idle)
        for worker in self.idle:
            with suppress(OSError):
                worker.conn.send(None)
        for worker in busy:
            with suppress(OSError):
                worker.process.kill()
        deadline = time.monotonic() + timeout
        for worker in list(self.alive):
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self.alive.clear()
        self.idle.clear()


def _died(run: RunContext, key: str, exitcode: int | None, seconds: float) -> StepOutcome:
    how = f"exit code {exitcode}"
    if exitcode is not None and exitcode < 0:
        how = f"killed by {signal.Signals(-exitcode).name}"
    step = run.step(key)
    err = RuntimeError(
        f"the worker process of {step.label} died ({how}) before it reported; "
        "its stored value, if any, is the previous one"
    )
    outcome = failed_outcome(step, err)
    outcome.duration_s = seconds
    return outcome
