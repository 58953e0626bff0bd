"""``wharf materialize -f FILE --job NAME`` runs a job of ops with the progress lines, summary,
exit codes and run history assets get; ``--select`` is its op selection; ``wharf list`` shows
its ops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from wharf.cli.main import main

Write = Callable[[str, str], Path]

OPS = """
import wharf as dg

@dg.op(out=dg.DynamicOut())
def parts():
    for k in ("a", "b"):
        yield dg.DynamicOutput(k * 2, mapping_key=k)

@dg.op
def upper(s: str) -> str:
    return s.upper()

@dg.op
def join(items: list[str]) -> str:
    return ",".join(items)

@dg.op
def broken() -> int:
    raise ValueError("no rows today")

@dg.op
def after(n: int) -> int:
    return n

@dg.job(resource_defs={"io_manager": dg.FilesystemIOManager(base_dir="op-files")})
def words():
    join(parts().map(upper).collect())

@dg.job(resource_defs={"io_manager": dg.FilesystemIOManager(base_dir="op-files")})
def failing():
    after(broken())
"""


def test_a_job_of_ops_runs_from_the_cli_with_progress_summary_and_history(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("ops_jobs.py", OPS)
    assert main(["materialize", "-f", "ops_jobs.py", "--job", "words"]) == 0
    out = capsys.readouterr().out
    assert "upper[a]" in out
    assert "upper[b]" in out
    summary = next(ln for ln in out.splitlines() if ln.startswith("run "))
    assert "4 done, 0 failed, 0 skipped" in summary
    run_id = summary.split()[1].rstrip(":")
    assert (Path("op-files") / run_id / "join" / "result").exists()
    assert main(["show", "join"]) == 0
    assert run_id in capsys.readouterr().out


def test_a_failing_op_exits_1_and_names_the_op(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("ops_jobs.py", OPS)
    assert main(["materialize", "-f", "ops_jobs.py", "--job", "failing"]) == 1
    out = capsys.readouterr().out
    assert "op 'broken' failed:" in out
    assert "no rows today" in out
    assert "1 done" not in out
    assert "0 done, 1 failed, 1 skipped" in out


def test_select_is_the_op_selection_and_list_shows_the_ops(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("ops_jobs.py", OPS)
    assert main(["materialize", "-f", "ops_jobs.py", "--job", "words", "--select", "parts"]) == 0
    assert "1 done, 0 failed" in capsys.readouterr().out
    assert main(["materialize", "-f", "ops_jobs.py", "--job", "failing", "--select", "after"]) == 2
    err = capsys.readouterr().err
    assert "op 'after' is selected without the op that feeds its input 'n'" in err
    assert main(["list", "-f", "ops_jobs.py"]) == 0
    assert "ops: parts, upper, join" in capsys.readouterr().out
