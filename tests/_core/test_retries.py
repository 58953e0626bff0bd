"""Retries: RetryPolicy on assets and jobs, RetryRequested, Failure, Backoff/Jitter; every
attempt recorded; the stored value stays readable until an attempt succeeds."""

from __future__ import annotations

from pathlib import Path

import pytest

import wharf as dg
from wharf._core.history import RunHistory
from wharf.errors import DefinitionError


def flaky(times: int, seen: list[int]) -> None:
    seen.append(len(seen) + 1)
    if len(seen) <= times:
        raise ConnectionError(f"try {len(seen)} failed")


def test_retry_policy_on_an_asset_runs_it_again() -> None:
    seen: list[int] = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=3))
    def fetched() -> int:
        flaky(2, seen)
        return len(seen)

    result = dg.materialize_to_memory([fetched])
    assert result.output_for_node("fetched") == 3
    outcome = result.outcome("fetched")
    assert outcome.attempts == 3
    assert [why for _, _, why in outcome.retries] == [
        "ConnectionError: try 1 failed",
        "ConnectionError: try 2 failed",
    ]
    assert "attempt 1 of asset 'fetched' failed" in outcome.logs[0].message


def test_retries_run_out_and_the_last_error_fails_the_asset() -> None:
    seen: list[int] = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    def never() -> int:
        flaky(5, seen)
        return 1

    result = dg.materialize([never], raise_on_error=False)
    assert not result.success
    assert seen == [1, 2]
    assert "try 2 failed" in str(result.failures[dg.AssetKey("never")])
    with RunHistory() as history:
        rows = history.for_run(result.run_id)
    assert [r.status for r in rows] == ["retried", "failed"]
    assert rows[0].error == "ConnectionError: try 1 failed"


# Dagster's RetryRequested documentation example (op retries), as an asset.
def test_retry_requested_without_a_policy() -> None:
    attempts: list[int] = []

    @dg.asset
    def retry_asset() -> str:
        attempts.append(1)
        try:
            if len(attempts) < 3:
                raise ValueError("the API is not ready")
        except ValueError as exc:
            raise dg.RetryRequested(max_retries=3) from exc
        return "ready"

    result = dg.materialize_to_memory([retry_asset])
    assert result.output_for_node("retry_asset") == "ready"
    assert result.outcome("retry_asset").attempts == 3


def test_failure_carries_metadata_and_can_forbid_retries() -> None:
    calls: list[int] = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=5))
    def checked() -> int:
        calls.append(1)
        raise dg.Failure(
            description="bad input file", metadata={"rows_rejected": 12}, allow_retries=False
        )

    result = dg.materialize_to_memory([checked], raise_on_error=False)
    outcome = result.outcome("checked")
    assert calls == [1]
    assert outcome.status == "failed"
    assert "bad input file" in outcome.reason
    assert outcome.metadata["rows_rejected"].value == 12
    with pytest.raises(dg.Failure, match="bad input file"):
        dg.materialize_to_memory([checked])


def test_job_op_retry_policy_applies_to_assets_without_their_own() -> None:
    seen: list[int] = []

    @dg.asset
    def unsteady() -> int:
        flaky(1, seen)
        return 7

    job = dg.define_asset_job("steady", op_retry_policy=dg.RetryPolicy(max_retries=2))
    defs = dg.Definitions(
        assets=[unsteady], jobs=[job], resources={"io_manager": dg.InMemoryIOManager()}
    )
    assert defs.get_job_def("steady").execute_in_process().output_for_node("unsteady") == 7
    assert seen == [1, 2]


def test_backoff_and_jitter_delays() -> None:
    linear = dg.RetryPolicy(max_retries=3, delay=1.0, backoff=dg.Backoff.LINEAR)
    assert [linear.delay_before(n) for n in (1, 2, 3)] == [1.0, 2.0, 3.0]
    full = dg.RetryPolicy(max_retries=3, delay=2.0, jitter=dg.Jitter.FULL)
    assert all(0.0 <= full.delay_before(1) <= 2.0 for _ in range(50))
    pm = dg.RetryPolicy(max_retries=3, delay=2.0, jitter=dg.Jitter.PLUS_MINUS)
    assert all(1.0 <= pm.delay_before(1) <= 3.0 for _ in range(50))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_retries": -1}, "max_retries=-1"),
        ({"max_retries": "3"}, "max_retries='3'"),
        ({"delay": -2}, "delay=-2"),
        ({"delay": 1, "backoff": "EXPONENTIAL"}, "expected Backoff.LINEAR or Backoff.EXPONENTIAL"),
        ({"jitter": dg.Jitter.FULL}, "a delay for backoff/jitter"),
    ],
)
def test_bad_retry_policies(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(DefinitionError, match=match):
        dg.RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_a_retry_policy_of_the_wrong_type_names_the_asset_and_job() -> None:
    with pytest.raises(DefinitionError, match=r"asset 'x': retry_policy=3 is not a RetryPolicy"):

        @dg.asset(name="x", retry_policy=3)
        def x() -> None:
            pass

    with pytest.raises(DefinitionError, match=r"job 'j': op: retry_policy=.* is not a RetryPolicy"):
        dg.define_asset_job("j", op_retry_policy={"max_retries": 2})


@pytest.mark.parametrize("executor", ["multiprocess", "dask"])
def test_retries_in_worker_processes_keep_the_old_value_readable(
    tmp_path: Path, executor: str
) -> None:
    marker = tmp_path / "attempts"
    io = dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))

    @dg.asset(name="value", retry_policy=dg.RetryPolicy(max_retries=2))
    def value_v1() -> int:
        return 1

    assert dg.materialize([value_v1], resources={"io_manager": io}).success

    @dg.asset(name="value", retry_policy=dg.RetryPolicy(max_retries=2))
    def value_v2() -> int:
        with marker.open("a") as f:
            f.write("x")
        if len(marker.read_text()) < 3:
            # the earlier stored value is still there while this attempt fails
            assert (
                dg.Definitions(assets=[value_v1], resources={"io_manager": io}).load_asset_value(
                    "value"
                )
                == 1
            )
            raise TimeoutError("slow store")
        return 2

    run_executor = (
        dg.multiprocess_executor(max_concurrent=1)
        if executor == "multiprocess"
        else dg.dask_executor()
    )
    result = dg.materialize([value_v2], resources={"io_manager": io}, executor=run_executor)
    assert result.asset_value("value") == 2
    assert result.outcome("value").attempts == 3
