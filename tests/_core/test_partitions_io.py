"""Partitions through I/O managers: path layout, dicts or one frame, missing partitions, and
table stores (partition_expr, bound filters, one query, typed time bounds)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import wharf as dg
from tests.statements import record_statements
from wharf.duckdb import DuckDBIOManager
from wharf.errors import DefinitionError, StoredValueNotFoundError

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")
MULTI = dg.MultiPartitionsDefinition(
    {"region": dg.StaticPartitionsDefinition(["eu", "us"]), "date": DAYS}
)


class JsonIOManager(dg.UPathIOManager):
    extension = ".json"

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: Any) -> None:
        path.write_text(json.dumps(obj))

    def load_from_path(self, context: dg.InputContext, path: Any) -> Any:
        return json.loads(path.read_text())


def files(base: Path) -> list[str]:
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


def test_upath_one_object_per_partition_multi_as_folders(tmp_path: Path) -> None:
    @dg.asset(partitions_def=MULTI, key_prefix="sales")
    def orders(context: dg.AssetExecutionContext) -> dict[str, str]:
        return context.partition_key.keys_by_dimension  # type: ignore[attr-defined,no-any-return]

    io = JsonIOManager(base_path=tmp_path / "store")
    for key in ("2024-01-01|eu", "2024-01-02|us"):
        dg.materialize([orders], resources={"io_manager": io}, partition_key=key)
    assert files(tmp_path / "store") == [
        "sales/orders/2024-01-01/eu.json", "sales/orders/2024-01-02/us.json",
    ]  # fmt: skip
    loaded = io.load_input(
        dg.build_input_context(
            asset_key=["sales", "orders"], asset_partitions_def=MULTI,
            asset_partition_keys=["2024-01-01|eu", "2024-01-02|us"],
        )
    )  # fmt: skip
    assert loaded == {
        "2024-01-01|eu": {"date": "2024-01-01", "region": "eu"},
        "2024-01-02|us": {"date": "2024-01-02", "region": "us"},
    }


def test_upath_one_partition_is_the_value_several_a_dict(tmp_path: Path) -> None:
    io = JsonIOManager(base_path=tmp_path)
    for day in ("2024-01-01", "2024-01-02"):
        io.handle_output(dg.build_output_context(asset_key="a", partition_key=day), [day])
    one = dg.build_input_context(asset_key="a", partition_key="2024-01-02")
    assert io.load_input(one) == ["2024-01-02"]
    typed = dg.build_input_context(asset_key="a", partition_key="2024-01-02", dagster_type=dict)
    assert io.load_input(typed) == {"2024-01-02": ["2024-01-02"]}
    two = dg.build_input_context(asset_key="a", asset_partition_keys=["2024-01-01", "2024-01-02"])
    assert io.load_input(two) == {"2024-01-01": ["2024-01-01"], "2024-01-02": ["2024-01-02"]}


def test_upath_missing_partitions_listed_or_skipped(tmp_path: Path) -> None:
    io = JsonIOManager(base_path=tmp_path)
    io.handle_output(dg.build_output_context(asset_key="a", partition_key="2024-01-02"), [2])
    keys = ["2024-01-01", "2024-01-02", "2024-01-03"]
    with pytest.raises(StoredValueNotFoundError) as info:
        io.load_input(dg.build_input_context(asset_key="a", asset_partition_keys=keys))
    message = str(info.value)
    assert "no stored value for partition(s) ['2024-01-01', '2024-01-03'] (JsonIOManager" in message
    assert str(tmp_path / "a" / "2024-01-03.json") in message
    assert "allow_missing_partitions" in message
    allowed = dg.build_input_context(
        asset_key="a", asset_partition_keys=keys, metadata={"allow_missing_partitions": True}
    )
    assert io.load_input(allowed) == {"2024-01-02": [2]}


def test_upath_partition_replaces_an_unpartitioned_file(tmp_path: Path) -> None:
    class Raw(JsonIOManager):
        extension = ""

    io = Raw(base_path=tmp_path)
    io.handle_output(dg.build_output_context(asset_key="a"), [0])
    io.handle_output(dg.build_output_context(asset_key="a", partition_key="2024-01-01"), [1])
    assert files(tmp_path) == ["a/2024-01-01"]


@pytest.mark.parametrize("manager", ["memory", "filesystem"])
def test_frame_annotation_concatenates_partitions_through_arrow(
    manager: str, tmp_path: Path
) -> None:
    @dg.asset(partitions_def=DAYS)
    def events(context: dg.AssetExecutionContext) -> pd.DataFrame:
        n = int(context.partition_key[-1])
        frame = pd.DataFrame({"day": [context.partition_key] * n, "n": range(n)})
        if context.partition_key == "2024-01-02":
            frame["late"] = 1.5  # a column only this partition has
        return frame

    @dg.asset
    def combined(events: pl.DataFrame) -> pl.DataFrame:
        return events

    io = (
        dg.InMemoryIOManager()
        if manager == "memory"
        else dg.FilesystemIOManager(base_dir=str(tmp_path))
    )
    for key in DAYS.get_partition_keys():
        dg.materialize([events], resources={"io_manager": io}, partition_key=key)
    got = dg.materialize([events, combined], resources={"io_manager": io}, selection=[combined])
    frame = got.output_for_node("combined")
    assert frame.columns == ["day", "n", "late"]
    assert frame.height == 1 + 2 + 3 + 4
    assert frame["late"].null_count() == 8
    assert frame["day"].to_list()[:3] == ["2024-01-01", "2024-01-02", "2024-01-02"]


def test_many_partition_files_load_as_one_dataset_each_file_opened_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partitions that become one frame (or a dict of frames) are read as one Arrow dataset over
    the store's files: each file opened once for its rows (the first once more for the
    schema), no per-partition download; a missing partition is still the error naming it."""
    from fsspec.implementations.memory import MemoryFileSystem

    from wharf._io.object_store import ParquetOrPickleIOManager

    opened: list[str] = []

    class CountingMemory(MemoryFileSystem):  # type: ignore[misc]
        def _open(self, path: str, mode: str = "rb", **kw: Any) -> Any:
            if "r" in mode:
                opened.append(path)
            return super()._open(path, mode, **kw)

    fs = CountingMemory(skip_instance_cache=True)
    keys = [f"k{i:03}" for i in range(40)]
    io = ParquetOrPickleIOManager(f"memory://{tmp_path.name}/store", filesystem=fs)
    for i, key in enumerate(keys):
        frame = pd.DataFrame({"key": [key] * 3, "v": [i, i, i]})
        io.handle_output(dg.build_output_context(asset_key="a", partition_key=key), frame)
    per_file: list[str] = []
    real = ParquetOrPickleIOManager.load_table
    monkeypatch.setattr(ParquetOrPickleIOManager, "load_table",
                        lambda self, c, p: per_file.append(str(p)) or real(self, c, p))  # fmt: skip

    def load(columns: list[str] | None = None) -> pd.DataFrame:
        meta = {"columns": columns} if columns else {}
        context = dg.build_input_context(
            asset_key="a", asset_partition_keys=keys, dagster_type=pd.DataFrame,
            definition_metadata=meta,
        )  # fmt: skip
        return io.load_input(context)

    def load_dict() -> Any:
        context = dg.build_input_context(asset_key="a", asset_partition_keys=keys)
        return io.load_input(context)

    frame = load()
    assert per_file == []  # no file read on its own
    assert sorted(set(opened)) == sorted(opened[1:])  # the first twice, every other once
    assert len(opened) == len(keys) + 1
    assert frame["key"].tolist() == [k for k in keys for _ in range(3)]  # in partition order
    assert frame["v"].tolist() == [i for i in range(len(keys)) for _ in range(3)]
    assert load(["v"]).columns.tolist() == ["v"]  # projected
    opened.clear()
    parts = load_dict()
    assert per_file == []  # a dict of frames: one dataset too
    assert len(opened) == len(keys) + 1
    assert list(parts) == keys
    assert parts["k003"]["v"].tolist() == [3, 3, 3]

    fs.rm_file(f"/{tmp_path.name}/store/a/k007.parquet")
    with pytest.raises(StoredValueNotFoundError, match=r"\['k007'\]"):
        load()


# -- table stores ---------------------------------------------------------------------------


def duckdb_io(tmp_path: Path) -> DuckDBIOManager:
    return DuckDBIOManager(database=str(tmp_path / "p.duckdb"), schema="s")


def test_table_store_needs_partition_expr(tmp_path: Path) -> None:
    @dg.asset(partitions_def=DAYS)
    def plain() -> pa.Table:
        return pa.table({"day": [dt.date(2024, 1, 1)]})

    @dg.asset(partitions_def=DAYS, metadata={"partition_expr": "when"})
    def wrong_column() -> pa.Table:
        return pa.table({"day": [dt.date(2024, 1, 1)]})

    @dg.asset(partitions_def=MULTI, metadata={"partition_expr": "day"})
    def multi() -> pa.Table:
        return pa.table({"day": [dt.date(2024, 1, 1)]})

    res = {"io_manager": duckdb_io(tmp_path)}
    for asset, match in [
        (plain, "needs metadata partition_expr='<column>'"),
        (
            wrong_column,
            r"partition_expr 'when', whose column 'when' matches no column.*stored nothing",
        ),
        (multi, "needs metadata partition_expr=.*'date': '<date column>'"),
    ]:
        key = "2024-01-01|eu" if asset is multi else "2024-01-01"
        result = dg.materialize([asset], resources=res, partition_key=key, raise_on_error=False)
        err = next(iter(result.failures.values()))
        assert isinstance(err, DefinitionError), err
        assert err.io_manager == "DuckDBIOManager"
        assert re.search(match, str(err)), str(err)


def _daily(column: pa.Array) -> dg.AssetsDefinition:
    @dg.asset(partitions_def=DAYS, metadata={"partition_expr": "at"})
    def events(context: dg.AssetExecutionContext) -> pa.Table:
        day = context.partition_time_window.start
        values = [day + dt.timedelta(hours=h) for h in (0, 12, 23)]
        return pa.table({"at": pa.array(values).cast(column), "n": [1, 2, 3]})

    return events


@pytest.mark.parametrize(
    "column",
    [pa.timestamp("us", tz="UTC"), pa.timestamp("us", tz="Asia/Tokyo"), pa.timestamp("ms")],
    ids=str,
)
def test_time_windows_on_timestamp_columns_one_query(
    column: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _daily(column)

    @dg.asset(ins={"events": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())})
    def total(events: pa.Table) -> pa.Table:
        return events

    res = {"io_manager": duckdb_io(tmp_path)}
    for key in DAYS.get_partition_keys():
        dg.materialize([events], resources=res, partition_key=key)
    dg.materialize([events], resources=res, partition_key="2024-01-02")  # overwrite in place
    seen = record_statements(monkeypatch)
    got = dg.materialize([events, total], resources=res, selection=[total])
    (load,) = seen.reads()  # one connection for the load (then total's write: another)
    data = [sql for sql in load if "WHERE FALSE" not in sql and sql.startswith('SELECT "at"')]
    assert len(data) == 1, load  # one query: the missing partitions are found in its rows
    assert '"at" >= ? AND "at" < ?' in data[0]  # one range for the four days
    assert got.output_for_node("total").num_rows == 12


@pytest.mark.parametrize(
    "annotation",
    [pd.DataFrame, pa.Table, duckdb.DuckDBPyRelation, pl.LazyFrame, pa.RecordBatchReader],
    ids=lambda a: a.__name__,
)
def test_many_partition_load_statements(
    annotation: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load of every partition of a table wharf wrote: its columns and comment (which keeps
    the schema), then one query of the rows (missing partitions found in them); a lazy value
    is checked by one query of the partition column first, then is its own query."""

    @dg.asset(partitions_def=DAYS, metadata={"partition_expr": "day"})
    def events(context: dg.AssetExecutionContext) -> pa.Table:
        day = dt.date.fromisoformat(context.partition_key)
        return pa.table({"day": [day] * 3, "n": [1, 2, 3]})

    def count(events: Any) -> int:
        if isinstance(events, duckdb.DuckDBPyRelation):
            return int(events.aggregate("count(*)").fetchall()[0][0])
        if isinstance(events, pl.LazyFrame):
            return events.collect().height
        if isinstance(events, pa.RecordBatchReader):
            return events.read_all().num_rows
        return len(events)

    count.__annotations__ = {"events": annotation, "return": int}
    every = dg.AssetIn(partition_mapping=dg.AllPartitionMapping())
    rows = dg.asset(ins={"events": every}, io_manager_key="mem", name="rows")(count)
    res = {"io_manager": duckdb_io(tmp_path), "mem": dg.InMemoryIOManager()}
    for key in DAYS.get_partition_keys():
        dg.materialize([events], resources=res, partition_key=key)
    seen = record_statements(monkeypatch)
    got = dg.materialize([events, rows], resources=res, selection=[rows])
    assert got.output_for_node("rows") == 12
    (load,) = seen.reads()
    assert "duckdb_columns()" in load[0]
    assert "comment" in load[1]
    queries = load[2:]
    data = 'SELECT "day", "n" FROM'
    if annotation in (pd.DataFrame, pa.Table):
        assert len(queries) == 1, load
        assert queries[0].startswith(data)
        return
    assert queries[0].startswith('SELECT "day" FROM'), load  # the missing check
    assert '"day" >= ? AND "day" < ?' in queries[0]
    if annotation is duckdb.DuckDBPyRelation:  # the relation's own query runs in DuckDB
        assert len(queries) == 1, load
    else:
        assert len(queries) == 2, load
        assert queries[1].startswith(data)


@pytest.mark.parametrize("kind", ["pandas", "arrow"])
def test_duckdb_partition_write_statements(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partition write into an existing table is one transaction of five statements; a
    pandas one reads the stored schema first (its index is fitted to the table's) inside a
    block that keeps the database open, so the file is opened once for both sessions."""

    @dg.asset(partitions_def=DAYS, metadata={"partition_expr": "day"})
    def events(context: dg.AssetExecutionContext) -> Any:
        day = dt.date.fromisoformat(context.partition_key)
        columns = {"day": [day] * 3, "n": [1, 2, 3]}
        return pd.DataFrame(columns) if kind == "pandas" else pa.table(columns)

    res = {"io_manager": duckdb_io(tmp_path)}
    dg.materialize([events], resources=res, partition_key="2024-01-01")
    seen = record_statements(monkeypatch)
    dg.materialize([events], resources=res, partition_key="2024-01-02")
    *before, write = seen.sessions
    assert [s.split()[0] for s in write] == [
        "CREATE", "BEGIN", "SELECT", "DELETE", "INSERT", "SELECT", "COMMIT",
    ]  # fmt: skip
    assert "duckdb_columns()" in write[2]
    assert write[5].startswith("SELECT count(*)")  # every row inside the partition
    if kind == "arrow":
        assert before == []
        return
    held, schema = before  # the database kept open (nothing runs on it), then the schema read
    assert held == []
    assert seen.reading == [False, True, False]
    assert len(schema) == 2  # columns and comment: the written schema is the table's
    assert "duckdb_columns()" in schema[0]
    assert "comment" in schema[1]


def test_naive_timestamps_compare_as_wall_clock_of_the_time_zone(tmp_path: Path) -> None:
    paris = dg.DailyPartitionsDefinition(
        start_date="2024-01-01", end_date="2024-01-03", timezone="Europe/Paris"
    )

    @dg.asset(partitions_def=paris, metadata={"partition_expr": "at"})
    def local(context: dg.AssetExecutionContext) -> pa.Table:
        day = dt.datetime.fromisoformat(context.partition_key)  # naive local times
        return pa.table({"at": [day, day.replace(hour=23, minute=30)], "n": [1, 2]})

    @dg.asset(partitions_def=paris)
    def copy(local: pa.Table) -> list[int]:
        return local.column("n").to_pylist()

    res = {"io_manager": duckdb_io(tmp_path), "mem": dg.InMemoryIOManager()}
    copy = dg.asset(partitions_def=paris, io_manager_key="mem", name="copy")(copy.fn)
    for key in paris.get_partition_keys():
        dg.materialize([local], resources=res, partition_key=key)
    got = dg.materialize([local, copy], resources=res, selection=[copy], partition_key="2024-01-02")
    assert got.output_for_node("copy") == [1, 2]


def test_multi_partitions_one_column_per_dimension(tmp_path: Path) -> None:
    meta = {"partition_expr": {"date": "day", "region": "region"}}

    @dg.asset(partitions_def=MULTI, metadata=meta)
    def orders(context: dg.AssetExecutionContext) -> pl.DataFrame:
        keys = context.partition_key.keys_by_dimension  # type: ignore[attr-defined]
        day = dt.date.fromisoformat(keys["date"])
        return pl.DataFrame({"day": [day, day], "region": [keys["region"]] * 2, "n": [1, 2]})

    every = dg.AssetIn(partition_mapping=dg.AllPartitionMapping())

    @dg.asset(partitions_def=DAYS, ins={"orders": every}, io_manager_key="mem")
    def per_key(orders: dict[str, pl.DataFrame]) -> pl.DataFrame:
        return pl.DataFrame(
            {"key": sorted(orders), "rows": [len(orders[k]) for k in sorted(orders)]}
        )

    res = {"io_manager": duckdb_io(tmp_path), "mem": dg.InMemoryIOManager()}
    for key in MULTI.get_partition_keys():
        dg.materialize([orders], resources=res, partition_key=key)
    got = dg.materialize(
        [orders, per_key], resources=res, selection=[per_key], partition_key="2024-01-01"
    )
    frame = got.output_for_node("per_key")
    assert frame.height == len(MULTI.get_partition_keys())
    assert set(frame["rows"].to_list()) == {2}
    with pytest.raises(StoredValueNotFoundError, match="no stored value for partition"):
        dg.materialize(
            [orders, per_key], resources={**res, "io_manager": duckdb_io(tmp_path / "x")},
            selection=[per_key], partition_key="2024-01-01",
        )  # fmt: skip


def test_duckdb_relation_input_keeps_the_partition_filter(tmp_path: Path) -> None:
    @dg.asset(partitions_def=DAYS, metadata={"partition_expr": "day"})
    def events(context: dg.AssetExecutionContext) -> pa.Table:
        day = dt.date.fromisoformat(context.partition_key)
        return pa.table({"day": [day] * 3, "n": [1, 2, 3]})

    @dg.asset(partitions_def=DAYS, io_manager_key="mem")
    def counted(events: duckdb.DuckDBPyRelation) -> int:
        return int(events.aggregate("count(*)").fetchall()[0][0])

    res = {"io_manager": duckdb_io(tmp_path), "mem": dg.InMemoryIOManager()}
    for key in DAYS.get_partition_keys():
        dg.materialize([events], resources=res, partition_key=key)
    got = dg.materialize(
        [events, counted], resources=res, selection=[counted], partition_key="2024-01-03"
    )
    assert got.output_for_node("counted") == 3


# -- the stores' several-filter partitions -------------------------------------------------


def _two_dims(day: int, region: str, n: int = 2) -> pa.Table:
    return pa.table(
        {"day": [dt.date(2024, 1, day)] * n, "region": [region] * n, "v": list(range(n))}
    )


def _filters(day: int, region: str) -> list[Any]:
    from wharf._stores.base import PartitionFilter

    start, end = dt.date(2024, 1, day), dt.date(2024, 1, day + 1)
    return [PartitionFilter("day", start=start, end=end), PartitionFilter("region", (region,))]


def test_sql_store_with_several_filters(tmp_path: Path) -> None:
    from wharf._stores.base import TableRef
    from wharf._stores.duckdb import duckdb_store

    store = duckdb_store(tmp_path / "s.duckdb")
    ref = TableRef("public", "t")
    for day, region in [(1, "eu"), (1, "us"), (2, "eu")]:
        store.write(ref, _two_dims(day, region), partition=_filters(day, region))
    store.write(ref, _two_dims(1, "eu", 1), partition=_filters(1, "eu"))  # replaces one pair
    got = store.read(ref, partition=_filters(1, "eu")).read_all()
    assert got.num_rows == 1
    both = store.read(ref, columns=["v"], partition=_filters(1, "us")).read_all()
    assert both.column_names == ["v"]
    assert both.num_rows == 2
    assert store.read(ref).read_all().num_rows == 5
    from wharf.errors import StorageError

    with pytest.raises(StorageError, match="region IN"):
        store.write(ref, _two_dims(2, "us"), partition=_filters(2, "eu"))  # rows outside it
    assert store.read(ref, partition=_filters(2, "eu")).read_all().num_rows == 2
    assert store.schema(ref).names == ["day", "region", "v"]


def test_many_missing_partitions_shows_the_first_ten_and_a_count(tmp_path: Path) -> None:
    io = JsonIOManager(base_path=tmp_path)
    keys = [f"k{i:03}" for i in range(500)]
    with pytest.raises(StoredValueNotFoundError) as info:
        io.load_input(dg.build_input_context(asset_key="a", asset_partition_keys=keys))
    message = str(info.value)
    assert f"{keys[:10]} (and 490 more, 500 in all)" in message
    assert "k010" not in message


def test_time_windows_pickle_without_their_memo() -> None:
    import pickle

    days = dg.DailyPartitionsDefinition(start_date="2000-01-01", end_date="2010-01-01")
    before = len(pickle.dumps(days))
    keys = days.get_partition_keys()
    assert all(days.time_window_for_partition_key(k).start.day > 0 for k in keys)
    assert len(pickle.dumps(days)) == before  # the memo of 3,652 windows is not pickled
    again = pickle.loads(pickle.dumps(days))
    assert again == days
    assert again.time_window_for_partition_key("2004-02-29").end.isoformat() == (
        "2004-03-01T00:00:00+00:00"
    )
