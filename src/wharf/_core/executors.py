"""Executors: how the steps of a run are scheduled. In-process (the default) and multiprocess.

An executor is a callable ``(run, selected, *, listener, history) -> list[StepOutcome]``. The
multiprocess executor runs each asset in its own worker process as soon as its upstream assets
are done, at most ``max_concurrent`` at a time. Values cross processes only through the I/O
managers: a worker sets up its own resources, loads its inputs from the stores, and stores its
output; the parent only schedules and records. A worker that raises, or dies (killed, out of
memory), fails its asset; its dependants are skipped and the others run on. Stores write
atomically, so a killed worker leaves the old value or the new one, never half of one.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from typing import Any

from wharf._core.assets import AssetsDefinition
from wharf._core.execution import (
    RunContext,
    RunListener,
    StepOutcome,
    execute_in_process,
    failed_outcome,
    record_outcome,
    run_asset,
)
from wharf._core.history import RunHistory
from wharf._core.keys import AssetKey
from wharf._core.resources import RunResources, needed_resource_keys
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
    from wharf._io.memory import InMemoryIOManager

    for key, resource in run_resources.items():
        if isinstance(resource, InMemoryIOManager) or _process_local(resource):
            reason = _process_local_reason(resource) or (
                f"{type(resource).__name__} keeps values inside one process: use an I/O manager "
                "whose values outlive a process (FilesystemIOManager, a DuckDB database file, "
                "ObjectStoreIOManager, ...) or the in_process executor"
            )
            msg = (
                f"resource {key!r} ({type(resource).__name__}) cannot be used with the "
                f"{executor} executor, which runs each asset in its own process: {reason}"
            )
            raise DefinitionError(
                msg, io_manager=key, expected="a store shared across processes",
                got=type(resource).__name__,
            )  # fmt: skip
        try:
            pickle.dumps(resource)
        except Exception as exc:
            msg = (
                f"resource {key!r} ({type(resource).__name__}) cannot be pickled ({exc}), but the "
                f"{executor} executor must send it to worker processes: expected a picklable "
                "resource (configure it with plain values; open connections in setup_for_execution)"
            )
            raise DefinitionError(
                msg, io_manager=key, expected="picklable", got=type(resource).__name__
            ) from exc


def _process_local(resource: Any) -> bool:
    """Whether a resource says its values live in one process (``is_process_local()``)."""
    check = getattr(resource, "is_process_local", None)
    return bool(check()) if callable(check) else False


def _process_local_reason(resource: Any) -> str | None:
    """The resource's own words on why its values stay in one process and what to use instead
    (``process_local_reason()``), if it has them."""
    explain = getattr(resource, "process_local_reason", None)
    return str(explain()) if callable(explain) else None


def _run_in_worker(run: RunContext, key: AssetKey) -> StepOutcome:
    """Set up this process's own resources, run one asset, tear the resources down."""
    asset = run.graph.by_key[key]
    assert isinstance(asset, AssetsDefinition)
    keys = needed_resource_keys(run.graph, [key])
    with RunResources(run.resources.definitions, keys, run.run_id) as resources:
        return run_asset(replace(run, resources=resources), asset)


def _portable(outcome: StepOutcome) -> StepOutcome:
    """The outcome with an error that survives pickling (else its text as a RuntimeError)."""
    if outcome.error is None:
        return outcome
    try:
        pickle.loads(pickle.dumps(outcome.error))
    except Exception:
        text = "".join(traceback.format_exception(outcome.error)).strip()
        outcome.error = RuntimeError(text)
    return outcome


def _child(conn: Connection, payload: bytes, key: AssetKey) -> None:
    """A worker: unpickle the run (cloudpickle: assets may be closures), run one asset, report."""
    status = 0
    try:
        start = time.perf_counter()
        try:
            run = require("cloudpickle", purpose="the multiprocess executor").loads(payload)
            outcome = _run_in_worker(run, key)
        except BaseException as exc:
            outcome = failed_outcome(key, exc, f" in process {os.getpid()}")
            outcome.duration_s = time.perf_counter() - start
        conn.send(_portable(outcome))
    except BaseException:
        status = 1
    finally:
        conn.close()
        os._exit(status)  # a worker must not run the exit handlers it inherited


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


@dataclass
class _Worker:
    key: AssetKey
    process: Any
    conn: Connection
    started_at: float


def _died(key: AssetKey, exitcode: int | None, seconds: float) -> StepOutcome:
    how = f"exit code {exitcode}"
    if exitcode is not None and exitcode < 0:
        how = f"killed by {signal.Signals(-exitcode).name}"
    err = RuntimeError(
        f"the worker process of asset {key.to_user_string()!r} died ({how}) before it reported; "
        "its stored value, if any, is the previous one"
    )
    return StepOutcome(key, "failed", seconds, error=err, reason=str(err))


def schedule(
    run: RunContext,
    selected: Sequence[AssetKey],
    *,
    start: Callable[[AssetKey], Any],
    collect: Callable[[list[Any]], list[tuple[Any, StepOutcome]]],
    limit: int,
    listener: RunListener | None = None,
    history: RunHistory | None = None,
) -> list[StepOutcome]:
    """Start each asset once its upstream assets are done, at most ``limit`` at a time.

    ``start(key)`` launches an asset and returns a handle; ``collect(handles)`` blocks until at
    least one finishes and returns ``(handle, outcome)`` pairs. An asset whose upstream failed
    or was skipped is skipped; the others run on.
    """
    chosen, pending = set(selected), list(selected)
    state: dict[AssetKey, str] = {}
    running: dict[Any, tuple[AssetKey, float]] = {}
    outcomes: list[StepOutcome] = []

    def finish(outcome: StepOutcome, started_at: float) -> None:
        state[outcome.key] = "done" if outcome.status == "success" else outcome.status
        outcomes.append(outcome)
        asset = run.graph.by_key[outcome.key]
        if history is not None and isinstance(asset, AssetsDefinition):
            record_outcome(history, run, asset, outcome, started_at)
        if listener:
            listener.on_finish(outcome)

    while pending or running:
        for key in list(pending):
            ups = [u for u in run.graph.upstream(key) if u in chosen]
            bad = [u for u in ups if state.get(u) in ("failed", "skipped")]
            ready = all(state.get(u) == "done" for u in ups) and len(running) < limit
            if not (bad or ready):
                continue
            pending.remove(key)
            if listener:
                listener.on_start(key)
            if bad:
                verb = "failed" if state[bad[0]] == "failed" else "was skipped"
                reason = f"upstream {bad[0].to_user_string()!r} {verb}"
                finish(StepOutcome(key, "skipped", reason=reason), time.time())
            else:
                running[start(key)] = (key, time.time())
        if running:
            for handle, outcome in collect(list(running)):
                finish(outcome, running.pop(handle)[1])
    return outcomes


@dataclass(frozen=True)
class MultiprocessExecutor:
    """Run each asset in its own worker process, ``max_concurrent`` at a time.

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
        selected: Sequence[AssetKey],
        *,
        listener: RunListener | None = None,
        history: RunHistory | None = None,
    ) -> list[StepOutcome]:
        ctx: Any = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            ctx.set_forkserver_preload(_preload(run))
        fresh = RunResources(run.resources.definitions, run.resources.keys, run.run_id)
        cloudpickle = require("cloudpickle", purpose="the multiprocess executor")
        payload = cloudpickle.dumps(replace(run, resources=fresh))
        workers: dict[Connection, _Worker] = {}

        def start(key: AssetKey) -> Connection:
            parent_end: Connection
            parent_end, child_end = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_child, args=(child_end, payload, key), daemon=True)
            with _main_not_reimported():
                process.start()
            child_end.close()
            workers[parent_end] = _Worker(key, process, parent_end, time.time())
            return parent_end

        def collect(handles: list[Any]) -> list[tuple[Any, StepOutcome]]:
            finished = []
            for conn in wait(handles):
                assert isinstance(conn, Connection)
                worker = workers.pop(conn)
                try:
                    outcome = conn.recv()
                except (EOFError, OSError):  # the worker died before it reported
                    worker.process.join()
                    outcome = _died(
                        worker.key, worker.process.exitcode, time.time() - worker.started_at
                    )
                else:
                    worker.process.join()
                conn.close()
                finished.append((conn, outcome))
            return finished

        limit = max(1, self.max_concurrent or os.cpu_count() or 1)
        return schedule(
            run, selected, start=start, collect=collect, limit=limit,
            listener=listener, history=history,
        )  # fmt: skip


_PRELOAD = (
    "pydantic", "upath", "fsspec", "numpy", "pyarrow", "pyarrow.parquet", "pandas", "polars",
    "duckdb", "s3fs", "gcsfs", "adlfs",
)  # fmt: skip


def _preload(run: RunContext) -> list[str]:
    """Modules the fork server imports once, so workers start without importing them: wharf,
    the heavy libraries this process has loaded, the resources' and the assets' modules."""
    import sys

    names = {"wharf", "wharf._core.executors", "cloudpickle"}
    names.update(name for name in _PRELOAD if name in sys.modules)
    names.update(type(res).__module__ for res in run.resources.definitions.values())
    names.update(getattr(asset.fn, "__module__", "") for asset in run.graph.executable)
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
