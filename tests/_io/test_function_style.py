"""Function-style definitions from older Dagster code: ``@io_manager``, ``@resource``,
``ResourceDefinition``, ``.configured``, ``hardcoded_io_manager``, ``fs_io_manager``,
``mem_io_manager``, ``duckdb_pandas_io_manager``, and ``@asset(io_manager_def=)``.

Written from Dagster's legacy I/O-manager and resource pages: the decorated function gets the
init context (``resource_config`` checked against ``config_schema`` with defaults filled in,
``resources`` with the keys it requires), a resource that yields is torn down after the run,
and a manager given inline is bound under ``<asset>__io_manager``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import wharf as dg
from wharf.duckdb import duckdb_pandas_io_manager
from wharf.errors import ConfigError


class DictIOManager(dg.IOManager):
    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.values[self.prefix + context.asset_key.to_user_string()] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        return self.values[self.prefix + context.asset_key.to_user_string()]


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)


def test_io_manager_config_schema_defaults_and_configured() -> None:
    made: list[DictIOManager] = []

    @dg.io_manager(
        config_schema={"path_prefix": dg.Field(str, is_required=False, default_value="d/")}
    )
    def my_io_manager(init_context: Any) -> DictIOManager:
        made.append(DictIOManager(init_context.resource_config["path_prefix"]))
        return made[-1]

    assert dg.materialize([numbers, total], resources={"io_manager": my_io_manager}).success
    assert made[-1].values == {"d/numbers": [1, 2, 3], "d/total": 6}
    configured = my_io_manager.configured({"path_prefix": "p/"})
    assert dg.materialize([numbers], resources={"io_manager": configured}).success
    assert made[-1].values == {"p/numbers": [1, 2, 3]}
    with pytest.raises(ConfigError, match="path_prefix"):
        my_io_manager.configured({"path_prefix": 3})
    # invoked directly with an init context, as a unit test does
    direct = my_io_manager(dg.build_init_resource_context(config={"path_prefix": "x/"}))
    assert isinstance(direct, DictIOManager)
    assert direct.prefix == "x/"


def test_run_config_configures_a_function_style_manager() -> None:
    @dg.io_manager(config_schema={"path_prefix": str})
    def my_io_manager(init_context: Any) -> DictIOManager:
        return DictIOManager(init_context.resource_config["path_prefix"])

    result = dg.materialize(
        [numbers], resources={"io_manager": my_io_manager},
        run_config={"resources": {"io_manager": {"config": {"path_prefix": "rc/"}}}},
    )  # fmt: skip
    assert result.success
    with pytest.raises(ConfigError, match=r"resources\.io_manager\.config\.path_prefix"):
        dg.materialize([numbers], resources={"io_manager": my_io_manager})


def test_a_yielding_resource_is_torn_down_after_the_run_and_required_keys_are_set_up_first() -> (
    None
):
    events: list[str] = []

    @dg.resource(config_schema={"name": str})
    def connection(init_context: Any) -> Any:
        events.append(f"open {init_context.resource_config['name']}")
        yield {"name": init_context.resource_config["name"]}
        events.append("close")

    @dg.io_manager(required_resource_keys={"conn"})
    def conn_io_manager(init_context: Any) -> DictIOManager:
        events.append(f"manager with {init_context.resources.conn['name']}")
        return DictIOManager()

    @dg.asset(required_resource_keys={"conn"})
    def uses(context: dg.AssetExecutionContext) -> str:
        events.append("asset")
        return str(context.resources.conn["name"])

    result = dg.materialize(
        [uses],
        resources={"io_manager": conn_io_manager, "conn": connection.configured({"name": "db"})},
    )
    assert result.success
    assert events == ["open db", "manager with db", "asset", "close"]


def test_hardcoded_and_none_resources() -> None:
    io = DictIOManager()

    @dg.asset(required_resource_keys={"answer", "nothing"})
    def reads(context: dg.AssetExecutionContext) -> int:
        assert context.resources.nothing is None
        return int(context.resources.answer)

    result = dg.materialize(
        [reads],
        resources={
            "io_manager": dg.IOManagerDefinition.hardcoded_io_manager(io),
            "answer": dg.ResourceDefinition.hardcoded_resource(42),
            "nothing": dg.ResourceDefinition.none_resource(),
        },
    )
    assert result.success
    assert io.values == {"reads": 42}


def test_fs_io_manager_and_mem_io_manager(tmp_path: Path) -> None:
    fs = dg.fs_io_manager.configured({"base_dir": str(tmp_path)})
    assert dg.materialize([numbers, total], resources={"io_manager": fs}).success
    assert pickle.loads((tmp_path / "total").read_bytes()) == 6
    result = dg.materialize([numbers, total], resources={"io_manager": dg.mem_io_manager})
    assert result.output_for_node("total") == 6


def test_duckdb_pandas_io_manager_stores_a_table(tmp_path: Path) -> None:
    import duckdb

    @dg.asset(key_prefix="sales")
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"id": [1, 2], "eur": [3.5, 4.0]})

    database = str(tmp_path / "fn.duckdb")
    manager = duckdb_pandas_io_manager.configured({"database": database, "schema": "public"})
    assert dg.materialize([orders], resources={"io_manager": manager}).success
    with duckdb.connect(database) as con:
        assert con.execute("select sum(eur) from public.orders").fetchone() == (7.5,)


def test_io_manager_def_inline_is_bound_under_a_generated_key() -> None:
    io = DictIOManager()

    @dg.asset(io_manager_def=dg.IOManagerDefinition.hardcoded_io_manager(io))
    def inline() -> int:
        return 5

    @dg.asset
    def after(inline: int) -> int:
        return inline + 1

    assert inline.io_manager_key == "inline__io_manager"
    defs = dg.Definitions(assets=[inline, after], resources={"io_manager": dg.InMemoryIOManager()})
    result = defs.materialize()
    assert io.values == {"inline": 5}
    assert result.output_for_node("after") == 6

    other = DictIOManager()

    @dg.multi_asset(outs={
        "a": dg.AssetOut(io_manager_def=dg.IOManagerDefinition.hardcoded_io_manager(other)),
        "b": dg.AssetOut(),
    })  # fmt: skip
    def pair() -> tuple[int, int]:
        return 1, 2

    store = dg.InMemoryIOManager()
    assert dg.materialize([pair], resources={"io_manager": store}).success
    assert other.values == {"a": 1}
    assert list(store.values) == [("b",)]
