"""Dagster's type-handler API on the table I/O managers: ``type_handlers()`` and
``default_load_type()`` overrides, ``build_duckdb_io_manager``, the built-in handlers under
Dagster's module names, and a user's handler for a type wharf does not know (a numpy array),
which gets the store's atomic write."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest

import wharf as dg
from wharf.deltalake import DeltaLakeIOManager
from wharf.duckdb import DuckDBIOManager, build_duckdb_io_manager
from wharf.duckdb_pandas import DuckDBPandasTypeHandler
from wharf.duckdb_polars import DuckDBPolarsTypeHandler
from wharf.errors import AssetTypeError, StorageError, StoredValueNotFoundError


class ArrayHandler(dg.DbTypeHandler[np.ndarray]):
    """Stores a 1-d float array as a table of one column ``value``, in Dagster's style."""

    def handle_output(
        self, context: Any, table_slice: dg.TableSlice, obj: np.ndarray, connection: Any
    ) -> dict[str, Any]:
        name = f"{table_slice.schema}.{table_slice.table}"
        connection.execute(f"CREATE TABLE {name} (value DOUBLE, part VARCHAR)")
        part = "a"
        if table_slice.partition_dimensions:
            part = table_slice.partition_dimensions[0].partitions[0]
        connection.executemany(f"INSERT INTO {name} VALUES (?, ?)", [[v, part] for v in obj])
        if obj.size and np.isnan(obj).any():
            raise ValueError("NaN in the array")
        return {"array_length": len(obj)}

    def load_input(self, context: Any, table_slice: dg.TableSlice, connection: Any) -> np.ndarray:
        sql = f"SELECT value FROM {table_slice.schema}.{table_slice.table}"
        if table_slice.partition_dimensions:
            dim = table_slice.partition_dimensions[0]
            keys = ", ".join(f"'{k}'" for k in dim.partitions)
            sql += f" WHERE {dim.partition_expr} IN ({keys})"
        return np.array([v for (v,) in connection.execute(sql + " ORDER BY value").fetchall()])

    @property
    def supported_types(self) -> Sequence[type[object]]:
        return [np.ndarray]


class ArraysAndPandas(DuckDBIOManager):
    @staticmethod
    def type_handlers() -> Sequence[dg.DbTypeHandler[Any]]:
        return [ArrayHandler(), DuckDBPandasTypeHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pd.DataFrame


def _tables(db: str) -> list[str]:
    with duckdb.connect(db) as con:
        return sorted(r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall())


def test_dagster_module_paths_name_the_same_objects() -> None:
    for module, names in {
        "duckdb_pandas": ["DuckDBPandasIOManager", "DuckDBPandasTypeHandler"],
        "duckdb_polars": ["DuckDBPolarsIOManager", "DuckDBPolarsTypeHandler"],
        "duckdb_pyspark": ["DuckDBPySparkIOManager", "DuckDBPySparkTypeHandler"],
        "snowflake_pandas": ["SnowflakePandasIOManager", "SnowflakePandasTypeHandler"],
        "snowflake_pyspark": ["SnowflakePySparkIOManager", "SnowflakePySparkTypeHandler"],
        "gcp_pandas": ["BigQueryPandasIOManager", "BigQueryPandasTypeHandler"],
        "gcp_pyspark": ["BigQueryPySparkIOManager", "BigQueryPySparkTypeHandler"],
        "gcp": ["BigQueryIOManager", "build_bigquery_io_manager", "GCSPickleIOManager"],
    }.items():
        alias = importlib.import_module(f"wharf.{module}")
        home = "wharf.gcs" if names[-1].startswith("GCS") else None
        for name in names:
            store = home if home and name.startswith("GCS") else None
            store = store or {"duckdb": "wharf.duckdb", "snowflake": "wharf.snowflake"}.get(
                module.split("_")[0], "wharf.bigquery"
            )
            assert getattr(alias, name) is getattr(importlib.import_module(store), name)
    assert issubclass(DuckDBIOManager, dg.DbIOManager)


def test_handlers_and_default_load_type_overrides(tmp_path: Path) -> None:
    """Dagster's "several DataFrame types in one DuckDB I/O manager" example, plus a handler
    for numpy arrays beside the built-in pandas one."""
    db = str(tmp_path / "h.duckdb")

    @dg.asset(key_prefix=["my_schema"])
    def iris() -> pd.DataFrame:
        return pd.DataFrame({"species": ["setosa", "virginica"], "petal": [1.4, 5.5]})

    @dg.asset(key_prefix=["my_schema"])
    def weights() -> np.ndarray:
        return np.array([3.0, 1.0, 2.0])

    seen: dict[str, Any] = {}

    @dg.asset(key_prefix=["my_schema"])
    def report(iris, weights: np.ndarray) -> None:  # type: ignore[no-untyped-def]
        seen["iris"], seen["weights"] = iris, weights

    result = dg.materialize(
        [iris, weights, report], resources={"io_manager": ArraysAndPandas(database=db)}
    )
    assert isinstance(seen["iris"], pd.DataFrame)  # default_load_type() is pandas
    assert seen["iris"]["species"].tolist() == ["setosa", "virginica"]
    assert seen["weights"].tolist() == [1.0, 2.0, 3.0]
    meta = result.asset_materializations_for_node("my_schema__weights")[0].metadata
    assert meta["array_length"].value == 3
    assert meta["dagster/row_count"].value == 3
    assert _tables(db) == ["iris", "weights"]  # the handler's staging table is gone


def test_a_type_no_handler_names_is_refused(tmp_path: Path) -> None:
    class PolarsOnly(DuckDBIOManager):
        @staticmethod
        def type_handlers() -> Sequence[dg.DbTypeHandler[Any]]:
            return [DuckDBPolarsTypeHandler()]

    @dg.asset
    def frame() -> pd.DataFrame:
        return pd.DataFrame({"a": [1]})

    io = PolarsOnly(database=str(tmp_path / "p.duckdb"))
    with pytest.raises(
        AssetTypeError, match=r"returned pandas.DataFrame, which PolarsOnly cannot store"
    ) as info:
        dg.materialize([frame], resources={"io_manager": io})
    assert "polars.DataFrame, polars.LazyFrame" in str(info.value)


def test_build_duckdb_io_manager_one_handler_sets_the_load_type(tmp_path: Path) -> None:
    io = build_duckdb_io_manager([DuckDBPolarsTypeHandler()]).configured(
        {"database": str(tmp_path / "b.duckdb"), "schema": "s"}
    )

    @dg.asset
    def frame() -> pl.DataFrame:
        return pl.DataFrame({"a": [1, 2]})

    seen: list[Any] = []

    @dg.asset
    def down(frame) -> None:  # type: ignore[no-untyped-def]
        seen.append(frame)

    dg.materialize([frame, down], resources={"io_manager": io})
    assert isinstance(seen[0], pl.DataFrame)
    assert seen[0]["a"].to_list() == [1, 2]


def test_build_duckdb_io_manager_with_default_load_type(tmp_path: Path) -> None:
    io = build_duckdb_io_manager(
        [ArrayHandler(), DuckDBPandasTypeHandler()], default_load_type=np.ndarray
    ).configured({"database": str(tmp_path / "b.duckdb")})

    @dg.asset
    def arr() -> np.ndarray:
        return np.array([2.0, 1.0])

    seen: list[Any] = []

    @dg.asset
    def down(arr) -> None:  # type: ignore[no-untyped-def]
        seen.append(arr)

    dg.materialize([arr, down], resources={"io_manager": io})
    assert seen[0].tolist() == [1.0, 2.0]


def test_a_raising_handler_leaves_the_table_as_it_was(tmp_path: Path) -> None:
    db = str(tmp_path / "r.duckdb")
    values = [np.array([1.0, 2.0]), np.array([5.0, np.nan])]

    @dg.asset
    def arr() -> np.ndarray:
        return values.pop(0)

    io = ArraysAndPandas(database=db)
    dg.materialize([arr], resources={"io_manager": io})
    with pytest.raises(ValueError, match="NaN in the array"):
        dg.materialize([arr], resources={"io_manager": io})
    with duckdb.connect(db) as con:
        assert con.sql("SELECT value FROM public.arr ORDER BY 1").fetchall() == [(1.0,), (2.0,)]
    assert _tables(db) == ["arr"]


def test_a_handler_writes_partitions_and_appends(tmp_path: Path) -> None:
    db = str(tmp_path / "part.duckdb")
    parts = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.asset(partitions_def=parts, metadata={"partition_expr": "part"})
    def arr(context: dg.AssetExecutionContext) -> np.ndarray:
        return np.array([1.0, 2.0]) if context.partition_key == "a" else np.array([7.0])

    io = ArraysAndPandas(database=db)
    for key in ["a", "b", "a"]:  # the second write of "a" replaces its rows only
        dg.materialize([arr], partition_key=key, resources={"io_manager": io})
    with duckdb.connect(db) as con:
        rows = con.sql("SELECT part, value FROM public.arr ORDER BY 1, 2").fetchall()
    assert rows == [("a", 1.0), ("a", 2.0), ("b", 7.0)]

    @dg.asset(metadata={"write_mode": "append"})
    def log() -> np.ndarray:
        return np.array([1.0])

    dg.materialize([log], resources={"io_manager": io})
    dg.materialize([log], resources={"io_manager": io})
    with duckdb.connect(db) as con:
        assert con.sql("SELECT count(*) FROM public.log").fetchall() == [(2,)]


def test_a_handler_whose_rows_leave_the_partition_is_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "out.duckdb")

    class Stray(ArrayHandler):
        def handle_output(
            self, context: Any, table_slice: dg.TableSlice, obj: Any, connection: Any
        ) -> None:
            name = f"{table_slice.schema}.{table_slice.table}"
            connection.execute(f"CREATE TABLE {name} AS SELECT 1.0 AS value, 'b' AS part")

    class StrayIO(DuckDBIOManager):
        @staticmethod
        def type_handlers() -> Sequence[dg.DbTypeHandler[Any]]:
            return [Stray()]

    @dg.asset(
        partitions_def=dg.StaticPartitionsDefinition(["a", "b"]),
        metadata={"partition_expr": "part"},
    )
    def arr() -> np.ndarray:
        return np.array([1.0])

    with pytest.raises(StorageError, match="every row of a partition write must belong"):
        dg.materialize([arr], partition_key="a", resources={"io_manager": StrayIO(database=db)})
    assert _tables(db) == []


def test_a_built_in_handler_is_not_called_directly() -> None:
    with pytest.raises(StorageError, match="DuckDBPandasTypeHandler is a built-in handler"):
        DuckDBPandasTypeHandler().handle_output(None, dg.TableSlice("t", "s"), pd.DataFrame(), None)
    assert DuckDBPandasTypeHandler().supported_types == [pd.DataFrame]


class DeltaWithArrays(DeltaLakeIOManager):
    @staticmethod
    def type_handlers() -> Sequence[dg.DbTypeHandler[Any]]:
        return [ArrayHandler(), *DeltaLakeIOManager.type_handlers()]


def test_an_earlier_version_through_a_type_handler_is_refused(tmp_path: Path) -> None:
    """A user's handler reads the current table only: an earlier version asked through it is
    refused naming the handler and the manager; a table store without versions refuses first."""

    @dg.asset
    def nums() -> pd.DataFrame:
        return pd.DataFrame({"value": [1.0, 2.0]})

    lake = dg.Definitions(
        assets=[nums], resources={"io_manager": DeltaWithArrays(root_uri=str(tmp_path / "d"))}
    )
    for _ in range(2):
        assert lake.materialize().success
    assert len(lake.load_asset_value("nums", python_type=pd.DataFrame, version=-1)) == 2
    with pytest.raises(StoredValueNotFoundError, match=r"'nums'.*DeltaWithArrays.*ArrayHandler"):
        lake.load_asset_value("nums", python_type=np.ndarray, version=-1)
    built = build_duckdb_io_manager([ArrayHandler()], default_load_type=np.ndarray).configured(
        {"database": str(tmp_path / "b.duckdb")}
    )
    duck = dg.Definitions(assets=[nums], resources={"io_manager": built})
    with pytest.raises(StoredValueNotFoundError, match=r"'nums'.*keeps no earlier versions"):
        duck.load_asset_value("nums", version=-1)
