"""Every table store reports Dagster's standard keys next to wharf's own; TableSchema and
friends as metadata values, kept in run history as JSON."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import wharf as dg
from wharf._core.history import RunHistory

WHARF_KEYS = {"row_count", "schema", "bytes", "duration_s"}


@dg.asset
def people() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"]})


def _manager(kind: str, tmp_path: Path) -> object:
    if kind == "filesystem":
        return dg.FilesystemIOManager(base_dir=str(tmp_path / "files"))
    from wharf.duckdb import DuckDBIOManager

    return DuckDBIOManager(database=str(tmp_path / "w.duckdb"), schema="public")


@pytest.mark.parametrize(
    ("kind", "where"), [("filesystem", "dagster/uri"), ("duckdb", "dagster/table_name")]
)
def test_table_stores_report_the_standard_keys(tmp_path: Path, kind: str, where: str) -> None:
    result = dg.materialize([people], resources={"io_manager": _manager(kind, tmp_path)})
    meta = result.outcome("people").metadata
    assert meta["dagster/row_count"].value == 3 == meta["row_count"].value
    schema = meta["dagster/column_schema"].value
    assert isinstance(schema, dg.TableSchema)
    assert [c.name for c in schema.columns] == ["id", "name"]
    assert where in meta
    assert WHARF_KEYS - {"bytes"} <= set(meta)
    with RunHistory() as history:
        kept = history.last("people")
    assert kept is not None
    assert [c["name"] for c in kept.metadata["dagster/column_schema"]] == ["id", "name"]


def test_documented_column_schema_metadata_on_an_asset() -> None:
    @dg.asset(
        metadata={
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn("name", "string", description="The name of the person"),
                    dg.TableColumn(
                        "age", "int", constraints=dg.TableColumnConstraints(nullable=False)
                    ),
                ]
            )
        }
    )
    def described() -> int:
        return 1

    schema = described.metadata["dagster/column_schema"]
    assert [c.type for c in schema.columns] == ["string", "int"]
    table = dg.MetadataValue.table(
        records=[dg.TableRecord({"name": "a", "age": 3})],
        schema=schema,
    )
    from wharf._core.results import metadata_to_json

    text = metadata_to_json({"preview": table, "cols": dg.MetadataValue.table_schema(schema)})
    assert '"records": [{"name": "a", "age": 3}]' in text
    assert '"constraints": {"nullable": false' in text
