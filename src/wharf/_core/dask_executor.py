"""The Dask executor: each asset runs as a task on a ``dask.distributed`` cluster.

Scheduling is the multiprocess executor's (an asset starts when its upstream assets are done),
with Dask workers in place of forked processes; the run goes to each worker once (the result of
a task every step depends on, again after a dynamic expansion), not with every task. Without an
address, a ``LocalCluster`` on the loopback interface is started for the run and closed after
it. A worker that is lost fails its asset with the cause; dependants are skipped, the rest run
on.

A lost worker's nanny starts a new worker process under the same name. Dask's deploy code
closes a worker whose name is not back within ``distributed.deploy.lost-worker-timeout`` (15 s by
default), which on a loaded machine closed the restarted worker while it ran the next asset. The
cluster wharf starts waits ``lost_worker_timeout`` instead (10 minutes by default); a cluster
given by address is left as its owner configured it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

from wharf._core.execution import RunContext, RunListener, StepOutcome, failed_outcome
from wharf._core.executors import schedule
from wharf._core.history import RunHistory
from wharf._core.io_managers import StoreCapabilities
from wharf._core.keys import AssetKey
from wharf._core.resources import RunResources
from wharf._core.worker_pool import portable, run_in_worker
from wharf._deps import require
from wharf.errors import DefinitionError

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


_RUNS: dict[str, RunContext] = {}  # in a worker process: the run its last tasks came with
_RUNS_LOCK = threading.Lock()


def _task(payload: bytes, name: str, key: str) -> StepOutcome:
    """Runs on a Dask worker: set up resources there, run one step, report a portable outcome.

    The run comes pickled (``payload``, the result of one task all steps depend on) and is
    unpickled once per worker process and ``name`` (the run and its plan's size), so its steps
    share it as the steps of an in-process run do; Dask never pickles a run a step has used
    (it may hold locks by then).
    """
    start = time.perf_counter()
    run: RunContext | None = None
    try:
        with _RUNS_LOCK:
            if name not in _RUNS:
                _RUNS.clear()
                _RUNS[name] = require("cloudpickle", purpose="the Dask executor").loads(payload)
            run = _RUNS[name]
        outcome = run_in_worker(run, key)
    except BaseException as exc:
        step = run.step(key) if run is not None else AssetKey([key])
        outcome = failed_outcome(step, exc, " on a Dask worker")
        outcome.duration_s = time.perf_counter() - start
    return portable(outcome)


def _same(payload: bytes) -> bytes:
    return payload


def check_machine_local(resources: Mapping[str, Any], address: str | None) -> None:
    """A remote cluster cannot reach stores that live on this machine (local files, DuckDB)."""
    if address is None or urlparse(address).hostname in _LOCAL_HOSTS:
        return
    for key, resource in resources.items():
        if isinstance(resource, StoreCapabilities) and resource.is_machine_local():
            msg = (
                f"resource {key!r} ({type(resource).__name__}) stores values on this machine, but "
                f"the Dask cluster at {address} runs assets on other machines: expected a store "
                "every worker reaches (ObjectStoreIOManager on s3://, gs://, abfs://, a database)"
            )
            raise DefinitionError(
                msg, io_manager=key, expected="a shared store", got=type(resource).__name__
            )


@dataclass(frozen=True)
class DaskExecutor:
    """Run each asset as a Dask task.

    Args:
        address: a scheduler address (``tcp://host:8786``); None starts a ``LocalCluster``.
        cluster: keyword arguments of the ``LocalCluster`` (``n_workers``, ``threads_per_worker``).
        max_concurrent: most assets submitted at once; default unlimited.
        lost_worker_timeout: how long the ``LocalCluster`` wharf starts waits for a lost
            worker's restart before closing it (Dask's ``lost-worker-timeout``, whose default is
            15 s); not applied to a cluster given by ``address``.
    """

    address: str | None = None
    cluster: Mapping[str, Any] = field(default_factory=dict)
    max_concurrent: int | None = None
    lost_worker_timeout: str = "600s"
    name: str = "dask"
    isolated: bool = True

    def check_resources(self, resources: Mapping[str, Any]) -> None:
        """Before the run: every store must be reachable from the cluster's workers."""
        check_machine_local(resources, self.address)

    def _client(self) -> tuple[Any, Any]:
        distributed = require("distributed", purpose="the Dask executor")
        if self.address is not None:
            return distributed.Client(self.address), None
        settings = {"n_workers": 2, "threads_per_worker": 1, "processes": True,
                    "host": "127.0.0.1", "dashboard_address": ":0", **self.cluster}  # fmt: skip
        cluster = _run_cluster(distributed, self.lost_worker_timeout)(**settings)
        return distributed.Client(cluster), cluster

    def __call__(
        self,
        run: RunContext,
        selected: Sequence[str],
        *,
        listener: RunListener | None = None,
        history: RunHistory | None = None,
    ) -> list[StepOutcome]:
        distributed = require("distributed", purpose="the Dask executor")
        cloudpickle = require("cloudpickle", purpose="the Dask executor")
        fresh = RunResources(
            run.resources.definitions, run.resources.keys, run.run_id, run.instance
        )
        portable_run = replace(run, resources=fresh)
        client, cluster = self._client()

        keys: dict[Any, str] = {}
        sent: list[Any] = [-1, None]  # the plan's size when the run was sent, its future

        def start(key: str) -> Any:
            version = len(run.plan.steps) if run.plan else 0  # grows with a dynamic expansion
            if sent[0] != version:  # the run goes to the workers once, not with every task
                data = cloudpickle.dumps(portable_run)  # a task's result, not scattered data:
                run_key = f"run-{run.run_id}-{version}"  # recomputed if its worker is lost
                sent[:] = [version, client.submit(_same, data, pure=False, key=run_key)]
            name = f"{key}-{run.run_id}"
            future = client.submit(_task, sent[1], f"{run.run_id}-{version}", key, pure=False,
                                   key=name)  # fmt: skip
            keys[future] = key
            return future

        def collect(futures: list[Any]) -> list[tuple[Any, StepOutcome]]:
            finished = []
            for future in distributed.wait(futures, return_when="FIRST_COMPLETED").done:
                try:
                    outcome = future.result()
                except Exception as exc:  # a lost worker, a task that could not be sent
                    step = run.step(keys[future])
                    exc.add_note(f"{step.label} did not finish on Dask")
                    outcome = failed_outcome(step, exc)
                finished.append((future, outcome))
            return finished

        try:
            return schedule(
                run, selected, start=start, collect=collect,
                limit=self.max_concurrent or len(selected) or 1,
                listener=listener, history=history,
            )  # fmt: skip
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def _run_cluster(distributed: Any, lost_after: str) -> Any:
    """A ``LocalCluster`` class whose lost workers get ``lost_after`` to come back.

    Dask reads the timeout from its config when a worker leaves; this cluster sets it for
    that read only, so other clusters of the process keep theirs.
    """
    import dask

    class RunCluster(distributed.LocalCluster):  # type: ignore[misc]
        lost_worker_timeout = lost_after

        def _update_worker_status(self, op: str, msg: Any) -> None:
            setting = {"distributed.deploy.lost-worker-timeout": self.lost_worker_timeout}
            with dask.config.set(setting):
                super()._update_worker_status(op, msg)

    return RunCluster


def dask_executor(address: str | None = None, **cluster: Any) -> DaskExecutor:
    """An executor that runs each asset on a Dask cluster (a local one when no ``address``).

    Examples:
        >>> dask_executor(n_workers=2).cluster
        {'n_workers': 2}
    """
    options = {k: cluster.pop(k) for k in ("max_concurrent", "lost_worker_timeout") if k in cluster}
    return DaskExecutor(address=address, cluster=cluster, **options)
