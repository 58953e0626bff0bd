"""The seed's pipeline (raw_sales_data -> clean_sales_data -> sales_summary) on plain Python
lists and dicts, written once and run through ``materialize`` on every kind of I/O manager a
Dagster user writes: the default, FilesystemIOManager, InMemoryIOManager, a ConfigurableIOManager
subclass, a function-style ``@io_manager`` and a UPathIOManager subclass."""

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from upath import UPath

import wharf as dg

Rows = list[dict[str, Any]]

CSV = """order_id,owner,amount
1,ana,10.0
2,bo,
3,ana,5.5
4,bo,2.0
"""
CLEAN = [
    {"order_id": 1, "owner": "ana", "amount": 10.0},
    {"order_id": 2, "owner": "bo", "amount": 0.0},
    {"order_id": 3, "owner": "ana", "amount": 5.5},
    {"order_id": 4, "owner": "bo", "amount": 2.0},
]
SUMMARY = [{"owner": "ana", "amount": 15.5}, {"owner": "bo", "amount": 2.0}]


def read_sales_csv(path: str = "raw_sales_data.csv") -> Rows:
    with open(path, newline="") as f:
        return [
            {
                "order_id": int(r["order_id"]),
                "owner": r["owner"],
                "amount": float(r["amount"]) if r["amount"] else None,
            }
            for r in csv.DictReader(f)
        ]


def fillna(rows: Rows, column: str, value: Any) -> Rows:
    return [r | {column: value} if r[column] is None else dict(r) for r in rows]


def group_sum(rows: Rows, by: str, column: str) -> Rows:
    totals: dict[Any, float] = {}
    for r in rows:
        totals[r[by]] = totals.get(r[by], 0.0) + r[column]
    return [{by: k, column: v} for k, v in sorted(totals.items())]


@pytest.fixture(autouse=True)
def sales_csv(tmp_path: Path) -> Path:
    path = tmp_path / "raw_sales_data.csv"  # the seed reads a URL; the tests read a local copy
    path.write_text(CSV)
    return path


# -- the seed's second example, with lists instead of DataFrames --------------------------------
@dg.asset
def raw_sales_data() -> Rows:
    return read_sales_csv()


@dg.asset
# Load the upstream `raw_sales_data` asset as input & specify the returned data type
def clean_sales_data(raw_sales_data: Rows) -> Rows:
    # Storing data with an I/O manager requires returning the data
    return fillna(raw_sales_data, "amount", 0.0)


@dg.asset
def sales_summary(clean_sales_data: Rows) -> Rows:
    return group_sum(clean_sales_data, "owner", "amount")


ASSETS = [raw_sales_data, clean_sales_data, sales_summary]


# -- I/O managers as a Dagster user writes them --------------------------------------------------
class JsonFilesIOManager(dg.ConfigurableIOManager):
    """A custom configurable I/O manager: one JSON file per asset below ``root``."""

    root: str

    def _path(self, context: dg.InputContext | dg.OutputContext) -> Path:
        return Path(self.root, *context.asset_key.path).with_suffix(".json")

    def handle_output(self, context: dg.OutputContext, obj: Rows) -> None:
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj))
        context.add_output_metadata({"num_rows": len(obj), "path": str(path)})

    def load_input(self, context: dg.InputContext) -> Rows:
        return json.loads(self._path(context).read_text())  # type: ignore[no-any-return]


class DictIOManager(dg.IOManager):
    def __init__(self, tables: dict[str, Any]) -> None:
        self.tables = tables

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.tables[context.asset_key.to_user_string()] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        return self.tables[context.asset_key.to_user_string()]


TABLES: dict[str, Any] = {}


@dg.io_manager
def dict_io_manager(init_context: dg.InitResourceContext) -> DictIOManager:
    return DictIOManager(TABLES)


class JsonUPathIOManager(dg.UPathIOManager):
    extension = ".json"

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        with path.open("w") as f:
            json.dump(obj, f)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        with path.open("r") as f:
            return json.load(f)


class JsonUPathIOManagerFactory(dg.ConfigurableIOManagerFactory):
    base_path: str

    def create_io_manager(self, context: dg.InitResourceContext) -> JsonUPathIOManager:
        return JsonUPathIOManager(base_path=UPath(self.base_path))


MANAGERS: dict[str, Callable[[Path], Any]] = {
    "default": lambda tmp: None,
    "filesystem": lambda tmp: dg.FilesystemIOManager(base_dir=str(tmp / "fs")),
    "in_memory": lambda tmp: dg.InMemoryIOManager(),
    "configurable": lambda tmp: JsonFilesIOManager(root=str(tmp / "json")),
    "function_style": lambda tmp: dict_io_manager,
    "upath_json": lambda tmp: JsonUPathIOManagerFactory(base_path=str(tmp / "upath")),
}


@pytest.mark.parametrize("manager", list(MANAGERS))
def test_seed_pipeline_runs_on_every_io_manager(manager: str, tmp_path: Path) -> None:
    TABLES.clear()
    io = MANAGERS[manager](tmp_path)
    resources = {} if io is None else {"io_manager": io}
    defs = dg.Definitions(assets=ASSETS, resources=resources)

    result = dg.materialize(defs.assets, resources=defs.resources)

    assert result.success
    assert result.output_for_node("clean_sales_data") == CLEAN
    assert result.asset_value("sales_summary") == SUMMARY
    events = result.get_asset_materialization_events()
    assert [e.asset_key.to_user_string() for e in events] == [
        "raw_sales_data",
        "clean_sales_data",
        "sales_summary",
    ]
    # a later run of one asset loads what this run stored upstream (same manager object)
    again = dg.materialize(ASSETS, resources=resources, selection=["sales_summary"])
    assert again.output_for_node("sales_summary") == SUMMARY


@pytest.mark.parametrize("manager", ["default", "filesystem", "configurable", "upath_json"])
def test_persistent_managers_survive_a_new_definitions(manager: str, tmp_path: Path) -> None:
    io = MANAGERS[manager](tmp_path)
    resources = {} if io is None else {"io_manager": io}
    dg.materialize(ASSETS, resources=resources)
    fresh = MANAGERS[manager](tmp_path)  # as a new process would build it
    defs = dg.Definitions(assets=ASSETS, resources={} if fresh is None else {"io_manager": fresh})
    assert defs.load_asset_value("sales_summary") == SUMMARY


def test_configurable_manager_metadata_reaches_events(tmp_path: Path) -> None:
    io = JsonFilesIOManager(root=str(tmp_path / "json"))
    result = dg.materialize(ASSETS, resources={"io_manager": io})
    (mat,) = result.asset_materializations_for_node("clean_sales_data")
    assert mat.metadata["num_rows"].value == 4
    assert (tmp_path / "json" / "clean_sales_data.json").is_file()


# -- the seed's first example: assets doing their own I/O through a resource --------------------
class SalesDB(dg.ConfigurableResource):
    """A stand-in for DuckDBResource: tables as JSON in one file."""

    database: str

    @contextmanager
    def get_connection(self) -> Iterator[dict[str, Rows]]:
        path = Path(self.database)
        tables = json.loads(path.read_text()) if path.exists() else {}
        yield tables
        path.write_text(json.dumps(tables))


def test_seed_resource_only_pipeline_with_spec_shadowing() -> None:
    raw_sales_data = dg.AssetSpec("raw_sales_data")

    @dg.asset
    def raw_sales_data(db: SalesDB) -> None:  # noqa: F811 - the seed shadows the spec
        with db.get_connection() as conn:
            conn["raw_sales_data"] = read_sales_csv()

    @dg.asset(deps=[raw_sales_data])
    def clean_sales_data(db: SalesDB) -> None:
        with db.get_connection() as conn:
            conn["clean_sales_data"] = fillna(conn["raw_sales_data"], "amount", 0.0)

    @dg.asset(deps=[clean_sales_data])
    def sales_summary(db: SalesDB) -> dg.MaterializeResult:
        with db.get_connection() as conn:
            conn["sales_summary"] = group_sum(conn["clean_sales_data"], "owner", "amount")
            return dg.MaterializeResult(metadata={"rows": len(conn["sales_summary"])})

    spy = DictIOManager({})
    defs = dg.Definitions(
        assets=[raw_sales_data, clean_sales_data, sales_summary],
        resources={"db": SalesDB(database="sales.json"), "io_manager": spy},
    )
    result = dg.materialize(defs.assets, resources=defs.resources)
    assert result.success
    assert spy.tables == {}  # -> None and MaterializeResult without a value skip the I/O manager
    tables = json.loads(Path("sales.json").read_text())
    assert tables["clean_sales_data"] == CLEAN
    assert tables["sales_summary"] == SUMMARY
    (mat,) = result.asset_materializations_for_node("sales_summary")
    assert mat.metadata["rows"].value == 2


def test_spec_in_deps_of_a_pipeline_that_loads_it() -> None:
    """An AssetSpec stands for data made elsewhere; its value is loaded by the I/O manager."""
    external = dg.AssetSpec("raw_sales_data", description="loaded by another tool")
    io = dg.InMemoryIOManager()
    io.handle_output(dg.build_output_context(asset_key="raw_sales_data"), read_sales_csv())
    result = dg.materialize(
        [external, clean_sales_data, sales_summary], resources={"io_manager": io}
    )
    assert result.output_for_node("sales_summary") == SUMMARY
