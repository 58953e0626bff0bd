"""``TableStore.read(limit=N)``: the store stops after N rows (``LIMIT`` in the query), which is
what ``wharf show KEY`` uses to print the first rows of a stored table."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from tests.postgres.fixtures import pg_schema, postgres_server
from wharf._core.keys import AssetKey
from wharf._stores.base import PartitionFilter, TableRef, TableStore
from wharf._stores.duckdb import duckdb_store
from wharf._stores.postgres import postgres_store
from wharf.duckdb import DuckDBIOManager
from wharf.errors import StorageError
from wharf.testing.postgres import PostgresServer

__all__ = ["pg_schema", "postgres_server"]
TABLE = pa.table({"n": list(range(1000)), "even": [i % 2 == 0 for i in range(1000)]})


def _check_limits(store: TableStore, ref: TableRef) -> None:
    store.write(ref, TABLE.to_reader())
    assert store.read(ref, limit=3).read_all().num_rows == 3
    assert store.read(ref, limit=0).read_all().num_rows == 0
    assert store.read(ref, limit=5000).read_all().num_rows == 1000
    only = store.read(
        ref, columns=["n"], partition=PartitionFilter("even", values=(True,)), limit=4
    )
    table = only.read_all()
    assert table.column_names == ["n"]
    assert table.num_rows == 4
    assert all(n % 2 == 0 for n in table.column("n").to_pylist())
    with pytest.raises(StorageError, match="a row limit is a whole number >= 0, got '3; DROP"):
        store.read(ref, limit="3; DROP TABLE t")  # type: ignore[arg-type]
    assert store.read(ref).read_all().num_rows == 1000  # nothing was dropped


def test_duckdb_reads_at_most_limit_rows(tmp_path: Path) -> None:
    _check_limits(duckdb_store(str(tmp_path / "t.duckdb")), TableRef("public", "numbers"))


def test_postgres_reads_at_most_limit_rows(postgres_server: PostgresServer, pg_schema: str) -> None:
    _check_limits(postgres_store(postgres_server.uri), TableRef(pg_schema, "numbers"))


def test_table_io_manager_previews_the_first_rows_of_an_asset(tmp_path: Path) -> None:
    io = DuckDBIOManager(database=str(tmp_path / "t.duckdb"), schema="shop")
    io.table_store().write(TableRef("raw", "numbers"), TABLE.to_reader())
    rows = io.preview_table(AssetKey("numbers"), {"schema": "raw"}, 2)
    assert rows.to_pydict() == {"n": [0, 1], "even": [True, False]}
