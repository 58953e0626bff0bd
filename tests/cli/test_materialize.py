"""``wharf materialize``: runs, selections, failures and exit codes (in-process)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import FAILING, PIPELINE, SECRET
from wharf._core.history import RunHistory
from wharf.cli.main import main

Write = Callable[[str, str], Path]


def test_materialize_runs_every_asset(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("pipeline.py", PIPELINE)
    assert main(["materialize", "-f", "pipeline.py"]) == 0
    out = capsys.readouterr().out
    for key in ("numbers", "total", "doubled"):
        assert any(ln.startswith("done") and key in ln for ln in out.splitlines())
    assert "3 done, 0 failed, 0 skipped" in out
    run_id = out.split("run ", 1)[1].split(":", 1)[0]
    with RunHistory() as history:
        assert {r.asset_key for r in history.for_run(run_id)} == {"numbers", "total", "doubled"}


def test_select_runs_only_named_assets(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("pipeline.py", PIPELINE)
    assert main(["materialize", "-f", "pipeline.py", "--select", "numbers"]) == 0
    capsys.readouterr()
    # total loads numbers from the filesystem store the first run wrote.
    assert main(["materialize", "-f", "pipeline.py", "--select", "total"]) == 0
    out = capsys.readouterr().out
    assert "done     total" in out
    assert "numbers" not in out
    assert "1 done, 0 failed, 0 skipped" in out


def test_select_accepts_repeats_and_commas(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("pipeline.py", PIPELINE)
    argv = ["materialize", "-f", "pipeline.py", "--select", "numbers,total", "--select", "doubled"]
    assert main(argv) == 0
    assert "3 done" in capsys.readouterr().out


def test_failing_asset_exits_1_and_skips_dependants(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("failing.py", FAILING)
    assert main(["materialize", "-f", "failing.py"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert any(ln.startswith("done") and "numbers" in ln for ln in lines)
    assert any(ln.startswith("done") and "total" in ln for ln in lines)
    assert any(ln.startswith("failed") and "broken" in ln for ln in lines)
    assert any(ln.startswith("skipped") and "report" in ln for ln in lines)
    out = captured.out
    assert "ValueError: numbers do not add up" in out
    assert "second line of the message" in out
    assert "while materializing asset 'broken'" in out  # the exception's note
    assert "2 done, 1 failed, 1 skipped" in out
    assert "skipped  report: upstream 'broken' failed" in out
    assert "Traceback" not in out + captured.err
    assert (out + captured.err).count("numbers do not add up") == 1  # each error once
    assert "  failed   broken\n" in out  # the summary names it


def test_traceback_flag_prints_the_traceback(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("failing.py", FAILING)
    assert main(["materialize", "-f", "failing.py", "--traceback"]) == 1
    out = capsys.readouterr().out
    assert "Traceback (most recent call last)" in out
    assert 'raise ValueError("numbers do not add up' in out


def test_unknown_select_exits_2(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("pipeline.py", PIPELINE)
    assert main(["materialize", "-f", "pipeline.py", "--select", "nope"]) == 2
    captured = capsys.readouterr()
    assert "selection names 'nope', which is no asset" in captured.err
    assert "doubled, numbers, total" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_missing_env_var_exits_2_naming_it(
    write: Write, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WHARF_TEST_TOKEN", raising=False)
    write("secret.py", SECRET)
    assert main(["materialize", "-f", "secret.py"]) == 2
    err = capsys.readouterr().err
    assert "WHARF_TEST_TOKEN" in err
    assert "Traceback" not in err


def test_secret_values_are_never_printed(
    write: Write, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHARF_TEST_TOKEN", "s3cr3t-value")
    write("secret.py", SECRET)
    assert main(["materialize", "-f", "secret.py"]) == 0
    assert main(["list", "-f", "secret.py"]) == 0
    assert main(["show", "fetched", "-f", "secret.py"]) == 0
    captured = capsys.readouterr()
    assert "s3cr3t-value" not in captured.out + captured.err


def test_definition_error_exits_2(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        "bad_defs.py",
        """
        import wharf as dg

        @dg.asset(io_manager_key="warehouse")
        def a() -> int:
            return 1

        defs = dg.Definitions(assets=[a])
        """,
    )
    assert main(["materialize", "-f", "bad_defs.py"]) == 2
    err = capsys.readouterr().err
    assert "needs the io_manager_key 'warehouse'" in err
    assert "Traceback" not in err


def test_resource_setup_failure_exits_1(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        "setup_fails.py",
        """
        import wharf as dg

        class Db(dg.ConfigurableResource):
            def setup_for_execution(self, context):
                raise ConnectionError("database is down")

        @dg.asset
        def a(db: Db) -> int:
            return 1

        defs = dg.Definitions(assets=[a], resources={"db": Db()})
        """,
    )
    assert main(["materialize", "-f", "setup_fails.py"]) == 1
    err = capsys.readouterr().err
    assert "ConnectionError: database is down" in err
    assert "Traceback" not in err


def test_empty_definitions_do_nothing(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("empty.py", "import wharf as dg\ndefs = dg.Definitions()\n")
    assert main(["materialize", "-f", "empty.py"]) == 0
    assert "nothing to materialize" in capsys.readouterr().out


def test_location_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["materialize"])
    assert exc.value.code == 2
    assert "one of the arguments -m/--module -f/--file is required" in capsys.readouterr().err
