"""Executors: how the steps of a run are scheduled. In-process (the default) and multiprocess.

An executor is a callable ``(run, step_keys, *, listener, history) -> list[StepOutcome]`` that
runs the steps of ``run.plan`` (assets, multi-assets and ops alike) through :func:`schedule`.
The multiprocess executor hands each step to one of a pool of warm worker processes as soon as
its upstream steps are done, at most ``max_concurrent`` at a time. Values cross processes only
through the I/O managers: a worker sets up its own resources, loads its inputs from the stores,
and stores its output; the parent only schedules and records. A step that raises, or kills its
worker (killed, out of memory), fails its asset; its dependants are skipped and the others run
on. Stores write atomically, so a killed worker leaves the old value or the new one, never half
of one.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, replace
from typing import Any

from wharf._core.execution import (
    RunContext,
    RunListener,
    StepOutcome,
    execute_in_process,
    record_outcome,
    skipped_outcome,
    unchanged_outcome,
)
from wharf._core.history import RunHistory
from wharf._core.io_managers import StoreCapabilities
from wharf._core.resources import RunResources
from wharf._core.worker_pool import WorkerPool
from wharf._deps import require
from wharf.errors import DefinitionError

__all__ = [
    "MultiprocessExecutor",
    "check_resources_cross_process",
    "in_process_executor",
    "multiprocess_executor",
]


def check_resources_cross_process(run_resources: Mapping[str, Any], executor: str) -> None:
    """Fail before a run when a resource cannot work in another process.

    An ``InMemoryIOManager`` keeps values in one process's memory; a resource that cannot be
    pickled cannot be sent to a worker.
    """
    for key, resource in run_resources.items():
        if isinstance(resource, StoreCapabilities) and resource.is_process_local():
            reason = resource.process_local_reason() or (
                f"{type(resource).__name__} keeps values inside one process: use an I/O manager "
                "whose values outlive a process (FilesystemIOManager, a DuckDB database file, "
                "ObjectStoreIOManager, ...) or the in_process executor"
            )
            msg = (
                f"resource {key!r} ({type(resource).__name__}) cannot be used with the "
                f"{executor} executor, which runs assets in other processes: {reason}"
            )
            raise DefinitionError(
                msg, io_manager=key, expected="a store shared across processes",
                got=type(resource).__name__,
            )  # fmt: skip
        try:
            _dumps(resource)
        except Exception as exc:
            msg = (
                f"resource {key!r} ({type(resource).__name__}) cannot be pickled ({exc}), but the "
                f"{executor} executor must send it to worker processes: expected a picklable "
                "resource (configure it with plain values; open connections in setup_for_execution)"
            )
            raise DefinitionError(
                msg, io_manager=key, expected="picklable", got=type(resource).__name__
            ) from exc


def _dumps(resource: Any) -> bytes:
    """Pickle ``resource`` as the run is sent to a worker: through cloudpickle (a resource's
    class or function may be a closure's)."""
    cloudpickle = require("cloudpickle", purpose="the multiprocess executor")
    return bytes(cloudpickle.dumps(resource))


def schedule(
    run: RunContext,
    selected: Sequence[str],
    *,
    start: Callable[[str], Any],
    collect: Callable[[list[Any]], list[tuple[Any, StepOutcome]]],
    limit: int,
    listener: RunListener | None = None,
    history: RunHistory | None = None,
    in_process: bool = False,
) -> list[StepOutcome]:
    """Start each step of ``run.plan`` once the steps it waits for are done, at most ``limit``
    at a time, in plan order among the ready ones.

    ``start(step_key)`` launches a step and returns a hashable handle; ``collect(handles)``
    blocks until at least one finishes and returns ``(handle, outcome)`` pairs. A step whose
    upstream failed or was skipped is skipped; the others run on. A dynamic step that finishes
    expands the plan (its mapped copies join the run).

    Only this process writes the run's ``history``, in batches (see :mod:`wharf._core.history`):
    every few rows or milliseconds, at once when a step fails, and when the run ends. Steps run
    elsewhere (``in_process`` False: worker processes, Dask) find the rows of every step that
    ended before they started; in-process steps read them through the queue.
    """
    sched = _Schedule(run, listener, history)
    for key in selected:
        sched.chosen.add(key)
    with _history_batch(history, in_process=in_process):
        for key in selected:
            sched.add(key)
        running: dict[Any, tuple[str, float]] = {}
        while sched.ready or running:
            if history is not None and not in_process:
                history.flush()  # a worker's step may read what the steps before it recorded
            while sched.ready and len(running) < limit:
                next_key = sched.pop()
                if next_key is not None:
                    running[start(next_key)] = (next_key, time.time())
            if running:
                if history is not None and not in_process:
                    history.flush()  # nothing waits unwritten while this process waits
                for handle, outcome in collect(list(running)):
                    sched.finish(outcome, running.pop(handle)[1])
    return sched.outcomes


def _history_batch(history: RunHistory | None, *, in_process: bool) -> Any:
    """The run's history batch; in process, with a thread that flushes during long steps."""
    if history is None:
        return nullcontext()
    stack = ExitStack()
    stack.enter_context(history.batch())
    if in_process:
        stack.enter_context(history.flushing_while_busy())
    return stack


class _Schedule:
    """The bookkeeping of :func:`schedule`: what waits for what, what is ready, what ended."""

    def __init__(
        self, run: RunContext, listener: RunListener | None, history: RunHistory | None
    ) -> None:
        assert run.plan is not None
        self.run, self.plan, self.listener, self.history = run, run.plan, listener, history
        self.position = {k: i for i, k in enumerate(self.plan.order)}
        self.chosen: set[str] = set()
        self.state: dict[str, str] = {}
        self.waiting: dict[str, int] = {}
        self.children: dict[str, list[str]] = {}
        self.ready: list[tuple[int, str]] = []
        self.outcomes: list[StepOutcome] = []
        self.finished: dict[str, StepOutcome] = {}

    def _push(self, key: str) -> None:
        heapq.heappush(self.ready, (self.position.setdefault(key, len(self.position)), key))

    def add(self, key: str) -> None:
        deps = [d for d in set(self.plan.steps[key].deps) if d in self.chosen]
        pending = [d for d in deps if d not in self.state]  # a step added while the run goes
        for d in pending:  # (a mapped copy, a rewired collector) waits only for unfinished ones
            self.children.setdefault(d, []).append(key)
        self.waiting[key] = len(pending)
        if self.waiting[key] == 0:
            self._push(key)

    def pop(self) -> str | None:
        """The next ready step to start; None when it was skipped (its upstream failed)."""
        _, key = heapq.heappop(self.ready)
        step = self.plan.steps[key]
        bad = sorted(
            (d for d in set(step.deps) if self.state.get(d) in ("failed", "skipped")),
            key=lambda d: self.position.get(d, 0),
        )
        if self.listener:
            self.listener.on_start(step.display_key)
        missing = self._not_produced(step)
        if not bad and missing:  # an optional output upstream was not produced: skip, as Dagster
            self.finish(skipped_outcome(step, missing, benign=True), time.time())
            return None
        if not bad:
            tracker = self.run.versions
            if tracker is not None and tracker.skip_unchanged and step.kind == "asset":
                why = [tracker.unchanged_reason(self.run, k) for k in step.asset_keys]
                if why and all(why):
                    self.finish(unchanged_outcome(step, str(why[0])), time.time())
                    return None
            return key
        verb = "failed" if self.state[bad[0]] == "failed" else "was skipped"
        name = self.plan.steps[bad[0]].display_key.to_user_string()
        benign = all(getattr(self.finished.get(d), "benign", False) for d in bad)
        self.finish(skipped_outcome(step, f"upstream {name!r} {verb}", benign=benign),
                    time.time())  # fmt: skip
        return None

    def _not_produced(self, step: Any) -> str | None:
        """Why ``step`` cannot run when an upstream step succeeded without producing the
        optional output one of its (not fan-in) inputs reads; None when every one came."""
        for inp in step.inputs:
            for src in () if inp.fan_in else inp.sources:
                done = self.finished.get(src.step)
                if (
                    done is not None
                    and done.status == "success"
                    and src.output not in (done.outputs)
                ):
                    name = self.plan.steps[src.step].label
                    return f"upstream {name} did not produce its optional output {src.output!r}"
        return None

    def finish(self, outcome: StepOutcome, started_at: float) -> None:
        key = outcome.step_key
        self.finished[key] = outcome
        done = outcome.status in ("success", "unchanged")
        self.state[key] = "done" if done else outcome.status
        self.outcomes.append(outcome)
        if self.history is not None:
            record_outcome(self.history, self.run, self.plan.steps.get(key), outcome, started_at)
            if outcome.status == "failed":
                self.history.flush()
            else:
                self.history.flush_if_due()
        if self.listener:
            self.listener.on_finish(outcome)
        if outcome.status == "success" and (key in self.plan.mapped or _yields_dynamic(outcome)):
            self._expand(key, outcome)
        for child in self.children.pop(key, ()):
            self.waiting[child] -= 1
            if self.waiting[child] == 0:
                self._push(child)

    def _expand(self, key: str, outcome: StepOutcome) -> None:
        dynamic = {n: r.mapping_keys for n, r in outcome.outputs.items() if r.mapping_keys}
        for changed in self.plan.expand(key, dynamic):
            self.chosen.add(changed)
            if changed in self.state:
                continue
            if changed in self.waiting:  # a collector, rewired to the new copies
                self.waiting.pop(changed)
                for waiters in self.children.values():
                    while changed in waiters:
                        waiters.remove(changed)
                self.ready = [r for r in self.ready if r[1] != changed]
                heapq.heapify(self.ready)
            self.add(changed)


def _yields_dynamic(outcome: StepOutcome) -> bool:
    return outcome.status == "success" and any(r.mapping_keys for r in outcome.outputs.values())


@dataclass(frozen=True)
class MultiprocessExecutor:
    """Run the steps in a pool of warm worker processes, ``max_concurrent`` at a time.

    Each run starts its workers once (a worker per concurrent step) and hands them steps as
    their inputs become ready; a worker serves one step at a time, each with the step's own
    resources set up and torn down in it. A step that raises fails alone; a step that kills its
    worker (a crash, SIGKILL, out of memory) fails alone too, and a new worker takes the dead
    one's place (see :mod:`wharf._core.worker_pool`).

    Workers are forked from a clean server process (``forkserver``), never from the run's own
    process: forking a process whose DuckDB, polars or gRPC threads are running can crash the
    child. The server preloads wharf and the dataframe libraries the run has imported, so a
    worker starts in milliseconds; the run (assets, resources) reaches it through cloudpickle,
    so workers never re-import the caller's main module: a script, ``python -`` or a notebook
    that calls ``materialize`` needs no ``if __name__ == "__main__":`` guard.

    Args:
        max_concurrent: most workers at once; default the number of CPUs.
        start_method: ``"forkserver"`` (default), ``"spawn"``, or ``"fork"`` (fastest, unsafe
            once threaded libraries are in use).
    """

    max_concurrent: int | None = None
    start_method: str = "forkserver"
    name: str = "multiprocess"
    isolated: bool = True  # workers set up their own resources

    def __call__(
        self,
        run: RunContext,
        selected: Sequence[str],
        *,
        listener: RunListener | None = None,
        history: RunHistory | None = None,
    ) -> list[StepOutcome]:
        ctx: Any = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            ctx.set_forkserver_preload(_preload(run))
        fresh = RunResources(
            run.resources.definitions, run.resources.keys, run.run_id, run.instance
        )
        cloudpickle = require("cloudpickle", purpose="the multiprocess executor")
        portable = replace(run, resources=fresh)
        pickled: list[Any] = [-1, b""]

        def payload() -> tuple[int, bytes]:
            version = len(run.plan.steps) if run.plan else 0  # grows with a dynamic expansion
            if pickled[0] != version:
                pickled[:] = [version, cloudpickle.dumps(portable)]
            return pickled[0], pickled[1]

        limit = max(1, self.max_concurrent or os.cpu_count() or 1)
        with WorkerPool(run, ctx, limit, payload) as pool:
            pool.warm(len(selected))
            return schedule(
                run, selected, start=pool.submit, collect=pool.collect, limit=limit,
                listener=listener, history=history,
            )  # fmt: skip


_PRELOAD = (
    "pydantic", "upath", "fsspec", "numpy", "pyarrow", "pyarrow.parquet", "pandas", "polars",
    "duckdb", "s3fs", "gcsfs", "adlfs",
)  # fmt: skip


def _preload(run: RunContext) -> list[str]:
    """Modules the fork server imports once, so workers start without importing them: wharf,
    the heavy libraries this process has loaded, the resources' and the assets' modules."""
    names = {"wharf", "wharf._core.executors", "cloudpickle"}
    names.update(name for name in _PRELOAD if name in sys.modules)
    names.update(type(res).__module__ for res in run.resources.definitions.values())
    names.update(getattr(asset.fn, "__module__", "") for asset in run.graph.executable)
    if run.plan is not None:
        names.update(getattr(s.fn, "__module__", "") for s in run.plan.steps.values())
    return sorted(n for n in names if n in sys.modules and n != "__main__")


class _ExecutorFactory:
    """Dagster's executor shape: usable bare, called with config, or ``.configured({...})``."""

    def __init__(self, build: Callable[..., Any], name: str) -> None:
        self._build, self.name = build, name

    def __call__(self, **config: Any) -> Any:
        return self._build(**config)

    def configured(self, config: Mapping[str, Any]) -> Any:
        return self._build(**dict(config))

    def __repr__(self) -> str:
        return f"{self.name}_executor"


def _in_process(**_: Any) -> Callable[..., list[StepOutcome]]:
    return execute_in_process


in_process_executor = _ExecutorFactory(_in_process, "in_process")
multiprocess_executor = _ExecutorFactory(MultiprocessExecutor, "multiprocess")


def resolve_executor(executor: Any) -> Callable[..., list[StepOutcome]]:
    """An executor callable from what a user passed (None, a factory, or an executor)."""
    if executor is None:
        return execute_in_process
    if isinstance(executor, _ExecutorFactory):
        return executor()  # type: ignore[no-any-return]
    if callable(executor):
        return executor  # type: ignore[no-any-return]
    msg = (
        f"expected an executor (in_process_executor, multiprocess_executor, ...), got {executor!r}"
    )
    raise DefinitionError(msg, expected="an executor", got=repr(executor))


def named_executor(
    name: str, *, max_concurrent: int | None = None, address: str | None = None
) -> Any:
    """The executor the CLI's ``--executor NAME`` means."""
    if name == "in_process":
        return execute_in_process
    if name == "multiprocess":
        return MultiprocessExecutor(max_concurrent=max_concurrent)
    if name == "dask":
        from wharf._core.dask_executor import dask_executor

        return dask_executor(address, max_concurrent=max_concurrent)
    msg = f"unknown executor {name!r}: expected in_process, multiprocess or dask"
    raise DefinitionError(msg, expected="in_process, multiprocess or dask", got=name)
