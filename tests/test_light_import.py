"""``import wharf`` stays light: no dataframe, database, config or cloud library is loaded."""

import json
import subprocess
import sys

import pytest

from wharf._stores.registry import STORES, StoreRow

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
    "psycopg",
    "adbc_driver_postgresql",
    "adbc_driver_sqlite",
    "adbc_driver_manager",
    "py4j",
    "s3fs",
    "botocore",
    "aiobotocore",
    "gcsfs",
    "adlfs",
    "aiohttp",
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


@pytest.mark.parametrize(
    "statement",
    [
        "import wharf.postgres; wharf.postgres.PostgresIOManager(host='db')",
        "import wharf.duckdb; wharf.duckdb.DuckDBPySparkIOManager(database=':memory:')",
        "import wharf._frames.registry",
        "import wharf.snowflake as s; s.SnowflakePandasIOManager(database='D', account='a', "
        "user='u', password='p').table_store(); s.SnowflakeResource(user='u')",
        "import wharf.bigquery as b; b.BigQueryPandasIOManager(project='p').table_store(); "
        "b.BigQueryResource()",
        "import wharf.s3 as s; s.S3PickleIOManager(s3_resource=s.S3Resource(), s3_bucket='b')",
        "import wharf.gcs as g; g.GCSPickleIOManager(gcs=g.GCSResource(), gcs_bucket='b')",
        "import wharf.adls2 as a; a.ADLS2PickleIOManager(adls2=a.ADLS2Resource("
        "storage_account='s', credential=a.ADLS2Key(key='k')), adls2_file_system='f')",
        "import wharf._io.object_store as o; o.ObjectStoreIOManager(base_path='gs://b/p')",
    ],
)
def test_store_modules_load_no_client_or_dataframe_library(statement: str) -> None:
    modules = imported_by(statement)  # pydantic is fine here: the managers are its models
    heavy = sorted({m.split(".")[0] for m in modules} & (set(HEAVY) - {"pydantic"}))
    assert heavy == [], f"{statement!r} imported {heavy}"


def test_core_imports_nothing_of_io() -> None:
    """The engine (``wharf._core``) is below the stores (``wharf._io``): no import goes up."""
    import ast
    from pathlib import Path

    core = Path(__file__).parents[1] / "src" / "wharf" / "_core"
    found = []
    for path in sorted(core.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            found += [f"{path.name}: {n}" for n in names if n.startswith("wharf._io")]
    assert found == []


@pytest.mark.parametrize("row", STORES, ids=lambda row: row.name)
def test_every_registered_store_module_loads_no_client(row: StoreRow) -> None:
    """Each table store of the registry: its public module, and a manager built from it,
    import none of its clients (they load on first use)."""
    kwargs = ", ".join(f"{k}={v!r}" for k, v in row.example.items())
    statement = f"import {row.module} as m; m.{row.manager}({kwargs}).table_store()"
    modules = imported_by(statement)
    clients = {c.split(".")[0] for c in row.clients} | (set(HEAVY) - {"pydantic"})
    assert sorted({m.split(".")[0] for m in modules} & clients) == []
