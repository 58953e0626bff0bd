"""Op jobs run on the multiprocess and Dask executors as assets do: each op in its own worker,
values crossing processes only through the I/O managers, dynamic copies scheduled as they
appear, and the same result as in process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import wharf as dg


@dg.op(out=dg.DynamicOut())
def chunks():
    for i in range(3):
        yield dg.DynamicOutput(list(range(i + 1)), mapping_key=f"c{i}")


@dg.op
def measure(chunk: list[int]) -> tuple[int, int]:
    return sum(chunk), os.getpid()


@dg.op(out={"total": dg.Out(io_manager_key="io_manager"), "pids": dg.Out()})
def combine(parts: list[tuple[int, int]]):
    return sum(p[0] for p in parts), sorted({p[1] for p in parts})


@dg.graph
def fan():
    combine(chunks().map(measure).collect())


@pytest.mark.parametrize("executor", ["multiprocess", "dask"])
def test_an_op_job_with_dynamic_mapping_runs_in_worker_processes(
    tmp_path: Path, executor: str, request: pytest.FixtureRequest
) -> None:
    if executor == "multiprocess":
        run_with: Any = dg.multiprocess_executor(max_concurrent=2)
    else:
        run_with = dg.dask_executor(request.getfixturevalue("dask_cluster"))
    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    job = fan.to_job(name="fan_job", resource_defs={"io_manager": io}, executor_def=run_with)
    result = job.run()  # the job's own executor (execute_in_process runs in this process)
    assert result.success
    assert result.output_for_node("combine", "total") == 0 + 1 + 3
    pids = result.output_for_node("combine", "pids")
    assert os.getpid() not in pids
    assert sorted(result.output_for_node("measure")) == ["c0", "c1", "c2"]
    assert (tmp_path / result.run_id / "measure[c2]" / "result").exists()


def test_in_memory_managers_are_refused_by_the_multiprocess_executor() -> None:
    job = fan.to_job(
        name="mem_job", resource_defs={"io_manager": dg.InMemoryIOManager()},
        executor_def=dg.multiprocess_executor,
    )  # fmt: skip
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="multiprocess executor"):
        job.run()


def test_a_failing_op_in_a_worker_skips_its_dependants(tmp_path: Path) -> None:
    @dg.op
    def bad() -> int:
        msg = "broken"
        raise RuntimeError(msg)

    @dg.op
    def after(n: int) -> int:
        return n

    @dg.op
    def fine() -> int:
        return 1

    @dg.job(
        resource_defs={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))},
        executor_def=dg.multiprocess_executor,
    )
    def mixed():
        after(bad())
        fine()

    result = mixed.run(raise_on_error=False)
    status = {o.step_key: o.status for o in result.outcomes}
    assert status == {"bad": "failed", "after": "skipped", "fine": "success"}
    assert "broken" in str(result.outcome("bad").error)
