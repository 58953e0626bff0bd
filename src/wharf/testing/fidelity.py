"""Which dtypes round-trip exactly through each store: the table the README publishes.

Each row is one column of one dataframe library; each store writes a frame holding it through
its real I/O manager (``wharf.materialize``) and reads it back as the same library. "exact"
means ``assert_frame_equal`` with dtype checks passes. Run ``python -m wharf.testing.fidelity``
to print the table; a test keeps the README's copy equal to it.

The columns are :data:`PUBLISHED_STORES`: the local stores, then the SQL stores of the store
registry that need a server (PostgreSQL, MySQL on MariaDB, Snowflake on fakesnow, BigQuery on
bqemulator), whose shared test servers (``StoreCase.server``) start on first use and stop at
exit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import wharf as dg
from wharf.testing.conformance import StoreCase
from wharf.testing.stores import LOCAL_STORES, SERVER_STORES

#: the stores the README's table has a column for, in column order
PUBLISHED_STORES: tuple[StoreCase, ...] = (*LOCAL_STORES, *SERVER_STORES)


def _manager(store: StoreCase, folder: Path) -> Any:
    if store.server is None:
        return store.io_manager(folder)
    return store.io_manager(folder, server=store.server())


def _pandas_columns() -> dict[str, Any]:
    import pandas as pd

    utc = dt.UTC
    return {
        "int64": pd.Series([1, 2, 3], dtype="int64"),
        "nullable Int64": pd.Series([1, None, 3], dtype="Int64"),
        "float64 with NaN": pd.Series([1.5, float("nan"), 3.0]),
        "bool": pd.Series([True, False, True]),
        "nullable boolean": pd.Series([True, None, False], dtype="boolean"),
        "str (unicode)": pd.Series(["a", "ü✓", "日本"]),
        "str with nulls": pd.Series(["a", None, "c"]),
        "datetime64 naive": pd.Series(pd.to_datetime(["2024-01-01", "2024-06-01", "2025-01-01"])),
        "datetime64 UTC": pd.Series(
            pd.to_datetime(pd.Series(["2024-01-01", "2024-06-01", None]), utc=True)
        ),
        "datetime64 Europe/Paris": pd.Series(
            pd.to_datetime(["2024-01-01", "2024-06-01", "2025-01-01"]).tz_localize("Europe/Paris")
        ),
        "date (object)": pd.Series([dt.date(2024, 1, 1), None, dt.date(2024, 3, 1)], dtype=object),
        "decimal (object)": pd.Series(
            [decimal.Decimal("1.10"), decimal.Decimal("2.25"), None], dtype=object
        ),
        "categorical": pd.Series(["x", "y", "x"], dtype="category"),
        "categorical, zero rows": pd.Series(pd.Categorical([], categories=["x", "y"])),
        "all null (object)": pd.Series([None, None, None], dtype=object),
        "timestamp UTC (tz-aware, python)": pd.Series(
            [dt.datetime(2024, 1, 1, tzinfo=utc)] * 3
        ).dt.as_unit("us"),
    }


def _pandas_frames() -> dict[str, Any]:
    """Whole frames: what a frame is besides its columns (index, labels, shape), and a column
    type some stores cannot keep."""
    import pandas as pd

    v = {"v": [1.5, 2.5, 3.5]}
    return {
        "index: DatetimeIndex (freq D)": pd.DataFrame(
            v, index=pd.date_range("2024-01-01", periods=3)
        ),
        "index: unnamed integers": pd.DataFrame(v, index=[30, 10, 20]),
        "index: named": pd.DataFrame(v, index=pd.Index(["x", "y", "z"], name="key")),
        "index: MultiIndex": pd.DataFrame(
            v, index=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)], names=["k", "n"])
        ),
        "index: RangeIndex(5, 11, 2)": pd.DataFrame(v, index=pd.RangeIndex(5, 11, 2)),
        "columns: MultiIndex": pd.DataFrame(
            [[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])
        ),
        "columns: integer labels": pd.DataFrame([[1, 2], [3, 4]]),
        "columns: mixed str and int labels": pd.DataFrame([[1, 2]], columns=["a", 1]),
        "0 columns, 3 rows": pd.DataFrame(index=range(3)),
        "datetime64[ns] with nanoseconds": pd.DataFrame(
            {"c": pd.to_datetime(["2024-01-01 00:00:00.000000001"]).as_unit("ns")}
        ),
    }


def _polars_columns() -> dict[str, Any]:
    import polars as pl

    return {
        "Int64 with nulls": pl.Series([1, None, 3], dtype=pl.Int64),
        "UInt8": pl.Series([1, 2, 3], dtype=pl.UInt8),
        "Float64 with NaN and null": pl.Series([1.5, float("nan"), None]),
        "String (unicode)": pl.Series(["a", "ü✓", None]),
        "Datetime naive": pl.Series([dt.datetime(2024, 1, 1), None, dt.datetime(2025, 1, 1)]),
        "Datetime UTC": pl.Series(
            [dt.datetime(2024, 1, 1), None, dt.datetime(2025, 1, 1)]
        ).dt.replace_time_zone("UTC"),
        "Datetime Asia/Tokyo": pl.Series(
            [dt.datetime(2024, 1, 1), None, dt.datetime(2025, 1, 1)]
        ).dt.replace_time_zone("Asia/Tokyo"),
        "Date": pl.Series([dt.date(2024, 1, 1), None, dt.date(2024, 3, 1)]),
        "Decimal(10,2)": pl.Series(
            [decimal.Decimal("1.10"), None, decimal.Decimal("2.25")], dtype=pl.Decimal(10, 2)
        ),
        "Categorical": pl.Series(["x", "y", "x"], dtype=pl.Categorical),
        "Enum": pl.Series(["x", "y", "x"], dtype=pl.Enum(["x", "y", "z"])),
        "List(Int64)": pl.Series([[1, 2], [], None]),
        "Struct": pl.Series([{"a": 1, "b": "x"}, {"a": 2, "b": None}, None]),
        "Boolean with nulls": pl.Series([True, None, False]),
        "Null": pl.Series([None, None, None]),
    }


def _exact_pandas(got: Any, want: Any) -> bool:
    import pandas as pd

    try:
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    except AssertionError:
        return False
    return True


def _exact_polars(got: Any, want: Any) -> bool:
    from polars.testing import assert_frame_equal

    try:
        assert_frame_equal(got, want, check_exact=True)
    except AssertionError:
        return False
    return True


def _round_trip(store: StoreCase, frame: Any, annotation: Any, folder: Path) -> Any:
    @dg.asset(name="fidelity")
    def produce():  # type: ignore[no-untyped-def]
        return frame

    seen: list[Any] = []

    def consume(fidelity):  # type: ignore[no-untyped-def]
        seen.append(fidelity)

    consume.__annotations__ = {"fidelity": annotation, "return": None}
    resources = {"io_manager": _manager(store, folder)}
    dg.materialize([produce, dg.asset(consume)], resources=resources, record_history=False)
    return seen[0]


def _cell(store: StoreCase, frame: Any, annotation: Any, same: Callable[[Any, Any], bool]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            got = _round_trip(store, frame, annotation, Path(tmp))
        except Exception as exc:
            return f"error: {type(exc).__name__}"
        return "exact" if same(got, frame) else "lossy"


def fidelity_rows(
    stores: tuple[StoreCase, ...] = PUBLISHED_STORES,
) -> list[tuple[str, str, dict[str, str]]]:
    """(library, column, {store: "exact" | "lossy" | "error: ..."}) for every tested column."""
    import pandas as pd
    import polars as pl

    rows = []
    for name, series in _pandas_columns().items():
        frame = pd.DataFrame({"c": series})
        cells = {s.name: _cell(s, frame, pd.DataFrame, _exact_pandas) for s in stores}
        rows.append(("pandas", name, cells))
    for name, frame in _pandas_frames().items():
        cells = {s.name: _cell(s, frame, pd.DataFrame, _exact_pandas) for s in stores}
        rows.append(("pandas", name, cells))
    for name, series in _polars_columns().items():
        pl_frame = pl.DataFrame({"c": series})
        cells = {s.name: _cell(s, pl_frame, pl.DataFrame, _exact_polars) for s in stores}
        rows.append(("polars", name, cells))
    return rows


def markdown_table(stores: tuple[StoreCase, ...] = PUBLISHED_STORES) -> str:
    """The fidelity table as Markdown, one column per store."""
    names = [s.name for s in stores]
    lines = [
        "| library | column | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for lib, name, cells in fidelity_rows(stores):
        lines.append(f"| {lib} | {name} | " + " | ".join(cells[s] for s in names) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
