"""wharf.duckdb: the resource, the one I/O manager for every frame type, and its native paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import wharf as dg
import wharf._stores.sql as sql_module
from wharf.duckdb import (
    DuckDBIOManager,
    DuckDBPandasIOManager,
    DuckDBPolarsIOManager,
    DuckDBResource,
)
from wharf.errors import AssetTypeError, ConfigError


def test_resource_honours_schema_and_closes_on_error(tmp_path: Path) -> None:
    resource = DuckDBResource(database=str(tmp_path / "r.duckdb"), schema="sales")
    kept: list[Any] = []

    def use_and_fail() -> None:
        with resource.get_connection() as conn:
            conn.execute("CREATE TABLE t AS SELECT 1 AS x")
            kept.append(conn)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        use_and_fail()
    with pytest.raises(duckdb.ConnectionException):
        kept[0].execute("SELECT 1")
    with resource.get_connection() as conn:
        assert conn.sql('SELECT x FROM "sales"."t"').fetchall() == [(1,)]


def test_misspelt_field_is_an_error() -> None:
    with pytest.raises(ConfigError, match="did you mean 'database'"):
        DuckDBResource(databse="x.duckdb")  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="databse"):
        DuckDBPandasIOManager(databse="x.duckdb")  # type: ignore[call-arg]


def test_presets_differ_only_in_default_load_type(tmp_path: Path) -> None:
    db = str(tmp_path / "p.duckdb")

    @dg.asset
    def table() -> pd.DataFrame:
        return pd.DataFrame({"a": [1, 2]})

    seen: list[Any] = []

    @dg.asset
    def unannotated(table) -> None:  # type: ignore[no-untyped-def]
        seen.append(table)

    for manager, kind in [
        (DuckDBPandasIOManager, pd.DataFrame),
        (DuckDBPolarsIOManager, pl.DataFrame),
    ]:
        dg.materialize([table, unannotated], resources={"io_manager": manager(database=db)})
        assert isinstance(seen.pop(), kind)


def test_pandas_upstream_polars_downstream_and_optional(tmp_path: Path) -> None:
    @dg.asset
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"id": [1, 2, 3], "amount": [1.0, None, 3.0]})

    @dg.asset
    def as_polars(orders: pl.DataFrame | None) -> pl.DataFrame:
        assert isinstance(orders, pl.DataFrame)
        return orders.fill_null(0.0)

    io = DuckDBIOManager(database=str(tmp_path / "x.duckdb"))
    result = dg.materialize([orders, as_polars], resources={"io_manager": io})
    assert result.asset_value("as_polars")["amount"].to_list() == [1.0, 0.0, 3.0]


def test_wrong_type_names_asset_manager_and_types(tmp_path: Path) -> None:
    @dg.asset
    def numbers():  # type: ignore[no-untyped-def]
        return [1, 2, 3]

    io = DuckDBIOManager(database=str(tmp_path / "x.duckdb"))
    with pytest.raises(AssetTypeError) as info:
        dg.materialize([numbers], resources={"io_manager": io})
    text = str(info.value)
    assert "'numbers'" in text
    assert "DuckDBIOManager" in text
    assert "list" in text
    assert "pandas.DataFrame" in text


def test_loading_a_non_frame_annotation_is_a_clear_error(tmp_path: Path) -> None:
    @dg.asset
    def t() -> pa.Table:
        return pa.table({"a": [1]})

    @dg.asset
    def wants_int(t: int) -> None: ...

    io = DuckDBIOManager(database=str(tmp_path / "x.duckdb"))
    with pytest.raises(AssetTypeError, match=r"annotated int.*DuckDBIOManager"):
        dg.materialize([t, wants_int], resources={"io_manager": io})


class _TapSpy:
    """Counts how many writes went through the Arrow tap (i.e. not natively)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = sql_module._Tap

        def spy(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(sql_module, "_Tap", spy)


@pytest.mark.parametrize("database", ["file", ":memory:"])
def test_relation_in_relation_out_stays_inside_duckdb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    db = str(tmp_path / "n.duckdb") if database == "file" else ":memory:"
    io = DuckDBIOManager(database=db, schema="lake")

    @dg.asset
    def numbers() -> pa.Table:
        return pa.table({"n": list(range(1000)), "label": [f"x{i}" for i in range(1000)]})

    @dg.asset
    def evens(numbers: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
        assert isinstance(numbers, duckdb.DuckDBPyRelation)
        return numbers.filter("n % 2 = 0").project("n, label")

    dg.materialize([numbers], resources={"io_manager": io})
    spy = _TapSpy(monkeypatch)
    result = dg.materialize([numbers, evens], resources={"io_manager": io}, selection=[evens.key])
    assert spy.count == 0, "the relation was streamed through Arrow instead of copied natively"
    stored = result.asset_value("evens", pa.Table)
    assert stored.num_rows == 500
    assert stored.column("n").to_pylist()[:3] == [0, 2, 4]
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["row_count"].value == 500
    assert meta["schema"].value == {"n": "int64", "label": "string"}


def test_relation_of_another_database_streams_through_arrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = duckdb.connect()
    other.execute("CREATE TABLE src AS SELECT range AS n FROM range(10)")

    @dg.asset
    def copied() -> duckdb.DuckDBPyRelation:
        return other.sql("SELECT n FROM src WHERE n < 4")

    spy = _TapSpy(monkeypatch)
    io = DuckDBIOManager(database=str(tmp_path / "x.duckdb"))
    result = dg.materialize([copied], resources={"io_manager": io})
    assert spy.count == 1
    assert result.asset_value("copied", pa.Table).column("n").to_pylist() == [0, 1, 2, 3]


def test_lazy_inputs_and_outputs_stream(tmp_path: Path) -> None:
    io = DuckDBIOManager(database=str(tmp_path / "x.duckdb"))

    @dg.asset
    def source() -> pa.Table:
        return pa.table({"v": list(range(10_000))})

    @dg.asset
    def doubled(source: pa.RecordBatchReader) -> pa.RecordBatchReader:
        schema = pa.schema([("v", pa.int64())])
        batches = (
            pa.record_batch([pa.compute.multiply(b.column(0), 2)], schema=schema) for b in source
        )
        return pa.RecordBatchReader.from_batches(schema, batches)

    @dg.asset
    def total(doubled: pl.LazyFrame) -> pl.LazyFrame:
        return doubled.select(pl.col("v").sum())

    result = dg.materialize([source, doubled, total], resources={"io_manager": io})
    assert result.asset_value("total", pl.DataFrame).item() == 2 * sum(range(10_000))


def test_config_errors_name_the_field_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    from wharf.errors import ConfigError

    with pytest.raises(ConfigError, match=r"field 'schema': Input should be a valid string"):
        DuckDBIOManager(database="x.duckdb", schema=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"field 'database': .* at least 1 character"):
        DuckDBIOManager(database="")  # would be a throw-away in-memory database
    monkeypatch.setenv("WH_EMPTY_DB", "")  # the same through an EnvVar, when the run starts

    @dg.asset
    def a() -> int:
        return 1

    io = DuckDBIOManager(database=dg.EnvVar("WH_EMPTY_DB"))
    with pytest.raises(ConfigError) as info:
        dg.materialize([a], resources={"io_manager": io})
    assert "field 'database': String should have at least 1 character, got ''" in str(info.value)


def test_columns_differing_only_in_case_or_no_columns_fail_and_keep_the_table(
    tmp_path: Path,
) -> None:
    from wharf.errors import StorageError

    io = DuckDBIOManager(database=str(tmp_path / "case.duckdb"))
    value: dict[str, Any] = {"t": pa.table({"a": [1]})}

    @dg.asset
    def t() -> Any:
        return value["t"]

    assert dg.materialize([t], resources={"io_manager": io}).success
    for bad, text in [
        (pa.table({"A": [1, 2], "a": [10, 20]}), "columns 'A' and 'a' differ only in case"),
        (pa.table({}), "the data has no columns, and a table needs at least one"),
    ]:
        value["t"] = bad
        result = dg.materialize([t], resources={"io_manager": io}, raise_on_error=False)
        err = result.failures[dg.AssetKey("t")]
        assert isinstance(err, StorageError)
        assert text in str(err)
    kept = dg.Definitions(assets=[t], resources={"io_manager": io}).load_asset_value(
        "t", python_type=pa.Table
    )
    assert kept.to_pydict() == {"a": [1]}


@pytest.mark.parametrize("store", ["duckdb", "filesystem"])
def test_a_frame_arrow_cannot_represent_names_the_asset_and_manager(
    tmp_path: Path, store: str
) -> None:
    from wharf.errors import AssetTypeError

    io: Any = (
        DuckDBIOManager(database=str(tmp_path / "x.duckdb"))
        if store == "duckdb"
        else dg.FilesystemIOManager(base_dir=str(tmp_path / "files"))
    )
    manager = type(io).__name__
    for value, kind in [
        (pl.DataFrame({"x": pl.Series([1], dtype=pl.Int128)}), "polars.DataFrame"),
        (pd.DataFrame({"x": [1, "a"]}), "pandas.DataFrame"),  # mixed objects
    ]:

        @dg.asset(name="odd")
        def odd() -> Any:
            return value  # noqa: B023

        err = dg.materialize([odd], resources={"io_manager": io}, raise_on_error=False).failures[
            dg.AssetKey("odd")
        ]
        assert isinstance(err, AssetTypeError)
        assert (err.asset, err.io_manager) == ("odd", manager)
        assert f"asset 'odd' returned a {kind} that {manager} cannot convert to Arrow" in str(err)


def test_store_errors_name_the_asset_and_manager(tmp_path: Path) -> None:
    from wharf.errors import StoredValueNotFoundError

    @dg.asset
    def reader(never_stored: pa.Table) -> None: ...

    io = DuckDBIOManager(database=str(tmp_path / "n.duckdb"))
    spec = dg.AssetSpec("never_stored")
    with pytest.raises(StoredValueNotFoundError) as info:
        dg.materialize([spec, reader], resources={"io_manager": io})
    assert (info.value.asset, info.value.io_manager) == ("never_stored", "DuckDBIOManager")
    assert str(info.value).startswith("asset 'never_stored' (DuckDBIOManager): table ")


def test_two_assets_in_one_table_are_refused_before_the_run(tmp_path: Path) -> None:
    from wharf.errors import DefinitionError

    @dg.asset(key=["x", "t"])
    def from_x() -> pa.Table:
        return pa.table({"v": ["x"]})

    @dg.asset(key=["y", "t"])
    def from_y() -> pa.Table:
        return pa.table({"v": ["y"]})

    io = DuckDBIOManager(database=str(tmp_path / "two.duckdb"), schema="analytics")
    with pytest.raises(DefinitionError, match=r"assets 'x/t' and 'y/t' would both be stored in"):
        dg.materialize([from_x, from_y], resources={"io_manager": io})
    # without the manager's schema, each key prefix is its own schema: no clash
    io = DuckDBIOManager(database=str(tmp_path / "two.duckdb"))
    assert dg.materialize([from_x, from_y], resources={"io_manager": io}).success


def test_names_that_differ_only_in_case_are_one_table_and_are_refused(tmp_path: Path) -> None:
    from wharf.errors import DefinitionError

    database = str(tmp_path / "case.duckdb")
    con = duckdb.connect(database)  # what DuckDB itself does: quoted names ignore case too
    con.execute('CREATE SCHEMA "Raw"; CREATE TABLE "Raw"."Casey" AS SELECT 1 AS v')
    assert con.sql('SELECT v FROM "raw"."casey"').fetchall() == [(1,)]
    con.close()

    @dg.asset(name="Casey")
    def upper() -> pa.Table:
        return pa.table({"v": ["upper"]})

    @dg.asset(name="casey")
    def lower() -> pa.Table:
        return pa.table({"v": ["lower"]})

    io = DuckDBIOManager(database=database, schema="shop")
    with pytest.raises(DefinitionError, match=r"'Casey' and 'casey' would both be stored") as info:
        dg.materialize([upper, lower], resources={"io_manager": io})
    assert "shop.Casey / shop.casey" in str(info.value)
    assert info.value.io_manager == "DuckDBIOManager"

    @dg.asset(key=["Raw", "orders"])
    def raw_upper() -> pa.Table:
        return pa.table({"v": ["upper"]})

    @dg.asset(key=["raw", "orders"])
    def raw_lower() -> pa.Table:
        return pa.table({"v": ["lower"]})

    with pytest.raises(DefinitionError, match=r"'Raw/orders' and 'raw/orders' would both be"):
        dg.materialize(
            [raw_upper, raw_lower], resources={"io_manager": DuckDBIOManager(database=database)}
        )


@pytest.mark.parametrize("prefix", ["temp", "system", "main"])
def test_key_prefixes_that_are_also_duckdb_catalogs_work(tmp_path: Path, prefix: str) -> None:
    """``temp`` and ``system`` are DuckDB catalogs as well as schema names: every name wharf
    writes is qualified with the database's catalog, so neither is an ambiguous reference."""

    @dg.asset(key=[prefix, "orders"])
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"v": [1, 2]})

    @dg.asset(key=[prefix, "total"], ins={"orders": dg.AssetIn(key=[prefix, "orders"])})
    def total(orders: pl.LazyFrame) -> pl.DataFrame:
        return orders.select(pl.col("v").sum()).collect()

    database = tmp_path / "my shop.v1.duckdb"  # catalog "my shop"
    io = DuckDBIOManager(database=str(database))
    assert dg.materialize([orders, total], resources={"io_manager": io}).success
    con = duckdb.connect(str(database))
    got = con.sql(f'SELECT v FROM "my shop"."{prefix}"."total"').fetchall()
    assert got == [(3,)]
    con.close()
    value = dg.Definitions(assets=[orders], resources={"io_manager": io}).load_asset_value(
        [prefix, "orders"]
    )
    assert value["v"].tolist() == [1, 2]


_READ_ONLY_SCRIPT = """
import json, sys
import pandas as pd
import wharf as dg
from wharf.duckdb import DuckDBIOManager

@dg.asset
def orders() -> pd.DataFrame: ...
io = DuckDBIOManager(database=sys.argv[1])
defs = dg.Definitions(assets=[orders], resources={"io_manager": io})
out = {"pandas": defs.load_asset_value("orders")["v"].tolist()}
@dg.asset(name="orders")
def rewrite() -> pd.DataFrame:
    return pd.DataFrame({"v": [0]})
result = dg.materialize([rewrite], resources={"io_manager": io}, raise_on_error=False)
err = result.failures[dg.AssetKey("orders")]
out["write"] = [type(err).__name__, str(err)]
out["again"] = defs.load_asset_value("orders")["v"].tolist()
print(json.dumps(out))
"""


def test_a_database_on_a_read_only_mount_loads(tmp_path: Path) -> None:
    """A real read-only mount (a bind mount in a namespace of its own, ``unshare -rm``): loads
    open the file read-only; a write fails with a StorageError and changes nothing."""
    from tests.mounts import run_behind_mount

    @dg.asset
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"v": [1, 2, 3]})

    data, mount = tmp_path / "data", tmp_path / "mnt"
    mount.mkdir()
    io = DuckDBIOManager(database=str(data / "shop.duckdb"))
    assert dg.materialize([orders], resources={"io_manager": io}).success
    mount_ro = f"mount --bind -o ro {data} {mount}"
    out = run_behind_mount(mount_ro, _READ_ONLY_SCRIPT, [str(mount / "shop.duckdb")], tmp_path)
    assert out["pandas"] == [1, 2, 3]
    assert out["again"] == [1, 2, 3]
    assert out["write"][0] == "StorageError"
    assert "Read-only file system" in out["write"][1]
