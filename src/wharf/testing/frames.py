"""The frame types the conformance suite writes and reads, each as a row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FrameKind:
    """One dataframe type: how to build it from Arrow, turn it back, and its annotation.

    Attributes:
        checks: the per-kind checks written as this kind (None: all of them); an expensive
            kind (Spark: a job per write) runs a few, and every check still reads it back.
        fixture: the pytest fixture the kind needs (a SparkSession), requested by the suite.
    """

    name: str
    annotation: Callable[[], Any]  # imported lazily: returns the class
    make: Callable[[Any], Any]  # pa.Table -> value
    to_table: Callable[[Any], Any]  # value -> pa.Table
    checks: frozenset[str] | None = None
    fixture: str | None = None

    def runs(self, check: str) -> bool:
        """Whether the per-kind check named ``check`` writes this kind."""
        return self.checks is None or check in self.checks


def _pandas() -> Any:
    import pandas as pd

    return pd.DataFrame


def _pl_df() -> Any:
    import polars as pl

    return pl.DataFrame


def _pl_lazy() -> Any:
    import polars as pl

    return pl.LazyFrame


def _pa_table() -> Any:
    import pyarrow as pa

    return pa.Table


def _pa_reader() -> Any:
    import pyarrow as pa

    return pa.RecordBatchReader


def _relation() -> Any:
    import duckdb

    return duckdb.DuckDBPyRelation


def _make_relation(table: Any) -> Any:
    import duckdb

    con = duckdb.connect()
    return con.from_arrow(table)


def _from_pandas(table: Any) -> Any:
    return table.to_pandas()


def _from_polars(table: Any) -> Any:
    import polars as pl

    return pl.from_arrow(table)


def _pandas_to_table(df: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)


def _spark() -> Any:
    from pyspark.sql import DataFrame

    return DataFrame


def _make_spark(table: Any) -> Any:
    """A Spark DataFrame made the way users make one: ``createDataFrame`` on the session."""
    from pyspark.sql import SparkSession

    from wharf.testing.spark import local_spark

    return (SparkSession.getActiveSession() or local_spark()).createDataFrame(table)


def _reader_of(table: Any) -> Any:
    return table.to_reader(max_chunksize=max(1, table.num_rows // 3 or 1))


FRAME_KINDS: tuple[FrameKind, ...] = (
    FrameKind("pandas", _pandas, _from_pandas, _pandas_to_table),
    FrameKind("polars", _pl_df, _from_polars, lambda df: df.to_arrow()),
    FrameKind(
        "polars-lazy",
        _pl_lazy,
        lambda t: _from_polars(t).lazy(),
        lambda lf: lf.collect().to_arrow(),
    ),
    FrameKind("arrow-table", _pa_table, lambda t: t, lambda t: t),
    FrameKind(
        "pyspark",
        _spark,
        _make_spark,
        lambda df: df.toArrow(),
        checks=frozenset({"round_trip", "empty", "projection", "column_order"}),
        fixture="spark",
    ),
    FrameKind("arrow-reader", _pa_reader, _reader_of, lambda r: r.read_all()),
    FrameKind("duckdb", _relation, _make_relation, lambda rel: rel.to_arrow_table()),
)

#: the frame kind a check that is not run per kind gets (it reads back through it)
REFERENCE_KIND = "arrow-reader"


def frame_kind(name: str) -> FrameKind:
    """The row of :data:`FRAME_KINDS` called ``name``.

    Examples:
        >>> frame_kind(REFERENCE_KIND).name
        'arrow-reader'
    """
    for kind in FRAME_KINDS:
        if kind.name == name:
            return kind
    known = ", ".join(k.name for k in FRAME_KINDS)
    msg = f"no frame kind is named {name!r}: the kinds are {known}"
    raise KeyError(msg)
