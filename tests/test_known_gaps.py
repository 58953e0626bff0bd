"""Known gaps, pinned: each must keep failing the way it fails now (strict xfail), so a fix
shows up as an unexpected pass and the gap is removed from the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import wharf as dg
from wharf.duckdb import DuckDBIOManager


def _round_trip(io: Any, df: pd.DataFrame) -> pd.DataFrame:
    seen: list[pd.DataFrame] = []

    @dg.asset
    def table() -> pd.DataFrame:
        return df

    @dg.asset
    def reader(table: pd.DataFrame) -> None:
        seen.append(table)

    dg.materialize([table, reader], resources={"io_manager": io}, record_history=False)
    return seen[0]


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="zero rows write no dictionary")
@pytest.mark.parametrize("store", ["duckdb", "filesystem"])
def test_empty_categorical_keeps_its_categories(tmp_path: Path, store: str) -> None:
    io = (
        DuckDBIOManager(database=str(tmp_path / "gap.duckdb"))
        if store == "duckdb"
        else dg.FilesystemIOManager(base_dir=str(tmp_path))
    )
    df = pd.DataFrame({"c": pd.Categorical([], categories=pd.Index(["a", "b"], dtype="str"))})
    assert _round_trip(io, df)["c"].cat.categories.tolist() == ["a", "b"]
