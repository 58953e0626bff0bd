"""Hypothesis strategies for dataframes of many dtypes, used by the fidelity property tests.

Frames hold nullable ints, floats with NaN, booleans, naive and tz-aware timestamps, dates,
decimals, categoricals (ordered or not), unicode strings, all-null columns, and zero rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import polars as pl
from hypothesis import strategies as st

__all__ = ["pandas_frames", "polars_frames"]

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
#: unicode text without NUL (U+0000), for stores whose text type cannot hold it (PostgreSQL)
TEXT_NO_NUL = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)
LABELS = st.sampled_from(["a", "b", "ç", "日本", "", " "])
TIMEZONES = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"])
DECIMALS = st.decimals(
    min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False
)


@st.composite
def pandas_frames(
    draw: st.DrawFn,
    text: st.SearchStrategy[str] = TEXT,
    floats: st.SearchStrategy[float] = st.floats(),  # noqa: B008
) -> pd.DataFrame:
    n = draw(st.integers(0, 12))

    def cells(values: st.SearchStrategy[Any], nulls: bool = True) -> list[Any]:
        either = st.one_of(st.none(), values) if nulls else values
        return draw(st.lists(either, min_size=n, max_size=n))

    categories = draw(st.lists(LABELS, unique=True))
    naive = pd.Series(cells(st.datetimes()), dtype="datetime64[us]")
    return pd.DataFrame(
        {
            "int": pd.array(cells(st.integers(-(2**63), 2**63 - 1)), dtype="Int64"),
            "int_plain": pd.Series(cells(st.integers(-(2**63), 2**63 - 1), False), dtype="int64"),
            "uint8": pd.array(cells(st.integers(0, 255)), dtype="UInt8"),
            "bool": pd.array(cells(st.booleans()), dtype="boolean"),
            "float": pd.Series(cells(floats), dtype="float64"),
            "naive": naive,
            "aware": naive.dt.tz_localize("UTC").dt.tz_convert(draw(TIMEZONES)),
            "date": pd.Series(cells(st.dates()), dtype=object),
            "decimal": pd.Series(cells(DECIMALS), dtype=object),
            "category": pd.Categorical(
                cells(st.sampled_from(categories)) if categories else [None] * n,
                categories=pd.Index(categories, dtype="str"),
                ordered=draw(st.booleans()),
            ),
            "str": pd.Series(cells(text), dtype="str"),
            "string": pd.array(cells(text), dtype="string"),
            "null": pd.Series([None] * n, dtype=object),
        }
    )


@st.composite
def polars_frames(
    draw: st.DrawFn,
    text: st.SearchStrategy[str] = TEXT,
    floats: st.SearchStrategy[float] = st.floats(),  # noqa: B008
) -> pl.DataFrame:
    n = draw(st.integers(0, 12))

    def cells(values: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(st.one_of(st.none(), values), min_size=n, max_size=n))

    categories = draw(st.lists(LABELS, unique=True, min_size=1))
    aware = pl.Series(cells(st.datetimes()), dtype=pl.Datetime("us"))
    nanos = st.datetimes(min_value=dt.datetime(1678, 1, 1), max_value=dt.datetime(2262, 1, 1))
    return pl.DataFrame(
        {
            "int": pl.Series(cells(st.integers(-(2**63), 2**63 - 1)), dtype=pl.Int64),
            "uint8": pl.Series(cells(st.integers(0, 255)), dtype=pl.UInt8),
            "float": pl.Series(cells(floats), dtype=pl.Float64),  # NaN and null differ
            "bool": pl.Series(cells(st.booleans()), dtype=pl.Boolean),
            "str": pl.Series(cells(text), dtype=pl.String),
            "cat": pl.Series(cells(st.sampled_from(categories)), dtype=pl.Categorical),
            "enum": pl.Series(cells(st.sampled_from(categories)), dtype=pl.Enum(categories)),
            "decimal": pl.Series(cells(DECIMALS), dtype=pl.Decimal(20, 3)),
            "aware": aware.dt.replace_time_zone("UTC").dt.convert_time_zone(draw(TIMEZONES)),
            "naive_ns": pl.Series(cells(nanos), dtype=pl.Datetime("ns")),
            "date": pl.Series(cells(st.dates()), dtype=pl.Date),
            "list": pl.Series(
                cells(st.lists(st.integers(-5, 5), max_size=3)), dtype=pl.List(pl.Int64)
            ),
            "null": pl.Series([None] * n, dtype=pl.Null),
        }
    )
