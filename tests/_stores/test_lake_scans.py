"""A ``polars.LazyFrame`` input of a Delta Lake or Iceberg table is the format's own lazy scan
(``pl.scan_delta`` / ``pl.scan_iceberg``): the partition filter and the projection are pushed
into it, no data file is read until it is collected, and the rows come in the written types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

import wharf as dg
from wharf.deltalake import DeltaLakeIOManager
from wharf.errors import StoredValueNotFoundError
from wharf.iceberg import IcebergIOManager

DAYS = dg.StaticPartitionsDefinition(["a", "b", "c"])


def _delta(tmp: Path) -> Any:
    return DeltaLakeIOManager(root_uri=str(tmp / "delta"))


def _iceberg(tmp: Path) -> Any:
    return IcebergIOManager(warehouse=str(tmp / "iceberg"))


MANAGERS = [pytest.param(_delta, id="deltalake"), pytest.param(_iceberg, id="iceberg")]


@dg.asset(partitions_def=DAYS, metadata={"partition_expr": "p"})
def t(context: dg.AssetExecutionContext) -> pl.DataFrame:
    key = context.partition_key
    return pl.DataFrame(
        {"p": [key, key], "v": [1, 2], "c": ["x", key]},
        schema={"p": pl.String, "v": pl.UInt8, "c": pl.Categorical},
    )


def _data_files(tmp: Path) -> list[Path]:
    return [p for p in tmp.rglob("*.parquet") if "metadata" not in p.parts]


def _store_all(io: Any) -> None:
    for key in DAYS.get_partition_keys():
        assert dg.materialize([t], resources={"io_manager": io}, partition_key=key).success


@pytest.mark.parametrize("manager", MANAGERS)
def test_a_lazyframe_input_is_the_formats_scan_with_filter_and_projection_pushed_down(
    manager: Any, tmp_path: Path
) -> None:
    io = manager(tmp_path)
    _store_all(io)
    seen: dict[str, Any] = {}

    @dg.asset(partitions_def=DAYS, ins={"t": dg.AssetIn(metadata={"columns": ["v", "c"]})})
    def u(t: pl.LazyFrame) -> None:
        seen["type"], seen["plan"] = type(t), t.explain()
        seen["rows"] = t.collect()

    result = dg.materialize([t, u], selection=[u], resources={"io_manager": io}, partition_key="b")
    assert result.success
    assert seen["type"] is pl.LazyFrame
    plan = seen["plan"]
    scan = plan[plan.index("Parquet SCAN") :]  # the filter is inside the scan node
    assert "SELECTION" in scan, plan
    assert 'col("p")' in scan, plan
    assert "wharf spill" not in plan, plan
    assert "PYTHON SCAN" not in plan, plan
    # file statistics: only the one file of partition b is listed in the scan
    assert scan.splitlines()[0].count(".parquet") == 1, plan
    rows = seen["rows"]
    assert rows.schema == {"v": pl.UInt8, "c": pl.Categorical()}  # as written
    assert rows.to_dict(as_series=False) == {"v": [1, 2], "c": ["x", "b"]}


@pytest.mark.parametrize("manager", MANAGERS)
def test_a_lazyframe_input_reads_no_data_file_until_collected(manager: Any, tmp_path: Path) -> None:
    """The data files are removed after the input is given and before it is collected: an
    eager read (or one spilled to a local file) would not notice; the scan then fails."""
    io = manager(tmp_path)
    _store_all(io)
    seen: dict[str, Any] = {}

    @dg.asset(deps=[t])
    def whole(t: pl.LazyFrame) -> None:
        assert t.select(pl.len()).collect().item() == 6
        for path in _data_files(tmp_path):
            path.unlink()
        with pytest.raises(FileNotFoundError) as failed:
            t.collect()
        seen["error"] = str(failed.value)

    assert dg.materialize([t, whole], selection=[whole], resources={"io_manager": io}).success
    assert ".parquet" in seen["error"]


@pytest.mark.parametrize("manager", MANAGERS)
def test_an_earlier_version_loads_as_a_lazy_scan_of_that_version(
    manager: Any, tmp_path: Path
) -> None:
    io = manager(tmp_path)
    _store_all(io)
    defs = dg.Definitions(assets=[t], resources={"io_manager": io})
    first = defs.load_asset_value("t", python_type=pl.LazyFrame, partition_key="a", version=-2)
    assert isinstance(first, pl.LazyFrame)
    assert "Parquet SCAN" in first.explain()
    assert first.collect()["c"].to_list() == ["x", "a"]
    # the first version (two writes back) has partition a only
    with pytest.raises(StoredValueNotFoundError, match="'b'"):
        defs.load_asset_value("t", python_type=pl.LazyFrame, partition_key="b", version=-2)
    latest = defs.load_asset_value("t", python_type=pl.LazyFrame, partition_key="b")
    assert latest.collect()["c"].to_list() == ["x", "b"]


def test_another_pyiceberg_catalog_by_configuration(tmp_path: Path) -> None:
    """Any pyiceberg catalog comes from its properties: here its in-memory catalog (no file),
    with the warehouse on a local folder. It lives in the process: the multiprocess executor
    refuses it before the run, naming the catalog."""
    io = IcebergIOManager(catalog={"type": "in-memory", "warehouse": f"file://{tmp_path}/wh"})
    assert not (tmp_path / "wh" / "catalog.db").exists()
    _store_all(io)
    defs = dg.Definitions(assets=[t], resources={"io_manager": io})
    both = defs.load_asset_value("t", python_type=pl.DataFrame)
    assert sorted(both["p"].to_list()) == ["a", "a", "b", "b", "c", "c"]
    assert len(defs.get_asset_versions("t")) == 3
    assert not list(tmp_path.rglob("*.db"))  # the catalog is in memory, the data files not
    assert _data_files(tmp_path)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"'type': 'in-memory'"):
        dg.materialize(
            [t], resources={"io_manager": io}, partition_key="a",
            executor=dg.multiprocess_executor,
        )  # fmt: skip
