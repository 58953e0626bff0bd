"""The Spark DataFrame frame adapter, and Spark assets on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

import wharf as dg
from tests.postgres.fixtures import postgres_server
from wharf._frames import adapter_for_annotation, adapter_for_value
from wharf._frames.pyspark import SparkAdapter
from wharf.duckdb import DuckDBIOManager, DuckDBPySparkIOManager
from wharf.errors import AssetTypeError, ConfigError
from wharf.postgres import PostgresPySparkIOManager
from wharf.testing.postgres import PostgresServer

__all__ = ["postgres_server"]

ADAPTER = SparkAdapter()
UTC = dt.UTC


def to_spark(table: pa.Table) -> DataFrame:
    frame: DataFrame = ADAPTER.from_arrow(table.to_reader(), DataFrame)
    return frame


def test_matched_by_class_path(spark: SparkSession) -> None:
    assert adapter_for_annotation(DataFrame) is not None
    assert adapter_for_annotation(DataFrame).name == "pyspark"  # type: ignore[union-attr]
    assert adapter_for_value(spark.range(1)).name == "pyspark"  # type: ignore[union-attr]
    assert "pyspark.sql.DataFrame" in ADAPTER.type_names()


def test_round_trip_keeps_types_spark_cannot_hold(spark: SparkSession) -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2, None]),
            "Mixed Case": pa.array([0, 255, None], pa.uint8()),
            "cat": pa.array(["x", "y", "x"]).dictionary_encode(),
            "paris": pa.array(
                [dt.datetime(2024, 1, 1, tzinfo=UTC)] * 3, pa.timestamp("us", tz="Europe/Paris")
            ),
            "naive": pa.array([dt.datetime(2024, 1, 1, 12)] * 3, pa.timestamp("ns")),
            "dec": pa.array(
                [decimal.Decimal("1.10"), None, decimal.Decimal("-2.00")], pa.decimal128(10, 2)
            ),
            "big": pa.array(["a", "ü✓", None], pa.large_string()),
            "day": pa.array([dt.date(2024, 1, 1)] * 3),
            "items": pa.array([[1, 2], [], None]),
        }
    )
    frame = to_spark(table)
    types = dict(frame.dtypes)
    assert [types[c] for c in ("Mixed Case", "cat", "paris", "naive")] == [
        "smallint",
        "string",
        "timestamp",
        "timestamp_ntz",
    ]
    reader = ADAPTER.to_arrow(frame)
    assert reader.schema.field("Mixed Case").type == pa.uint8()
    got = reader.read_all()
    assert got.schema.field("cat").type == table.schema.field("cat").type
    for name in table.column_names:
        assert got.column(name).to_pylist() == table.column(name).to_pylist(), name
    assert got.schema.field("paris").type.tz == "Europe/Paris"
    # a column whose Spark type changed is no longer restored to its old Arrow type
    changed = ADAPTER.to_arrow(frame.withColumn("Mixed Case", F.col("`Mixed Case`") * 1000))
    assert changed.schema.field("Mixed Case").type == pa.int32()


def test_streams_partitions_in_order(spark: SparkSession) -> None:
    frame = spark.range(0, 30_000, numPartitions=3).withColumn("half", F.col("id") / 2)
    reader = ADAPTER.to_arrow(frame)
    assert reader.schema.names == ["id", "half"]
    got = reader.read_all()
    assert got.column("id").to_pylist() == list(range(30_000))


def test_empty_frames_keep_their_columns(spark: SparkSession) -> None:
    empty = pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())})
    frame = to_spark(empty)
    assert frame.columns == ["a", "b"]
    assert frame.count() == 0
    assert ADAPTER.to_arrow(frame).read_all().equals(empty)
    filtered = ADAPTER.to_arrow(spark.range(5).filter("id > 10")).read_all()
    assert filtered.num_rows == 0
    assert filtered.column_names == ["id"]


def test_values_spark_cannot_hold_fail_clearly(spark: SparkSession) -> None:
    nanos = pa.table({"t": pa.array([1], pa.timestamp("ns"))})  # 1 ns after the epoch
    with pytest.raises(AssetTypeError, match="cannot load this table as a Spark DataFrame"):
        to_spark(nanos)


def test_no_session_is_a_clear_error(spark: SparkSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(SparkSession, "_instantiatedSession", None)
    with pytest.raises(ConfigError, match="needs a running SparkSession"):
        to_spark(pa.table({"a": [1]}))


def _no_pandas_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("went through pandas or Python rows")

    for name in ("toPandas", "collect", "toLocalIterator_rows"):
        if hasattr(DataFrame, name):
            monkeypatch.setattr(DataFrame, name, refuse)
    original = SparkSession.createDataFrame

    def create(self: SparkSession, data: Any, *args: Any, **kwargs: Any) -> Any:
        assert isinstance(data, pa.Table), type(data)
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(SparkSession, "createDataFrame", create)


def test_spark_assets_on_duckdb(
    spark: SparkSession, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    @dg.asset
    def events() -> DataFrame:
        return spark.createDataFrame(
            pa.table({"user": ["a", "b", "a"], "ms": [120, 80, 45]})
        ).repartition(2, "user")

    @dg.asset
    def per_user(events):  # type: ignore[no-untyped-def]  # unannotated: the preset's Spark
        assert isinstance(events, DataFrame)
        return events.groupBy("user").agg(F.sum("ms").alias("ms")).orderBy("user")

    seen: list[Any] = []

    @dg.asset
    def as_polars(per_user: pl.DataFrame) -> None:
        seen.append(per_user)

    io = DuckDBPySparkIOManager(database=str(tmp_path / "spark.duckdb"), schema="s")
    _no_pandas_rows(monkeypatch)
    result = dg.materialize([events, per_user, as_polars], resources={"io_manager": io})
    assert result.success
    assert seen[0].to_dict(as_series=False) == {"user": ["a", "b"], "ms": [165, 80]}
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["row_count"].value == 3
    assert meta["table"].value == '"spark"."s"."events"'


def test_pandas_written_loads_as_spark_on_duckdb(spark: SparkSession, tmp_path: Any) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", None]})

    @dg.asset
    def src() -> pd.DataFrame:
        return frame

    seen: list[Any] = []

    @dg.asset
    def use(src: DataFrame) -> None:
        seen.append(src.orderBy("a").toArrow().to_pydict())

    io = DuckDBIOManager(database=str(tmp_path / "x.duckdb"))
    assert dg.materialize([src, use], resources={"io_manager": io}).success
    assert seen == [{"a": [1, 2], "b": ["x", None]}]


def test_spark_assets_on_postgres(spark: SparkSession, postgres_server: PostgresServer) -> None:
    @dg.asset
    def orders() -> DataFrame:
        return to_spark(
            pa.table(
                {
                    "Id": [1, 2, 3],
                    "at": pa.array(
                        [dt.datetime(2024, 1, 1, tzinfo=UTC)] * 3,
                        pa.timestamp("us", tz="Asia/Tokyo"),
                    ),
                }
            )
        )

    seen: list[Any] = []

    @dg.asset
    def total(orders) -> None:  # type: ignore[no-untyped-def]
        seen.append(ADAPTER.to_arrow(orders).read_all())

    io = PostgresPySparkIOManager(
        host=postgres_server.host, port=postgres_server.port, schema="spark_rows"
    )
    assert dg.materialize([orders, total], resources={"io_manager": io}).success
    assert seen[0].column("Id").to_pylist() == [1, 2, 3]
    assert seen[0].schema.field("at").type == pa.timestamp("us", tz="Asia/Tokyo")
