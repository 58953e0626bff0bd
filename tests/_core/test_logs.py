"""Step logs: context.log, get_dagster_logger and Python logging, captured per step in every
executor, kept in run history, secrets masked."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import wharf as dg
from wharf._core.history import RunHistory


# Dagster's logging documentation examples, imports changed only.
@dg.asset
def logger_asset(context: dg.AssetExecutionContext) -> None:
    context.log.info("Info level message")
    context.log.debug("Debug level message")


@dg.asset
def get_logger_asset() -> None:
    logger = dg.get_dagster_logger()
    logger.info("hello from get_dagster_logger")


def _messages(outcome: dg.ExecuteInProcessResult, key: str) -> list[tuple[str, str]]:
    return [(ln.level, ln.message) for ln in outcome.outcome(key).logs]


def test_documented_logging_examples_are_captured() -> None:
    result = dg.materialize([logger_asset, get_logger_asset])
    assert _messages(result, "logger_asset") == [
        ("INFO", "Info level message"),
        ("DEBUG", "Debug level message"),
    ]
    assert _messages(result, "get_logger_asset") == [("INFO", "hello from get_dagster_logger")]
    with RunHistory() as history:
        kept = history.logs(result.run_id)
    assert [(k, lvl, msg) for k, _, lvl, _, msg in kept] == [
        ("get_logger_asset", "INFO", "hello from get_dagster_logger"),
        ("logger_asset", "INFO", "Info level message"),
        ("logger_asset", "DEBUG", "Debug level message"),
    ]


def test_python_logging_follows_the_process_config_and_failures_keep_their_logs() -> None:
    @dg.asset
    def noisy() -> int:
        log = logging.getLogger("my.module")
        log.warning("careful: %d", 3)
        log.info("below the root level: not captured")
        try:
            1 / 0
        except ZeroDivisionError:
            log.exception("it broke")
        raise RuntimeError("boom")

    result = dg.materialize_to_memory([noisy], raise_on_error=False)
    lines = result.outcome("noisy").logs
    assert [(ln.logger, ln.level) for ln in lines] == [
        ("my.module", "WARNING"),
        ("my.module", "ERROR"),
    ]
    assert lines[0].message == "careful: 3"
    assert "ZeroDivisionError" in lines[1].message


def test_secrets_are_masked_in_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", "s3cr3t-value")

    class Api(dg.ConfigurableResource):
        token: str

    @dg.asset
    def calls(context: dg.AssetExecutionContext, api: Api) -> int:
        context.log.info("using token %s", api.token)
        dg.get_dagster_logger().warning(f"header: Bearer {api.token}")
        return 1

    result = dg.materialize_to_memory([calls], resources={"api": Api(token=dg.EnvVar("API_TOKEN"))})
    messages = [ln.message for ln in result.outcome("calls").logs]
    assert messages == ["using token **********", "header: Bearer **********"]


@pytest.mark.parametrize("executor", ["multiprocess", "dask"])
def test_worker_logs_come_back_with_the_outcome(tmp_path: Path, executor: str) -> None:
    @dg.asset
    def in_worker(context: dg.AssetExecutionContext) -> int:
        context.log.info("from the worker")
        return 1

    run_executor = (
        dg.multiprocess_executor(max_concurrent=1)
        if executor == "multiprocess"
        else dg.dask_executor()
    )
    result = dg.materialize(
        [in_worker],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "s"))},
        executor=run_executor,
    )
    assert _messages(result, "in_worker") == [("INFO", "from the worker")]
    with RunHistory() as history:
        assert [r[4] for r in history.logs(result.run_id, "in_worker")] == ["from the worker"]
