"""The multiprocess executor's warm workers: a run starts its workers once and hands them steps;
a step that raises or kills its worker fails alone, and a dead worker is replaced. Counted in
worker pids, never timed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import wharf as dg


def pid_assets(names: list[str]) -> list[dg.AssetsDefinition]:
    def make(name: str) -> dg.AssetsDefinition:
        @dg.asset(name=name)
        def which_process() -> int:
            return os.getpid()

        return which_process

    return [make(n) for n in names]


def files(tmp_path: Path) -> dg.FilesystemIOManager:
    return dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))


def test_a_worker_serves_several_steps(tmp_path: Path) -> None:
    names = [f"step_{i}" for i in range(8)]
    result = dg.materialize(
        pid_assets(names), resources={"io_manager": files(tmp_path)},
        executor=dg.multiprocess_executor(max_concurrent=2),
    )  # fmt: skip
    pids = [result.asset_value(n) for n in names]
    assert os.getpid() not in pids
    # two warm workers for eight steps; the idle one that waited longest takes the next step
    assert len(set(pids)) == 2


def test_a_step_that_kills_its_worker_fails_alone_and_a_new_worker_runs_the_rest(
    tmp_path: Path,
) -> None:
    died = tmp_path / "victim.pid"

    @dg.asset
    def m_victim() -> int:
        died.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
        return 0

    @dg.asset
    def n_after(m_victim: int) -> int:
        return m_victim

    survivors = ["a_first", "b_second", "y_third", "z_fourth"]  # steps start in key order
    result = dg.materialize(
        [*pid_assets(survivors), m_victim, n_after], resources={"io_manager": files(tmp_path)},
        executor=dg.multiprocess_executor(max_concurrent=1), raise_on_error=False,
    )  # fmt: skip
    status = {o.key.to_user_string(): o.status for o in result.outcomes}
    assert status == {**dict.fromkeys(survivors, "success"), "m_victim": "failed",
                      "n_after": "skipped"}  # fmt: skip
    assert "killed by SIGKILL" in str(result.failures[dg.AssetKey("m_victim")])
    pids = {n: result.asset_value(n) for n in survivors}
    victim = int(died.read_text())
    # one worker ran the steps before the victim's and died with it; its replacement the rest
    assert pids["a_first"] == pids["b_second"] == victim
    assert pids["y_third"] == pids["z_fourth"] != victim


def test_a_step_that_raises_leaves_its_worker_serving(tmp_path: Path) -> None:
    @dg.asset
    def b_broken() -> int:
        msg = "bad rows"
        raise ValueError(msg)

    result = dg.materialize(
        [*pid_assets(["a_before", "c_after"]), b_broken],
        resources={"io_manager": files(tmp_path)},
        executor=dg.multiprocess_executor(max_concurrent=1), raise_on_error=False,
    )  # fmt: skip
    assert result.outcome("b_broken").status == "failed"
    assert isinstance(result.failures[dg.AssetKey("b_broken")], ValueError)
    assert result.asset_value("a_before") == result.asset_value("c_after")


def test_max_concurrent_is_the_most_steps_at_once(tmp_path: Path) -> None:
    running = tmp_path / "running"
    running.mkdir()

    def make(i: int) -> dg.AssetsDefinition:
        @dg.asset(name=f"busy_{i}")
        def busy() -> tuple[int, int]:
            mark = running / str(i)
            mark.touch()
            try:
                time.sleep(0.2)  # long enough for the others to start, if they could
                return len(list(running.iterdir())), os.getpid()
            finally:
                mark.unlink()

        return busy

    result = dg.materialize(
        [make(i) for i in range(6)], resources={"io_manager": files(tmp_path)},
        executor=dg.multiprocess_executor(max_concurrent=2),
    )  # fmt: skip
    seen = [result.asset_value(f"busy_{i}") for i in range(6)]
    assert max(at_once for at_once, _ in seen) <= 2
    assert len({pid for _, pid in seen}) == 2


def test_an_op_job_keeps_its_executor_config_retries_and_tags_in_the_workers(
    tmp_path: Path,
) -> None:
    attempts = tmp_path / "attempts"

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky(context: dg.OpExecutionContext) -> tuple[str, int]:
        with attempts.open("a") as f:
            f.write("x")
        if len(attempts.read_text()) < 3:
            msg = "not yet"
            raise TimeoutError(msg)
        return context.run_tags["team"], os.getpid()

    @dg.op
    def steady(context: dg.OpExecutionContext) -> tuple[str, int]:
        return context.run_tags["team"], os.getpid()

    @dg.op
    def both(a: tuple[str, int], b: tuple[str, int]) -> list[Any]:
        return [a, b, os.getpid()]

    @dg.job(
        resource_defs={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "s"))},
        executor_def=dg.multiprocess_executor.configured({"max_concurrent": 1}),
        tags={"team": "sales"},
    )
    def retried():
        both(flaky(), steady())

    result = retried.run()
    assert result.success
    assert result.outcome("flaky").attempts == 3
    (team_a, pid_a), (team_b, pid_b), pid_c = result.output_for_node("both")
    assert team_a == team_b == "sales"
    assert pid_a == pid_b == pid_c != os.getpid()  # max_concurrent 1: one worker for the run
