"""The Dask executor: each asset runs as a task on a ``dask.distributed`` cluster.

Scheduling is the multiprocess executor's (an asset starts when its upstream assets are done),
with Dask workers in place of forked processes. Without an address, a ``LocalCluster`` on the
loopback interface is started for the run and closed after it. A worker that is lost fails its
asset with the cause; dependants are skipped, the rest run on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

from wharf._core.execution import RunContext, RunListener, StepOutcome, failed_outcome
from wharf._core.executors import _portable, _run_in_worker, schedule
from wharf._core.history import RunHistory
from wharf._core.io_managers import StoreCapabilities
from wharf._core.resources import RunResources
from wharf._deps import require
from wharf.errors import DefinitionError

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def _task(run: RunContext, key: str) -> StepOutcome:
    """Runs on a Dask worker: set up resources there, run one step, report a portable outcome."""
    start = time.perf_counter()
    try:
        outcome = _run_in_worker(run, key)
    except BaseException as exc:
        outcome = failed_outcome(run.step(key), exc, " on a Dask worker")
        outcome.duration_s = time.perf_counter() - start
    return _portable(outcome)


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
    """

    address: str | None = None
    cluster: Mapping[str, Any] = field(default_factory=dict)
    max_concurrent: int | None = None
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
        cluster = distributed.LocalCluster(**settings)
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
        payload = replace(
            run,
            resources=RunResources(
                run.resources.definitions, run.resources.keys, run.run_id, run.instance
            ),
        )
        client, cluster = self._client()

        keys: dict[Any, str] = {}

        def start(key: str) -> Any:
            name = f"{key}-{run.run_id}"
            future = client.submit(_task, payload, key, pure=False, key=name)
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


def dask_executor(address: str | None = None, **cluster: Any) -> DaskExecutor:
    """An executor that runs each asset on a Dask cluster (a local one when no ``address``).

    Examples:
        >>> dask_executor(n_workers=2).cluster
        {'n_workers': 2}
    """
    max_concurrent = cluster.pop("max_concurrent", None)
    return DaskExecutor(address=address, cluster=cluster, max_concurrent=max_concurrent)
