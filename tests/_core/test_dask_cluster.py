"""The Dask cluster the executor starts for a run: a lost worker's restart may take longer than
Dask's lost-worker-timeout without the cluster closing the restarted worker."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

import wharf as dg

pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

# a worker preload: the first start is quick, a restart takes RESTART_S (a slow, loaded machine)
PRELOAD = """
import pathlib, time
started = pathlib.Path({marker!r})
if started.exists():
    time.sleep({seconds})
started.touch()
"""
RESTART_S = 4


def test_a_slow_restart_of_a_lost_worker_keeps_the_run_going(tmp_path: Path) -> None:
    import dask
    import distributed  # noqa: F401  (its config defaults loaded before dask.config.set: a set
    # of a section not yet there would remove the whole section when it ends)

    preload = tmp_path / "slow_restart.py"
    preload.write_text(PRELOAD.format(marker=str(tmp_path / "started"), seconds=RESTART_S))

    @dg.asset
    def crashes() -> int:
        os.kill(os.getpid(), signal.SIGKILL)  # the nanny restarts the worker, slowly
        return 1

    @dg.asset
    def fine() -> int:
        return 2

    settings = {
        "distributed.scheduler.allowed-failures": 0,
        # Dask's own timeout, shorter than the restart: the cluster wharf starts waits longer
        "distributed.deploy.lost-worker-timeout": "1s",
        "distributed.scheduler.no-workers-timeout": "120s",  # without a worker: fail, not hang
    }
    with dask.config.set(settings):
        result = dg.materialize(
            [crashes, fine], resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))},
            executor=dg.dask_executor(n_workers=1, max_concurrent=1, preload=[str(preload)]),
            raise_on_error=False,
        )  # fmt: skip
    status = {o.key.to_user_string(): o.status for o in result.outcomes}
    assert status == {"crashes": "failed", "fine": "success"}, result.outcome("fine").reason
    assert result.asset_value("fine") == 2


def test_the_timeout_is_the_executors_own_setting() -> None:
    executor = dg.dask_executor(n_workers=1, lost_worker_timeout="30s")
    assert (executor.lost_worker_timeout, dict(executor.cluster)) == ("30s", {"n_workers": 1})
    assert dg.dask_executor().lost_worker_timeout == "600s"
