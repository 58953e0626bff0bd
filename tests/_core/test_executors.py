"""Executors: multiprocess and Dask give the in-process results, isolate failures, and refuse
configurations that cannot work across processes before anything runs."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import wharf as dg
from tests.object_stores.fixtures import cloud_env, s3_server
from wharf.duckdb import DuckDBIOManager
from wharf.errors import DefinitionError

__all__ = ["cloud_env", "s3_server"]  # session fixtures shared with the object-store tests

# Dask clusters that shut down (or lose a worker) leave sockets to the garbage collector.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

# wider than max_concurrent=4 below, so workers queue; every child is a worker process (or a Dask
# task) that sets up its own store client, which costs seconds apiece on a loaded 2-core machine
WIDTH = 6


def wide_graph() -> list[dg.AssetsDefinition]:
    """One root, WIDTH children, one sink that reads them all."""

    @dg.asset
    def root() -> pa.Table:
        return pa.table({"n": list(range(10))})

    def child(i: int) -> dg.AssetsDefinition:
        @dg.asset(name=f"child_{i}")
        def make(root: pa.Table) -> pa.Table:
            return pa.table({"n": [v * i for v in root.column("n").to_pylist()]})

        return make

    @dg.asset(ins={f"child_{i}": dg.AssetIn() for i in range(WIDTH)})
    def sink(**children: pa.Table) -> pa.Table:
        totals = {k: sum(t.column("n").to_pylist()) for k, t in sorted(children.items())}
        return pa.table({"child": list(totals), "total": list(totals.values())})

    return [root, *(child(i) for i in range(WIDTH)), sink]


def store(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    if name == "duckdb":
        return DuckDBIOManager(database=str(tmp_path / "wide.duckdb"))
    if name == "filesystem":
        return dg.FilesystemIOManager(base_dir=str(tmp_path / "files"))
    from wharf import ObjectStoreIOManager

    server = request.getfixturevalue("s3_server")  # moto, started by the test session
    return ObjectStoreIOManager(
        base_path=f"s3://wharf/{tmp_path.name}", storage_options=server.storage_options()
    )


@pytest.mark.parametrize("store_name", ["duckdb", "filesystem", "s3"])
@pytest.mark.parametrize("executor", ["multiprocess", "dask"])
def test_wide_graph_gives_the_in_process_result(
    tmp_path: Path, store_name: str, executor: str, request: pytest.FixtureRequest
) -> None:
    assets = wide_graph()
    expected = dg.materialize(assets, resources={"io_manager": dg.InMemoryIOManager()})
    want = expected.asset_value("sink").to_pylist()
    if executor == "multiprocess":
        run_with: Any = dg.multiprocess_executor(max_concurrent=4)
    else:
        run_with = dg.dask_executor(request.getfixturevalue("dask_cluster"))
    result = dg.materialize(
        assets, resources={"io_manager": store(store_name, tmp_path, request)}, executor=run_with
    )
    assert result.success
    assert len(result.outcomes) == WIDTH + 2
    assert result.asset_value("sink").to_pylist() == want


def test_definitions_executor_runs_each_asset_in_another_process(tmp_path: Path) -> None:
    @dg.asset
    def first() -> int:
        return os.getpid()

    @dg.asset
    def second(first: int) -> tuple[int, int]:
        return first, os.getpid()

    defs = dg.Definitions(
        assets=[first, second],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))},
        executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
    )
    result = defs.materialize()
    first_pid, second_pid = result.asset_value("second")
    assert os.getpid() not in (first_pid, second_pid)
    assert first_pid != second_pid  # one worker per asset


def test_killed_worker_fails_its_asset_skips_dependants_and_keeps_the_old_value(
    tmp_path: Path,
) -> None:
    io = DuckDBIOManager(database=str(tmp_path / "k.duckdb"))
    marker = tmp_path / "die"

    @dg.asset
    def victim() -> pa.Table:
        if marker.exists():
            os.kill(os.getpid(), signal.SIGKILL)
        return pa.table({"v": [1, 2, 3]})

    @dg.asset
    def after(victim: pa.Table) -> pa.Table:
        return victim

    @dg.asset
    def bystander() -> pa.Table:
        return pa.table({"b": [0]})

    assets = [victim, after, bystander]
    run_with = dg.multiprocess_executor(max_concurrent=2)
    assert dg.materialize(assets, resources={"io_manager": io}, executor=run_with).success
    marker.touch()
    result = dg.materialize(
        assets, resources={"io_manager": io}, executor=run_with, raise_on_error=False
    )
    status = {o.key.to_user_string(): o.status for o in result.outcomes}
    assert status == {"victim": "failed", "after": "skipped", "bystander": "success"}
    assert "SIGKILL" in str(result.failures[dg.AssetKey("victim")])
    defs = dg.Definitions(assets=assets, resources={"io_manager": io})
    stored = defs.load_asset_value("victim", python_type=pa.Table)
    assert stored.column("v").to_pylist() == [1, 2, 3]  # the old value, intact


def test_asset_error_keeps_its_type_across_the_process_boundary(tmp_path: Path) -> None:
    @dg.asset
    def broken() -> int:
        raise ValueError("bad input data")

    with pytest.raises(ValueError, match="bad input data"):
        dg.materialize(
            [broken],
            resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))},
            executor=dg.multiprocess_executor(),
        )


def test_eight_concurrent_writers_to_one_duckdb_file(tmp_path: Path) -> None:
    def writer(i: int) -> dg.AssetsDefinition:
        @dg.asset(name=f"w{i}")
        def write() -> pa.Table:
            return pa.table({"i": [i] * 50_000})

        return write

    assets = [writer(i) for i in range(8)]
    io = DuckDBIOManager(database=str(tmp_path / "shared.duckdb"))
    result = dg.materialize(
        assets, resources={"io_manager": io}, executor=dg.multiprocess_executor(max_concurrent=8)
    )
    assert result.success
    for i in range(8):
        assert result.asset_value(f"w{i}").num_rows == 50_000


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (dg.InMemoryIOManager(), "InMemoryIOManager keeps values inside one process"),
        (
            DuckDBIOManager(database=":memory:"),
            "database ':memory:' lives inside this process and cannot be shared across "
            r"processes; give it a database file .*DuckDBIOManager\(database='warehouse.duckdb'\)",
        ),
    ],
)
def test_process_local_stores_are_refused_before_the_run(resource: Any, expected: str) -> None:
    ran: list[str] = []

    @dg.asset
    def a() -> pa.Table:
        ran.append("a")
        return pa.table({"x": [1]})

    for run_with in (dg.multiprocess_executor(), dg.dask_executor()):
        with pytest.raises(DefinitionError, match=expected):
            dg.materialize([a], resources={"io_manager": resource}, executor=run_with)
    assert ran == []


def test_unpicklable_resource_is_refused_before_the_run(tmp_path: Path) -> None:
    @dg.asset(required_resource_keys={"lock"})
    def a() -> int:
        return 1

    resources = {
        "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path)),
        "lock": threading.Lock(),
    }
    with pytest.raises(DefinitionError, match=r"'lock' \(lock\) cannot be pickled"):
        dg.materialize([a], resources=resources, executor=dg.multiprocess_executor())


def test_local_files_with_a_remote_dask_cluster_are_refused(tmp_path: Path) -> None:
    @dg.asset
    def a() -> int:
        return 1

    # the check runs before any connection: nothing is sent to this address
    remote = dg.dask_executor("tcp://scheduler.example.invalid:8786")
    with pytest.raises(DefinitionError, match="stores values on this machine"):
        dg.materialize(
            [a], resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))},
            executor=remote,
        )  # fmt: skip


def test_lost_dask_worker_fails_its_asset_and_the_rest_run(tmp_path: Path) -> None:
    import dask

    @dg.asset
    def crashes() -> int:
        os.kill(os.getpid(), signal.SIGKILL)  # takes the whole Dask worker process down
        return 1

    @dg.asset
    def after(crashes: int) -> int:
        return crashes

    @dg.asset
    def fine() -> int:
        return 2

    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    # the nanny restarts the killed worker and ``fine`` runs on the new one; the cluster closes
    # a worker whose name is not back after ``lost-worker-timeout`` (15 s), which under load
    # killed the restarted worker mid-``fine``: give the restart all the time it needs
    settings = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.deploy.lost-worker-timeout": "600s",
    }
    with dask.config.set(settings):
        result = dg.materialize(
            [crashes, after, fine], resources={"io_manager": io},
            executor=dg.dask_executor(n_workers=1, max_concurrent=1), raise_on_error=False,
        )  # fmt: skip
    status = {o.key.to_user_string(): o.status for o in result.outcomes}
    assert status == {"crashes": "failed", "after": "skipped", "fine": "success"}
    assert "KilledWorker" in str(result.outcome("crashes").reason)


NO_GUARD_SCRIPT = """
import os
import wharf as dg

@dg.asset
def a() -> int:
    return os.getpid()

@dg.asset
def b(a: int) -> list[int]:
    return [a, os.getpid()]

result = dg.materialize(
    [a, b], resources={"io_manager": dg.FilesystemIOManager(base_dir="store")},
    executor=dg.multiprocess_executor(max_concurrent=2),
)
pids = result.asset_value("b")
assert os.getpid() not in pids and len(set(pids)) == 2, pids
print("ran in", len(set(pids)), "workers")
"""


@pytest.mark.parametrize("how", ["script", "stdin"])
def test_a_main_without_the_main_guard_runs_its_workers(tmp_path: Path, how: str) -> None:
    """Workers get the run through cloudpickle: they never re-run the caller's ``__main__``."""
    import subprocess
    import sys

    script = tmp_path / "pipeline.py"
    script.write_text(NO_GUARD_SCRIPT)
    args = [sys.executable, str(script)] if how == "script" else [sys.executable, "-"]
    done = subprocess.run(
        args, input=None if how == "script" else NO_GUARD_SCRIPT, capture_output=True,
        text=True, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ran in 2 workers"
    assert "Traceback" not in done.stderr
