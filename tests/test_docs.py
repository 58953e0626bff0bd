"""The README's blocks run as written from an empty folder and show their results, its
fidelity table is current, the seed's examples run on wharf, and doctests keep their own
WHARF_HOME."""

from __future__ import annotations

import linecache
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import wharf as dg
from tests.postgres.fixtures import postgres_server
from tests.warehouse_fixtures import fakesnow_server, warehouse_env
from wharf.testing.snowflake import FakeSnowflake

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SEED = ROOT.parent / "shared" / "seed" / "examples"
# session fixtures: seed example 3 (Snowflake), the fidelity table's postgres column
__all__ = ["fakesnow_server", "postgres_server", "warehouse_env"]
SEED_URL = re.compile(r'"https://[^"]+raw_sales_data\.csv"')
IMPORTS = {
    "from dagster_duckdb import DuckDBResource": "from wharf.duckdb import DuckDBResource",
    "from dagster_duckdb_pandas import DuckDBPandasIOManager": "from wharf.duckdb import DuckDBPandasIOManager",
    "from dagster_snowflake_pandas import SnowflakePandasIOManager": (
        "from wharf.snowflake import SnowflakePandasIOManager"
    ),
    "import dagster as dg": "import wharf as dg",
}


@pytest.fixture
def sales_csv(tmp_path: Path) -> Path:
    (tmp_path / "examples").mkdir()
    return Path(shutil.copy(ROOT / "examples" / "sales.csv", tmp_path / "examples" / "sales.csv"))


@dataclass
class Block:
    """A fenced README block: its language, its text, and the file it is to be saved as."""

    lang: str
    text: str
    save_as: str | None


def readme_sections(text: str = README) -> list[tuple[str, list[Block]]]:
    """The ``## `` sections of the README that hold python or console blocks, in order.

    A python block right after a sentence saying ``Save this as `NAME`:`` (or ``Save it as``)
    is that file, for the blocks after it; any other python block is a program to run.
    """
    sections = []
    for chunk in re.split(r"^## ", text, flags=re.M)[1:]:
        title = chunk.splitlines()[0].strip()
        blocks = []
        for m in re.finditer(r"```(python|console)\n(.*?)```", chunk, re.S):
            before = chunk[: m.start()].rstrip().rsplit("\n\n", 1)[-1]
            saved = re.search(r"[Ss]ave (?:this|it) as `([\w.-]+)`:$", before)
            blocks.append(Block(m.group(1), m.group(2), saved.group(1) if saved else None))
        if blocks:
            sections.append((title, blocks))
    return sections


SECTIONS = readme_sections()
WHARF_BIN = Path(sys.executable).parent
# What each command (exactly as in the README) prints when it did its work; any other `wharf materialize` line must report
# a run with no failure, `wharf list` the assets, `wharf show` a materialization.
EXPECTED_OUTPUT = {
    "wharf materialize -f sales.py --select sales_summary": [r"1 done, 0 failed, 0 skipped"],
    "wharf materialize -f sales.py": [r"done +raw_sales_data", r"3 done, 0 failed, 0 skipped"],
    "wharf list -f sales.py": [r"3 assets in sales\.py", r"sales_summary .*success"],
    "wharf show sales_summary -f sales.py": [
        r"first 3 rows:\n +owner +amount\n +alice +15\.0\n +bob +0\.0\n +carol +7\.25\n"
    ],
    "wharf materialize -f shop.py --select orders --partitions 2024-01-01...2024-01-07": [
        r"backfill: 7 of 7 partitions succeeded"
    ],
    "wharf materialize -f shop.py --select by_region --partitions eu,us": [
        r"backfill: 2 of 2 partitions succeeded"
    ],
}
DEFAULT_OUTPUT = {
    "wharf materialize": r"\d+ done, 0 failed, 0 skipped|backfill: (\d+) of \1 partitions succeeded",
    "wharf list": r"\d+ assets? in ",
    "wharf show": r"last materialization of ",
}


def _user_env() -> dict[str, str]:
    """The environment of a user in a new folder: no WHARF_HOME (so ``./.wharf``), ``wharf`` on
    the PATH."""
    env = {k: v for k, v in os.environ.items() if k != "WHARF_HOME"}
    env["PATH"] = f"{WHARF_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run_console_line(command: str, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Run one command of a console block in ``folder``; ``wharf ...`` runs through the CLI's
    entry point in this process (the same argv, without a new interpreter's imports)."""
    if command.startswith("make "):  # run from a clone: check the target exists and parses
        target = command.split()[1]
        done = subprocess.run(
            ["make", "-n", "-B", "-C", str(ROOT), target],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}: {done.stderr}"
        return
    argv = shlex.split(command)
    if argv[0] == "wharf":
        from wharf.cli.main import main

        capsys.readouterr()
        code = main(argv[1:])
        captured = capsys.readouterr()
        output = captured.out + captured.err
    else:
        done = subprocess.run(
            command, shell=True, cwd=folder, env=_user_env(), capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        code, output = done.returncode, done.stdout + done.stderr
    assert code == 0, f"{command!r} exited {code}:\n{output}"
    expected = EXPECTED_OUTPUT.get(command) or [
        p for key, p in DEFAULT_OUTPUT.items() if command.startswith(key)
    ]
    assert expected, f"{command!r}: add what it prints to EXPECTED_OUTPUT in tests/test_docs.py"
    for pattern in expected:
        assert re.search(pattern, output), f"{command!r} printed no {pattern!r}:\n{output}"


@pytest.fixture
def reader_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty folder as the cwd, with the default ``./.wharf`` (no WHARF_HOME); the modules
    the CLI imported from it are forgotten afterwards."""
    folder = tmp_path / "reader"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("WHARF_HOME", raising=False)
    path = list(sys.path)
    yield folder
    sys.path[:] = path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(folder)):
            del sys.modules[name]


def _run_python(block: str, folder: Path) -> None:
    """Run a python block in ``folder``: one that starts worker processes as ``python -`` (a
    real ``__main__`` without a file), any other in this process, as a fresh ``__main__``."""
    if "executor" not in block:
        sys.path.insert(0, str(folder))  # as `python -` has the cwd first on sys.path
        # the block's own lines for inspect.getsource (code versions) and tracebacks, as a file
        # holding it would give; a bare "README.md" could resolve to the repository's README
        # through sys.path (pytest-xdist workers have the repository on it)
        name = "<README.md block>"
        linecache.cache[name] = (len(block), None, block.splitlines(keepends=True), name)
        exec(compile(block, name, "exec"), {"__name__": "__main__"})
        return
    done = subprocess.run(
        [sys.executable, "-"], input=block, cwd=folder, env=_user_env(), capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"python block failed:\n{block}\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize(("title", "blocks"), SECTIONS, ids=[t for t, _ in SECTIONS])
def test_readme_section_runs_as_written_from_an_empty_folder(
    title: str, blocks: list[Block], reader_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reader starts in an empty folder and follows the section: saves the files it names,
    runs its Python blocks and its commands, in order; each must succeed and
    show its result (the blocks' own asserts, ``EXPECTED_OUTPUT`` for commands)."""
    folder = reader_folder
    for i, block in enumerate(blocks):
        if block.save_as is not None:
            later = "".join(b.text for b in blocks[i + 1 :])
            assert Path(block.save_as).stem in later, f"{block.save_as} is used by no later block"
            (folder / block.save_as).write_text(block.text)
        elif block.lang == "python":
            assert "assert " in block.text, f"a python block of {title!r} checks nothing"
            _run_python(block.text, folder)
        else:
            for text in block.text.splitlines():
                command = text.split("  #")[0].strip()
                if command and not command.startswith("#"):
                    _run_console_line(command, folder, capsys)


def test_readme_blocks_are_found_and_saved_files_named() -> None:
    found = {t: [(b.lang, b.save_as) for b in bs] for t, bs in SECTIONS}
    assert found["Start here"] == [("console", None)]
    assert found["What asset code looks like"] == [
        ("python", "sales.py"), ("console", None), ("python", None),
    ]  # fmt: skip
    assert ("python", "shop.py") in found["Partitions"]
    assert sum(len(bs) for _, bs in SECTIONS) == len(re.findall(r"```(?:python|console)\n", README))


def test_a_multiprocess_script_without_a_main_guard_runs_as_a_file(tmp_path: Path) -> None:
    """The README's multiprocess block, saved as a script and run as ``python parallel.py``."""
    (block,) = [b for _, bs in SECTIONS for b in bs if "multiprocess_executor(" in b.text]
    assert "__main__" not in block.text
    script = tmp_path / "scripts" / "parallel.py"
    script.parent.mkdir()
    script.write_text(block.text)
    folder = tmp_path / "reader"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, str(script)], cwd=folder, env=_user_env(), capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (folder / "parallel-demo").is_dir()  # values went through the I/O manager


def test_make_demo_installs_only_the_demo_extra_and_says_so() -> None:
    """``make -n -B`` prints every command a fresh clone would run, running none."""
    demo = subprocess.run(
        ["make", "-n", "-B", "-C", str(ROOT), "demo"], capture_output=True, text=True,
        timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "uv pip install -e '.[demo]'" in demo
    assert ".[dev]" not in demo
    assert 'echo "==> installing wharf with the demo extra' in demo
    test = subprocess.run(
        ["make", "-n", "-B", "-C", str(ROOT), "test"], capture_output=True, text=True,
        timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "uv pip install -q -e '.[dev]'" in test
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert extras["optional-dependencies"]["demo"] == ["wharf[duckdb,pandas]"]
    start = README.split("## Start here")[1].split("\n## ")[0]
    for named in ("wharf[demo]", "DuckDB, pandas", "wharf[dev]", "min"):
        assert named in start  # the README says what each installs and how long it took


def test_readme_fidelity_table_is_current(postgres_server: object) -> None:
    from wharf.testing.fidelity import markdown_table

    published = README.split("<!-- fidelity:start -->\n")[1].split("<!-- fidelity:end -->")[0]
    assert published.strip() == markdown_table().strip()


def _seed(name: str, csv: Path) -> dict[str, object]:
    source = (SEED / name).read_text()
    for dagster_import, wharf_import in IMPORTS.items():
        source = source.replace(dagster_import, wharf_import)
    source = SEED_URL.sub(repr(str(csv)), source)
    namespace: dict[str, object] = {"__name__": "seed"}
    exec(compile(source, name, "exec"), namespace)
    return namespace


def test_seed_example_1_resource_only(sales_csv: Path) -> None:
    defs = _seed("1_resource_only.py", sales_csv)["defs"]
    assert isinstance(defs, dg.Definitions)
    assert defs.materialize().success
    from wharf.duckdb import DuckDBResource

    with DuckDBResource(database="sales.duckdb", schema="public").get_connection() as conn:
        rows = conn.sql("SELECT owner, amount FROM sales_summary ORDER BY owner").fetchall()
    assert [r[0] for r in rows] == ["alice", "bob", "carol", "dan", "erin"]
    assert round(sum(r[1] for r in rows), 2) == round(
        sum(float(x.split(",")[-1] or 0) for x in sales_csv.read_text().splitlines()[1:]), 2
    )


def test_seed_example_2_duckdb_io_manager(sales_csv: Path) -> None:
    defs = _seed("2_duckdb_io_manager.py", sales_csv)["defs"]
    assert isinstance(defs, dg.Definitions)
    result = defs.materialize()
    summary = result.asset_value("sales_summary")
    assert list(summary.columns) == ["owner", "amount"]
    assert len(summary) == 5
    events = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()}
    table = events["sales_summary"].materialization.metadata["table"].value
    assert table == '"sales"."public"."sales_summary"'
    # a later run of just the summary loads what the first run stored
    assert defs.materialize(selection=["sales_summary"]).success


def test_seed_example_3_snowflake_swap(
    sales_csv: Path, fakesnow_server: FakeSnowflake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the imports change; the EnvVars point at the local Snowflake stand-in (fakesnow)."""
    for name, value in fakesnow_server.env("SALES").items():
        monkeypatch.setenv(name, value)
    defs = _seed("3_snowflake_swap.py", sales_csv)["defs"]
    assert isinstance(defs, dg.Definitions)
    result = defs.materialize()
    summary = result.asset_value("sales_summary")
    assert list(summary.columns) == ["owner", "amount"]
    assert sorted(summary["owner"]) == ["alice", "bob", "carol", "dan", "erin"]
    events = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()}
    table = events["sales_summary"].materialization.metadata["table"].value
    assert table == '"SALES"."PUBLIC"."SALES_SUMMARY"'
    # a later run of just the summary loads what the first run stored, from Snowflake
    assert defs.materialize(selection=["sales_summary"]).success


def test_doctests_under_src_get_a_temporary_wharf_home(tmp_path: Path) -> None:
    """A doctest that materializes records its run in its own WHARF_HOME, not in the caller's
    ``.wharf/history.sqlite`` (the repository's, when pytest runs from the repository)."""
    env = {k: v for k, v in os.environ.items() if k != "WHARF_HOME"}
    args = [
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
    ]
    doctests = str(ROOT / "src" / "wharf" / "_core" / "definitions.py")  # runs an asset
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args, doctests],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed" in done.stdout
    assert not (tmp_path / ".wharf").exists()
