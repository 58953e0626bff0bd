"""Log lines in the CLI: live during wharf materialize (--log-level), wharf show KEY --logs and
wharf logs RUN_ID."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from wharf.cli.main import main

Write = Callable[[str, str], Path]

LOGGING = """
import logging
import wharf as dg

@dg.asset
def chatty(context: dg.AssetExecutionContext) -> int:
    context.log.debug("debug detail")
    context.log.info("loading %d rows", 3)
    logging.getLogger("user.code").info("plain python logging")
    context.log.warning("almost out of space")
    return 3

defs = dg.Definitions(assets=[chatty])
"""


def _run_id(out: str) -> str:
    found = re.search(r"^run ([0-9a-f]{32})", out, re.M)
    assert found, out
    return found.group(1)


def test_materialize_shows_log_lines_from_the_level_up(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("chatty.py", LOGGING)
    assert main(["materialize", "-f", "chatty.py"]) == 0
    out = capsys.readouterr().err
    assert "INFO     chatty: loading 3 rows" in out
    assert "INFO     chatty: plain python logging" in out
    assert "WARNING  chatty: almost out of space" in out
    assert "debug detail" not in out
    assert main(["materialize", "-f", "chatty.py", "--log-level", "warning"]) == 0
    out = capsys.readouterr().err
    assert "loading 3 rows" not in out
    assert "almost out of space" in out
    in_workers = ["--log-level", "debug", "--executor", "multiprocess"]
    assert main(["materialize", "-f", "chatty.py", *in_workers]) == 0
    out = capsys.readouterr().err
    assert "DEBUG    chatty: debug detail" in out


def test_logs_command_and_show_logs(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("chatty.py", LOGGING)
    assert main(["materialize", "-f", "chatty.py"]) == 0
    run_id = _run_id(capsys.readouterr().out)
    assert main(["logs", run_id[:8]]) == 0
    out = capsys.readouterr().out
    assert f"logs of run {run_id}" in out
    assert re.search(r"INFO     chatty: loading 3 rows", out)
    assert "debug detail" in out  # history keeps every captured level
    assert main(["show", "chatty", "--logs"]) == 0
    out = capsys.readouterr().out
    assert f"logs of chatty in run {run_id}" in out
    assert "WARNING  almost out of space" in out
    assert main(["logs", "ffffffff"]) == 2
    assert "no run 'ffffffff'" in capsys.readouterr().err
