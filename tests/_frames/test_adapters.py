"""Frame adapters: dispatch, round trips between every pair, fidelity, laziness, light import."""

from __future__ import annotations

import datetime as dt
import gc
import inspect
import subprocess
import sys
import tempfile
import typing
from decimal import Decimal
from typing import Any, Optional

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import polars.testing
import pyarrow as pa
import pytest
from hypothesis import given, settings

from wharf._frames import (
    FrameAdapter,
    adapter_for_annotation,
    adapter_for_value,
    is_table_like,
    supported_type_names,
)
from wharf._frames.registry import ADAPTERS
from wharf.errors import AssetTypeError
from wharf.testing.strategies import pandas_frames, polars_frames

BY_NAME: dict[str, FrameAdapter] = {adapter.name: adapter for adapter in ADAPTERS}
PANDAS, POLARS, LAZY = BY_NAME["pandas"], BY_NAME["polars"], BY_NAME["polars-lazy"]
TABLE, READER, DUCKDB = BY_NAME["arrow-table"], BY_NAME["arrow-reader"], BY_NAME["duckdb"]
TYPES: dict[str, type] = {
    "pandas": pd.DataFrame,
    "polars": pl.DataFrame,
    "polars-lazy": pl.LazyFrame,
    "arrow-table": pa.Table,
    "arrow-reader": pa.RecordBatchReader,
    "duckdb": duckdb.DuckDBPyRelation,
}
PROPERTY = settings(max_examples=50, deadline=None)


# --- the registry ---------------------------------------------------------------------------


def test_registry_rows_are_adapters_with_unique_names() -> None:
    assert all(isinstance(adapter, FrameAdapter) for adapter in ADAPTERS)
    assert list(BY_NAME) == [*TYPES, "pyspark"]  # Spark's own tests: tests/spark (a JVM)
    assert {name for name, a in BY_NAME.items() if a.lazy} == {
        "polars-lazy",
        "arrow-reader",
        "duckdb",
        "pyspark",
    }
    assert supported_type_names() == [
        "pandas.DataFrame",
        "polars.DataFrame",
        "polars.LazyFrame",
        "pyarrow.Table",
        "pyarrow.RecordBatchReader",
        "duckdb.DuckDBPyRelation",
        "pyspark.sql.DataFrame",
    ]


class MyFrame(pd.DataFrame):
    pass


@pytest.mark.parametrize(
    ("annotation", "name"),
    [
        *[(tp, name) for name, tp in TYPES.items()],
        (Optional[pd.DataFrame], "pandas"),  # noqa: UP045 - the old spelling is what we test
        (pl.DataFrame | None, "polars"),
        (None | pl.LazyFrame, "polars-lazy"),
        (typing.Union[pa.Table, None], "arrow-table"),  # noqa: UP007
        (typing.Annotated[pa.RecordBatchReader, "meta"], "arrow-reader"),
        (pa.ipc.RecordBatchStreamReader, "arrow-reader"),
        (MyFrame, "pandas"),
    ],
)
def test_adapter_for_annotation(annotation: object, name: str) -> None:
    adapter = adapter_for_annotation(annotation)
    assert adapter is not None
    assert adapter.name == name


@pytest.mark.parametrize(
    "annotation",
    [
        int,
        dict,
        str,
        list[int],
        dict[str, Any],
        typing.Any,
        None,
        type(None),
        inspect.Parameter.empty,
        "pd.DataFrame",
        pd.Series,
        pl.Series,
        pa.RecordBatch,
        Optional[int],  # noqa: UP045
        pd.DataFrame | pl.DataFrame,
        pd.DataFrame | pl.DataFrame | None,
    ],
)
def test_adapter_for_annotation_none_for_non_frames(annotation: object) -> None:
    assert adapter_for_annotation(annotation) is None


def one_value_of_each_type() -> dict[str, Any]:
    table = pa.table({"a": [1, 2]})
    return {
        "pandas": pd.DataFrame({"a": [1, 2]}),
        "polars": pl.DataFrame({"a": [1, 2]}),
        "polars-lazy": pl.LazyFrame({"a": [1, 2]}),
        "arrow-table": table,
        "arrow-reader": table.to_reader(),
        "duckdb": duckdb.connect().sql("SELECT 1 AS a"),
    }


@pytest.mark.parametrize("name", list(TYPES))
def test_adapter_for_value(name: str) -> None:
    value = one_value_of_each_type()[name]
    adapter = adapter_for_value(value)
    assert adapter is not None
    assert adapter.name == name
    assert adapter.matches_type(TYPES[name])
    assert is_table_like(value)


@pytest.mark.parametrize(
    "value", [1, "text", {"a": [1]}, [1, 2], None, pd.Series([1]), pa.array([1]), object()]
)
def test_non_frames_are_not_table_like(value: object) -> None:
    assert adapter_for_value(value) is None
    assert not is_table_like(value)


@pytest.mark.parametrize("name", list(TYPES))
def test_to_arrow_rejects_other_types(name: str) -> None:
    adapter = BY_NAME[name]
    other = pl.DataFrame({"a": [1]}) if name != "polars" else pd.DataFrame({"a": [1]})
    with pytest.raises(AssetTypeError) as info:
        adapter.to_arrow(other)
    assert isinstance(info.value, TypeError)
    message = str(info.value)
    assert adapter.type_names()[0] in message
    assert ("polars.DataFrame" if name != "polars" else "pandas.DataFrame") in message


def test_pandas_unconvertible_column_is_a_type_error_naming_the_column() -> None:
    df = pd.DataFrame({"mixed": pd.Series([1, "a"], dtype=object)})
    with pytest.raises(AssetTypeError, match="mixed"):
        PANDAS.to_arrow(df)


def test_from_arrow_accepts_any_arrow_stream_and_rejects_the_rest() -> None:
    assert POLARS.from_arrow(pa.table({"a": [1]}), pl.DataFrame).height == 1
    with pytest.raises(AssetTypeError, match=r"RecordBatchReader.*got int"):
        TABLE.from_arrow(3, pa.Table)


# --- every pair on a fixed 10-column frame ---------------------------------------------------

NAIVE = [dt.datetime(2024, 1, 1, 12), None, dt.datetime(1970, 1, 1), dt.datetime(2262, 5, 1)]
UTC = dt.UTC
AWARE = [None if t is None else t.replace(tzinfo=UTC) for t in NAIVE]
DAYS = [dt.date(2024, 2, 29), None, dt.date(1, 1, 1), dt.date(9999, 12, 31)]
AMOUNTS = [Decimal("1.50"), None, Decimal("-2.25"), Decimal("0.00")]


def fixed_table() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int64()),
            "maybe": pa.array([1, None, 3, None], pa.int64()),
            "ratio": pa.array([0.5, None, -1.25, 2.0], pa.float64()),
            "name": pa.array(["a", "é", None, "日本"], pa.string()),
            "flag": pa.array([True, False, None, True], pa.bool_()),
            "day": pa.array(DAYS, pa.date32()),
            "seen": pa.array(NAIVE, pa.timestamp("us")),
            "seen_tz": pa.array(AWARE, pa.timestamp("us", tz="UTC")),
            "amount": pa.array(AMOUNTS, pa.decimal128(10, 2)),
            "kind": pa.array(["x", "y", None, "x"]).dictionary_encode(),
        }
    )


def fixed_pandas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "maybe": pd.array([1, None, 3, None], dtype="Int64"),
            "ratio": [0.5, np.nan, -1.25, 2.0],
            "name": ["a", "é", None, "日本"],
            "flag": pd.array([True, False, None, True], dtype="boolean"),
            "day": pd.Series(DAYS, dtype=object),
            "seen": pd.Series(NAIVE, dtype="datetime64[us]"),
            "seen_tz": pd.Series(NAIVE, dtype="datetime64[us]").dt.tz_localize("UTC"),
            "amount": pd.Series(AMOUNTS, dtype=object),
            "kind": pd.Categorical(["x", "y", None, "x"]),
        }
    )


def make_source(name: str, connection: duckdb.DuckDBPyConnection) -> Any:
    if name == "pandas":
        return fixed_pandas()
    table = fixed_table()
    frame = typing.cast("pl.DataFrame", pl.from_arrow(table))
    sources = {
        "polars": frame,
        "polars-lazy": frame.lazy(),
        "arrow-table": table,
        "arrow-reader": table.to_reader(max_chunksize=3),
        "duckdb": connection.from_arrow(table),
    }
    return sources[name]


def as_rows(value: Any) -> list[dict[str, Any]]:
    adapter = adapter_for_value(value)
    assert adapter is not None
    rows: list[dict[str, Any]] = adapter.to_arrow(value).read_all().to_pylist()
    return rows


@pytest.mark.parametrize("source", list(TYPES))
@pytest.mark.parametrize("target", list(TYPES))
def test_round_trip_every_pair(source: str, target: str) -> None:
    with duckdb.connect() as connection:
        value = make_source(source, connection)
        result = BY_NAME[target].from_arrow(BY_NAME[source].to_arrow(value), TYPES[target])
        assert adapter_for_value(result) is BY_NAME[target]
        assert as_rows(result) == fixed_table().to_pylist()
        if target == "pandas":
            dtypes = {name: str(dtype) for name, dtype in result.dtypes.items()}
            assert dtypes.pop("seen_tz").startswith("datetime64[us, ")
            assert dtypes == {
                "id": "int64",
                "maybe": "Int64",
                "ratio": "float64",
                "name": "str",
                "flag": "boolean",
                "day": "object",
                "seen": "datetime64[us]",
                "amount": "object",
                "kind": "str" if "duckdb" in (source, target) else "category",
            }


# --- pandas fidelity ---------------------------------------------------------------------------


def pandas_round_trip(df: pd.DataFrame) -> pd.DataFrame:
    reader = PANDAS.to_arrow(df)
    batches = pa.RecordBatchReader.from_batches(reader.schema, list(reader))  # re-stream
    result: pd.DataFrame = PANDAS.from_arrow(batches, pd.DataFrame)
    return result


@PROPERTY
@given(pandas_frames())
def test_pandas_round_trip_is_lossless(df: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(pandas_round_trip(df), df, check_exact=True)


def test_pandas_zero_rows_and_all_nulls() -> None:
    frames = [
        pd.DataFrame({"a": pd.Series([], dtype="int64"), "c": pd.Categorical([])}),
        pd.DataFrame({"c": pd.Categorical(pd.Series([], dtype="str"))}),
        pd.DataFrame({"s": pd.Series([None, None], dtype="str"), "o": [None, None]}),
        pd.DataFrame({"i": pd.array([None, None], dtype="Int64"), "f": [np.nan, np.nan]}),
    ]
    for df in frames:
        pd.testing.assert_frame_equal(pandas_round_trip(df), df)


def test_pandas_unnamed_index_is_kept_as_pandas_keeps_it() -> None:
    df = pd.DataFrame({"a": [3, 1, 2]}).sort_values("a")
    assert PANDAS.to_arrow(df).schema.names == ["a", "__index_level_0__"]
    pd.testing.assert_frame_equal(pandas_round_trip(df), df, check_exact=True)


@pytest.mark.parametrize(
    "df",
    [
        pd.DataFrame({"v": [1, 2, 3]}, index=pd.date_range("2024-01-01", periods=3)),
        pd.DataFrame({"v": [1, 2]}, index=pd.timedelta_range("1s", periods=2, freq="s")),
        pd.DataFrame({"v": [1, 2, 3]}, index=[30, 10, 20]),
        pd.DataFrame({"v": [1, 2, 3]}, index=pd.RangeIndex(5, 11, 2, name="r")),
        pd.DataFrame({"v": [1, 2]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)])),
        pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])),
        pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)])),
        pd.DataFrame([[1, 2], [3, 4]]),
        pd.DataFrame([[1, 2]], columns=pd.Index([1.5, 2.5])),
        pd.DataFrame([[1, 2]], columns=pd.Index(["1", "2.5"], name="labels")),  # text kept
        pd.DataFrame(index=range(3)),
        pd.DataFrame(index=pd.RangeIndex(2, 8, 3)),
        pd.DataFrame(index=pd.Index(["a", "b"], name="k")),
        pd.DataFrame(),
    ],
    ids=lambda df: f"{type(df.index).__name__}-{type(df.columns).__name__}-{df.shape}",
)
def test_pandas_index_and_labels_round_trip(df: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(pandas_round_trip(df), df, check_exact=True)


def test_pandas_range_index_stays_implicit() -> None:
    assert PANDAS.to_arrow(pd.DataFrame({"v": [1, 2]})).schema.names == ["v"]


def test_pandas_index_reads_as_columns_without_pandas() -> None:
    df = pd.DataFrame({"v": [1, 2]}, index=pd.Index([10, 20]))
    table = PANDAS.to_arrow(df).read_all()
    assert table.to_pydict() == {"v": [1, 2], "__index_level_0__": [10, 20]}


def test_pandas_freq_note_that_no_longer_fits_is_ignored() -> None:
    df = pd.DataFrame({"v": [1, 2, 3]}, index=pd.date_range("2024-01-01", periods=3))
    table = PANDAS.to_arrow(df).read_all()
    back = PANDAS.from_arrow(table.take([0, 2]).to_reader(), pd.DataFrame)
    assert list(back.index) == [df.index[0], df.index[2]]
    assert back.index.freq is None


@pytest.mark.parametrize(
    "columns", [["a", 1], [float("nan"), 1.0]], ids=["mixed-types", "nan-label"]
)
def test_pandas_labels_that_cannot_round_trip_are_refused(columns: list[object]) -> None:
    df = pd.DataFrame([[1, 2]], columns=columns)
    with pytest.raises(AssetTypeError, match="column label"):
        PANDAS.to_arrow(df)


def test_pandas_named_index_is_stored_and_restored() -> None:
    df = pd.DataFrame(
        {"v": [1.5, 2.5]},
        index=pd.MultiIndex.from_tuples([("x", 1), ("y", 2)], names=["k", "n"]),
    )
    assert PANDAS.to_arrow(df).schema.names == ["v", "k", "n"]
    pd.testing.assert_frame_equal(pandas_round_trip(df), df)
    plain = PANDAS.to_arrow(df).read_all().replace_schema_metadata(None)
    back = PANDAS.from_arrow(plain.to_reader(), pd.DataFrame)
    assert list(back.columns) == ["v", "k", "n"]
    assert isinstance(back.index, pd.RangeIndex)


def test_pandas_dtypes_without_metadata() -> None:
    table = pa.table(
        {
            "i": pa.array([1, 2], pa.int64()),
            "i_null": pa.array([1, None], pa.int64()),
            "i32_null": pa.array([None, None], pa.int32()),
            "u8_null": pa.array([None, 7], pa.uint8()),
            "b": pa.array([True, False]),
            "b_null": pa.array([True, None]),
            "f": pa.array([1.5, None]),
            "s": pa.array(["a", None], pa.large_string()),
            "sv": pa.array(["a", None], pa.string_view()),
            "d": pa.array([dt.date(2024, 1, 1), None]),
            "dec": pa.array([Decimal("1.5"), None]),
            "cat": pa.array(["x", None]).dictionary_encode(),
            "ts": pa.array([dt.datetime(2024, 1, 1), None], pa.timestamp("ms")),
            "tz": pa.array([dt.datetime(2024, 1, 1), None], pa.timestamp("us", tz="UTC")),
            "nul": pa.array([None, None], pa.null()),
        }
    )
    df = PANDAS.from_arrow(table.to_reader(), pd.DataFrame)
    assert {name: str(dtype) for name, dtype in df.dtypes.items()} == {
        "i": "int64",
        "i_null": "Int64",
        "i32_null": "Int32",
        "u8_null": "UInt8",
        "b": "bool",
        "b_null": "boolean",
        "f": "float64",
        "s": "str",
        "sv": "str",
        "d": "object",
        "dec": "object",
        "cat": "category",
        "ts": "datetime64[ms]",
        "tz": "datetime64[us, UTC]",
        "nul": "object",
    }
    assert df["i_null"].tolist() == [1, pd.NA]
    assert df["dec"].tolist()[0] == Decimal("1.5")


def test_pandas_metadata_int64_with_new_nulls_becomes_nullable() -> None:
    schema = PANDAS.to_arrow(pd.DataFrame({"a": [1, 2]})).schema  # says numpy int64
    later = pa.table({"a": pa.array([1, None], pa.int64())}).replace_schema_metadata(
        schema.metadata
    )
    df = PANDAS.from_arrow(later.to_reader(), pd.DataFrame)
    assert str(df["a"].dtype) == "Int64"


# --- polars fidelity ---------------------------------------------------------------------------


@PROPERTY
@given(polars_frames())
def test_polars_round_trip_is_lossless(df: pl.DataFrame) -> None:
    eager = POLARS.from_arrow(POLARS.to_arrow(df), pl.DataFrame)
    polars.testing.assert_frame_equal(eager, df, check_exact=True)
    lazy = LAZY.from_arrow(LAZY.to_arrow(df.lazy()), pl.LazyFrame)
    polars.testing.assert_frame_equal(lazy.collect(), df, check_exact=True)


# --- laziness ------------------------------------------------------------------------------------


def counting_reader(batches: int = 100, rows: int = 10) -> tuple[pa.RecordBatchReader, list[int]]:
    """A one-shot reader over ``batches`` batches that records which ones were pulled."""
    pulled: list[int] = []
    schema = pa.schema({"a": pa.int64()})

    def generate() -> typing.Iterator[pa.RecordBatch]:
        for i in range(batches):
            pulled.append(i)
            yield pa.record_batch({"a": pa.array(range(i * rows, (i + 1) * rows), pa.int64())})

    return pa.RecordBatchReader.from_batches(schema, generate()), pulled


def test_reader_passes_through_unread() -> None:
    reader, pulled = counting_reader()
    assert READER.to_arrow(reader) is reader
    assert READER.from_arrow(reader, pa.RecordBatchReader) is reader
    assert pulled == []


def test_lazyframe_to_arrow_streams_batch_by_batch() -> None:
    reader, pulled = counting_reader(batches=200)
    lazy = pl.scan_arrow_c_stream(reader).with_columns(b=pl.col("a") * 2)
    out = LAZY.to_arrow(lazy)
    assert pulled == []
    first = out.read_next_batch()
    assert 0 < len(pulled) < 200
    assert first.num_rows + sum(batch.num_rows for batch in out) == 2000


def test_lazyframe_from_arrow_rescans_and_cleans_up(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    reader, pulled = counting_reader()
    lazy = LAZY.from_arrow(reader, pl.LazyFrame)
    assert len(list(tmp_path.glob("wharf-*.arrows"))) == 1
    assert lazy.select(pl.len()).collect().item() == 1000
    big = lazy.filter(pl.col("a") >= 500)
    del lazy
    gc.collect()
    assert big.select(pl.len()).collect().item() == 500
    assert big.collect().height == 500  # scanned again, not 0 rows
    assert big.head(3).collect()["a"].to_list() == [500, 501, 502]
    assert len(pulled) == 100
    del big
    gc.collect()
    assert list(tmp_path.glob("wharf-*.arrows")) == []


def test_duckdb_relation_to_arrow_streams() -> None:
    with duckdb.connect() as connection:
        relation = connection.sql("SELECT range AS a FROM range(100000000)")
        out = DUCKDB.to_arrow(relation)
        assert 0 < out.read_next_batch().num_rows < 10_000_000
        del out


def test_duckdb_from_arrow_scans_repeatedly() -> None:
    reader, pulled = counting_reader()
    relation = DUCKDB.from_arrow(reader, duckdb.DuckDBPyRelation)
    assert len(pulled) == 100
    gc.collect()  # the relation keeps its private connection alive
    assert relation.aggregate("count(*)").fetchall() == [(1000,)]
    assert relation.aggregate("count(*)").fetchall() == [(1000,)]
    assert relation.filter("a >= 990").aggregate("sum(a)").fetchall() == [(sum(range(990, 1000)),)]


# --- light import --------------------------------------------------------------------------------


def test_import_pulls_in_no_dataframe_library() -> None:
    code = (
        "import sys, wharf._frames as f\n"
        "from wharf._frames import registry\n"
        "import typing\n"
        "assert f.adapter_for_value(1) is None and f.adapter_for_annotation(typing.Any) is None\n"
        "assert f.adapter_for_annotation(int | None) is None and f.supported_type_names()\n"
        "heavy = ('pandas', 'polars', 'pyarrow', 'duckdb', 'numpy')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_polars_nested_strings_load_as_pandas() -> None:
    """polars exports List(String) as large_list<string_view>, which to_pandas cannot convert."""
    from wharf._frames.pandas import PandasAdapter
    from wharf._frames.polars import PolarsAdapter

    df = pl.DataFrame({"l": [["a", "b"], None], "s": [{"x": "q"}, None]})
    got = PandasAdapter().from_arrow(PolarsAdapter().to_arrow(df), pd.DataFrame)
    assert got["l"].tolist()[0].tolist() == ["a", "b"]
    assert got["l"].tolist()[1] is None
    assert got["s"].tolist() == [{"x": "q"}, None]
