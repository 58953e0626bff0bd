"""Run config for the ops inside a graph-backed asset: ``ops.ASSET.ops.OP.config``, in the dict
form, in ``RunConfig`` (with ``Config`` instances) and over the asset's own ``config=``; every
bad entry is an error naming its path before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

import wharf as dg
from wharf.errors import ConfigError


class Scale(dg.Config):
    factor: int


ran: list[str] = []


@dg.op
def load() -> int:
    ran.append("load")
    return 2


@dg.op
def scale(config: Scale, x: int) -> int:
    return x * config.factor


@dg.op(config_schema={"offset": dg.Field(dg.Int, default_value=0)})
def shift(context: dg.OpExecutionContext, x: int) -> int:
    return x + context.op_config["offset"]


@dg.graph_asset
def scaled() -> Any:
    return shift(scale(load()))


@dg.graph_multi_asset(outs={"small": dg.AssetOut(), "big": dg.AssetOut()})
def sizes() -> Any:
    base = load()
    return {"small": scale.alias("scale_small")(base), "big": scale.alias("scale_big")(base)}


def run(assets: list[Any], run_config: Any) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets, resources={"io_manager": dg.InMemoryIOManager()}, run_config=run_config
    )


def test_dict_form_reaches_the_ops_inside_a_graph_asset() -> None:
    ops = {"scale": {"config": {"factor": 3}}, "shift": {"config": {"offset": 1}}}
    result = run([scaled], {"ops": {"scaled": {"ops": ops}}})
    assert result.asset_value("scaled") == 7
    # an op with a config_schema default needs no entry
    result = run([scaled], {"ops": {"scaled": {"ops": {"scale": {"config": {"factor": 5}}}}}})
    assert result.asset_value("scaled") == 10


def test_run_config_with_config_instances_and_a_graph_multi_asset() -> None:
    result = run([scaled], dg.RunConfig(ops={"scaled": {"ops": {"scale": Scale(factor=4)}}}))
    assert result.asset_value("scaled") == 8
    by_op = {"scale_small": Scale(factor=1), "scale_big": Scale(factor=10)}
    result = run([sizes], dg.RunConfig(ops={"sizes": {"ops": by_op}}))
    assert (result.asset_value("small"), result.asset_value("big")) == (2, 20)


def test_run_config_overrides_the_graph_assets_own_config() -> None:
    @dg.graph_asset(config={"scale": {"config": {"factor": 2}}})
    def doubled() -> Any:
        return scale(load())

    assert run([doubled], None).asset_value("doubled") == 4
    given = {"ops": {"doubled": {"ops": {"scale": {"config": {"factor": 6}}}}}}
    assert run([doubled], given).asset_value("doubled") == 12


@pytest.mark.parametrize(
    ("entries", "path"),
    [
        ({"scale": {"config": {}}}, "ops.scaled.ops.scale.config.factor"),  # missing
        ({"scale": {"config": {"factor": 1, "speed": 2}}}, "ops.scaled.ops.scale.config.speed"),
        ({"scale": {"config": {"factor": "many"}}}, "ops.scaled.ops.scale.config.factor"),
        ({"nope": {"config": {}}}, "ops.scaled.ops.nope"),  # no such op in the graph
        ({"load": {"config": {"a": 1}}}, "ops.scaled.ops.load.config"),  # takes no config
        ({"scale": {"conf": {}}}, "ops.scaled.ops.scale.conf"),  # not an entry key
        ({"shift": {"config": {"offset": "x"}}}, "ops.scaled.ops.shift.config.offset"),
    ],
)
def test_a_bad_inner_entry_names_its_path_before_anything_runs(
    entries: dict[str, Any], path: str
) -> None:
    ran.clear()
    if "scale" not in entries:
        entries = {**entries, "scale": {"config": {"factor": 1}}}
    with pytest.raises(ConfigError, match=path.replace(".", r"\.")):
        run([scaled], {"ops": {"scaled": {"ops": entries}}})
    assert ran == []


def test_a_missing_inner_config_without_run_config_names_the_graph_assets_path() -> None:
    with pytest.raises(ConfigError, match=r"ops\.scaled\.ops\.scale\.config\.factor"):
        run([scaled], None)


def test_config_for_the_graph_asset_itself_is_an_error_naming_where_it_goes() -> None:
    with pytest.raises(ConfigError, match=r"ops\.scaled\.config.*ops\.scaled'"):
        run([scaled], {"ops": {"scaled": {"config": {"factor": 1}}}})
    with pytest.raises(ConfigError, match=r"ops\.scaled"):
        run([scaled], dg.RunConfig(ops={"scaled": Scale(factor=1)}))


def test_ops_entries_for_a_plain_asset_are_an_error() -> None:
    class Inc(dg.Config):
        by: int = 1

    @dg.asset
    def plain(config: Inc) -> int:
        return config.by

    with pytest.raises(ConfigError, match=r"ops\.plain\.ops.*not a graph asset"):
        run([plain], {"ops": {"plain": {"ops": {"x": {}}}}})
