"""``import wharf`` stays light: no dataframe, database, config or cloud library is loaded."""

import json
import subprocess
import sys

import pytest

HEAVY = [
    "pandas",
    "polars",
    "pyarrow",
    "duckdb",
    "pyspark",
    "pydantic",
    "upath",
    "fsspec",
    "boto3",
    "google",
    "azure",
    "snowflake",
]

SCRIPT = """
import json, sys
{statement}
print(json.dumps(sorted(sys.modules)))
"""


def imported_by(statement: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "statement",
    [
        "import wharf",
        "import wharf.errors",
        "import wharf as dg; dg.asset; dg.materialize; dg.Definitions; dg.AssetKey",
    ],
)
def test_import_is_light(statement: str) -> None:
    modules = imported_by(statement)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == [], f"{statement!r} imported {heavy}"


def test_configurable_names_load_on_first_use() -> None:
    modules = imported_by("import wharf; wharf.ConfigurableResource")
    assert "pydantic" in modules  # the lazy import works, and is the only way pydantic loads
