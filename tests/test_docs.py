"""The README's examples run, its fidelity table is current, and the seed's examples run on wharf."""

from __future__ import annotations

import re
import shutil
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


@pytest.mark.parametrize(
    "block", re.findall(r"```python\n(.*?)```", README, re.S), ids=lambda b: b.splitlines()[0]
)
def test_readme_python_blocks_run(block: str, sales_csv: Path) -> None:
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})


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
    import os
    import subprocess
    import sys

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
