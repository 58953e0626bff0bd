"""``@multi_asset``: one function, several assets, each stored by its own I/O manager.

Written from Dagster's "Multi-assets" page and the multi-asset part of the I/O-manager page:
each output of a multi-asset goes to the I/O manager of its ``AssetOut(io_manager_key=)``, a
downstream asset loads each through that manager, a ``can_subset`` multi-asset run for a
selection stores only the selected assets, and an ``AssetSpec``-based one yields
``MaterializeResult`` per asset.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

import wharf as dg
from wharf.errors import AssetTypeError, StepOutputError


class Recording(dg.IOManager):
    """Keeps values in a dict and records each call with the context fields tests assert on."""

    def __init__(self) -> None:
        self.values: dict[dg.AssetKey, Any] = {}
        self.calls: list[tuple[str, str, str | None]] = []
        self.metadata: dict[str, Any] = {}

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        key = context.asset_key
        self.calls.append(("handle_output", key.to_user_string(), context.name))
        self.metadata[key.to_user_string()] = dict(context.definition_metadata)
        self.values[key] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        self.calls.append(("load_input", context.asset_key.to_user_string(), context.name))
        return self.values[context.asset_key]


def test_each_output_goes_to_its_own_io_manager_and_loads_back_through_it(tmp_path: Path) -> None:
    """The docs' ``my_assets`` multi-asset: one output per I/O manager; two filesystem
    managers with different base folders show which one stored which asset."""

    @dg.multi_asset(
        outs={
            "s3_asset": dg.AssetOut(io_manager_key="first_io_manager"),
            "adls_asset": dg.AssetOut(io_manager_key="second_io_manager", key_prefix="lake"),
        }
    )
    def my_assets() -> tuple[str, str]:
        return "store_me_on_s3", "store_me_on_adls2"

    @dg.asset
    def both(s3_asset: str, adls_asset: str) -> str:
        return f"{s3_asset}+{adls_asset}"

    first, second = tmp_path / "first", tmp_path / "second"
    defs = dg.Definitions(
        assets=[my_assets, both],
        resources={
            "first_io_manager": dg.FilesystemIOManager(base_dir=str(first)),
            "second_io_manager": dg.FilesystemIOManager(base_dir=str(second)),
            "io_manager": dg.InMemoryIOManager(),
        },
    )
    result = defs.materialize()
    assert result.success
    assert pickle.loads((first / "s3_asset").read_bytes()) == "store_me_on_s3"
    assert pickle.loads((second / "lake" / "adls_asset").read_bytes()) == "store_me_on_adls2"
    assert not (first / "lake").exists()
    assert not (second / "s3_asset").exists()
    assert result.output_for_node("both") == "store_me_on_s3+store_me_on_adls2"
    assert result.output_for_node("my_assets", "adls_asset") == "store_me_on_adls2"
    assert {k.to_user_string() for k in my_assets.keys} == {"s3_asset", "lake/adls_asset"}
    # one step ran for both assets, and its materializations name each asset
    mats = result.asset_materializations_for_node("my_assets")
    assert sorted(m.asset_key.to_user_string() for m in mats) == ["lake/adls_asset", "s3_asset"]


def test_output_context_fields_of_each_output() -> None:
    """Each ``handle_output`` gets its asset's key, its output name, its ``AssetOut``
    metadata; a downstream input's ``upstream_output`` names the multi-asset's output."""
    io, other = Recording(), Recording()
    seen: list[tuple[str, str, str, str]] = []

    class Loader(Recording):
        def load_input(self, context: dg.InputContext) -> Any:
            up = context.upstream_output
            assert up is not None
            seen.append((context.name, up.name, up.step_key, up.asset_key.to_user_string()))
            return other.values[context.asset_key]

    @dg.multi_asset(
        outs={
            "orders": dg.AssetOut(metadata={"table": "orders_t"}),
            "users": dg.AssetOut(metadata={"table": "users_t"}, io_manager_key="other"),
        }
    )
    def split():
        yield dg.Output([1, 2], output_name="orders")
        yield dg.Output(["ann"], output_name="users")

    @dg.asset(ins={"people": dg.AssetIn("users")}, io_manager_key="counts")
    def count(people: list[str]) -> int:
        return len(people)

    resources = {"io_manager": io, "other": other, "counts": Loader()}
    result = dg.materialize([split, count], resources=resources, record_history=False)
    assert result.success
    assert io.calls == [("handle_output", "orders", "orders")]
    assert io.metadata["orders"] == {"table": "orders_t"}
    assert other.metadata["users"] == {"table": "users_t"}
    # 'people' loads from the manager that stored 'users' ('other'), not from 'counts'
    assert other.calls[-1] == ("load_input", "users", "people")
    assert seen == []


def test_specs_yield_a_materialize_result_per_asset_with_deps() -> None:
    """The docs' ``AssetSpec`` form: no values are stored; each asset has its own deps."""

    @dg.asset
    def asset_a() -> int:
        return 1

    @dg.multi_asset(
        specs=[dg.AssetSpec("asset_c", deps=[asset_a]), dg.AssetSpec("asset_d", deps=["asset_c"])]
    )
    def my_complex_assets():
        yield dg.MaterializeResult(asset_key="asset_c", metadata={"rows": 3})
        yield dg.MaterializeResult(asset_key="asset_d")

    io = Recording()
    result = dg.materialize([asset_a, my_complex_assets], resources={"io_manager": io},
                            record_history=False)  # fmt: skip
    assert result.success
    assert [c[1] for c in io.calls] == ["asset_a"]  # the specs' assets store no value
    mats = {m.asset_key.to_user_string(): m for m in result.get_asset_materialization_events()}
    assert mats["asset_c"].materialization.metadata["rows"].value == 3
    graph = dg.Definitions(assets=[asset_a, my_complex_assets]).asset_graph
    assert graph.upstream(dg.AssetKey("asset_d")) == (dg.AssetKey("asset_c"),)
    assert graph.upstream(dg.AssetKey("asset_c")) == (dg.AssetKey("asset_a"),)


def test_a_subset_run_stores_only_the_selected_outputs() -> None:
    """``can_subset=True``: the body sees the selection and yields only those outputs."""
    io = Recording()
    seen: list[set[str]] = []

    @dg.multi_asset(
        outs={"a": dg.AssetOut(is_required=False), "b": dg.AssetOut(is_required=False)},
        can_subset=True,
    )
    def split_actions(context: dg.AssetExecutionContext):
        seen.append(set(context.op_execution_context.selected_output_names))
        assert context.is_subset
        if "a" in context.op_execution_context.selected_output_names:
            yield dg.Output(value=123, output_name="a")
        if "b" in context.op_execution_context.selected_output_names:
            yield dg.Output(value=456, output_name="b")

    result = dg.materialize([split_actions], resources={"io_manager": io}, selection=["b"],
                            record_history=False)  # fmt: skip
    assert result.success
    assert seen == [{"b"}]
    assert io.values == {dg.AssetKey("b"): 456}
    assert [m.asset_key for m in result.asset_materializations_for_node("split_actions")] == [
        dg.AssetKey("b")
    ]


def test_a_subset_run_of_a_body_that_returns_every_output_stores_the_selected_ones() -> None:
    io = Recording()

    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()}, can_subset=True)
    def both() -> tuple[int, int]:
        return 1, 2

    result = dg.materialize([both], resources={"io_manager": io}, selection=["a"],
                            record_history=False)  # fmt: skip
    assert result.success
    assert io.values == {dg.AssetKey("a"): 1}


def test_selecting_part_of_a_multi_asset_that_cannot_subset_is_an_error() -> None:
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def together() -> tuple[int, int]:
        return 1, 2

    with pytest.raises(dg.DagsterInvalidSubsetError, match=r"'together'.*\[a, b\].*only \[a\]"):
        dg.materialize_to_memory([together], selection=["a"])
    # selecting the multi-asset itself selects all of its assets
    assert dg.materialize_to_memory([together], selection=[together]).success


def test_a_missing_required_output_stores_nothing_and_names_asset_output_and_manager() -> None:
    io, other = Recording(), Recording()

    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut(io_manager_key="other")})
    def half():
        yield dg.Output(1, output_name="a")

    result = dg.materialize([half], resources={"io_manager": io, "other": other},
                            raise_on_error=False, record_history=False)  # fmt: skip
    assert not result.success
    err = result.outcomes[0].error
    assert isinstance(err, StepOutputError)
    assert isinstance(err, dg.DagsterStepOutputNotFoundError)
    text = str(err)
    for part in ("multi-asset 'half'", "output 'b'", "asset 'b'", "I/O manager 'other'",
                 "got outputs ['a']", "nothing was stored"):  # fmt: skip
        assert part in text
    assert io.calls == []  # not even 'a' was stored
    assert other.calls == []


def test_an_unknown_output_name_is_an_error_that_lists_outputs_and_managers() -> None:
    io = Recording()

    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut(io_manager_key="other")})
    def typo():
        yield dg.Output(1, output_name="a")
        yield dg.Output(2, output_name="bb")

    with pytest.raises(StepOutputError) as info:
        dg.materialize([typo], resources={"io_manager": io, "other": io}, record_history=False)
    text = str(info.value)
    assert "multi-asset 'typo' yielded a value for output 'bb'" in text
    assert "'a' (I/O manager 'io_manager'), 'b' (I/O manager 'other')" in text
    assert io.calls == []


def test_each_output_is_checked_against_its_dagster_type_or_tuple_annotation() -> None:
    io = Recording()

    @dg.multi_asset(outs={"n": dg.AssetOut(), "s": dg.AssetOut(dagster_type=str)})
    def typed() -> tuple[int, Any]:
        return 1, 2

    with pytest.raises(AssetTypeError, match=r"returned int for output 's', which expects str"):
        dg.materialize([typed], resources={"io_manager": io}, record_history=False)
    assert io.calls == []

    @dg.multi_asset(outs={"n": dg.AssetOut(), "s": dg.AssetOut()})
    def from_annotation() -> tuple[int, str]:
        return 1, 2  # type: ignore[return-value]

    with pytest.raises(AssetTypeError, match=r"output 's', which expects str"):
        dg.materialize([from_annotation], resources={"io_manager": io}, record_history=False)


def test_group_code_version_and_key_of_each_asset_out() -> None:
    @dg.multi_asset(
        outs={
            "a": dg.AssetOut(group_name="marts", code_version="7"),
            "b": dg.AssetOut(key=["warehouse", "bee"]),
        },
        group_name="core",
    )
    def grouped() -> tuple[int, int]:
        return 1, 2

    graph = dg.Definitions(assets=[grouped]).asset_graph
    a, b = graph.by_key[dg.AssetKey("a")], graph.by_key[dg.AssetKey(["warehouse", "bee"])]
    assert (a.group_name, a.code_version) == ("marts", "7")
    assert b.group_name == "core"
    assert dg.AssetSelection.groups("marts").resolve([grouped]) == {dg.AssetKey("a")}


def test_inputs_of_a_multi_asset_load_through_the_upstream_manager() -> None:
    io = Recording()

    @dg.asset
    def source() -> list[int]:
        return [1, 2, 3]

    @dg.multi_asset(outs={"low": dg.AssetOut(), "high": dg.AssetOut()})
    def split(source: list[int]) -> tuple[list[int], list[int]]:
        return [v for v in source if v < 2], [v for v in source if v >= 2]

    result = dg.materialize([source, split], resources={"io_manager": io}, record_history=False)
    assert result.success
    assert io.values[dg.AssetKey("high")] == [2, 3]
    assert ("load_input", "source", "source") in io.calls


def test_multiprocess_executor_and_run_history(tmp_path: Path) -> None:
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def pair() -> tuple[int, int]:
        return 10, 20

    @dg.asset
    def total(a: int, b: int) -> int:
        return a + b

    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        result = dg.materialize(
            [pair, total],
            resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "files"))},
            executor=dg.multiprocess_executor(max_concurrent=2),
            instance=instance,
        )
        assert result.success
        assert result.output_for_node("total") == 30
        history = instance.run_history()
        assert history is not None
        try:
            rows = {r.asset_key: r.status for r in history.for_run(result.run_id)}
        finally:
            history.close()
    assert rows == {"a": "success", "b": "success", "total": "success"}


@dg.resource(config_schema={"factor": int})
def factor(init_context: Any) -> int:
    return int(init_context.resource_config["factor"])


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("executor", ["multiprocess", "dask"])
def test_function_style_resources_and_a_multi_asset_in_worker_processes(
    tmp_path: Path, executor: str
) -> None:
    """Workers get ``@resource`` / ``fs_io_manager`` definitions (sent with the run) and run
    the multi-asset's one step; each output lands under its own manager's folder."""

    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut(io_manager_key="other")})
    def pair() -> tuple[int, int]:
        return 1, 2

    @dg.asset(required_resource_keys={"factor"})
    def scaled(context: dg.AssetExecutionContext, a: int, b: int) -> int:
        return (a + b) * context.resources.factor

    resources = {
        "io_manager": dg.fs_io_manager.configured({"base_dir": str(tmp_path / "main")}),
        "other": dg.FilesystemIOManager(base_dir=str(tmp_path / "other")),
        "factor": factor.configured({"factor": 10}),
    }
    if executor == "multiprocess":
        result = dg.materialize([pair, scaled], resources=resources,
                                executor=dg.multiprocess_executor(max_concurrent=2))  # fmt: skip
    else:
        import distributed

        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=":0") as cluster:  # fmt: skip
            result = dg.materialize([pair, scaled], resources=resources,
                                    executor=dg.dask_executor(cluster.scheduler_address))  # fmt: skip
    assert result.success
    assert result.output_for_node("scaled") == 30
    assert pickle.loads((tmp_path / "main" / "a").read_bytes()) == 1
    assert pickle.loads((tmp_path / "other" / "b").read_bytes()) == 2


def test_load_assets_from_modules_prefixes_every_asset_of_a_multi_asset() -> None:
    import types

    module = types.ModuleType("multi_mod")

    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def pair() -> tuple[int, int]:
        return 1, 2

    module.pair = pair  # type: ignore[attr-defined]
    (loaded,) = dg.load_assets_from_modules([module], key_prefix="lake", group_name="raw")
    assert loaded.keys == {dg.AssetKey(["lake", "a"]), dg.AssetKey(["lake", "b"])}
    graph = dg.Definitions(assets=[loaded]).asset_graph
    assert graph.by_key[dg.AssetKey(["lake", "b"])].group_name == "raw"
    io = dg.InMemoryIOManager()
    assert dg.materialize([loaded], resources={"io_manager": io}).success
    assert sorted(io.values) == [("lake", "a"), ("lake", "b")]


def test_internal_asset_deps_give_each_asset_its_own_upstream() -> None:
    @dg.asset
    def orders() -> list[int]:
        return [1, 2]

    @dg.asset
    def users() -> list[str]:
        return ["ann"]

    @dg.multi_asset(
        outs={"order_total": dg.AssetOut(), "user_count": dg.AssetOut()},
        internal_asset_deps={"order_total": {dg.AssetKey("orders")}, "user_count": {"users"}},
    )
    def stats(orders: list[int], users: list[str]) -> tuple[int, int]:
        return sum(orders), len(users)

    graph = dg.Definitions(assets=[orders, users, stats]).asset_graph
    assert graph.upstream(dg.AssetKey("order_total")) == (dg.AssetKey("orders"),)
    assert graph.upstream(dg.AssetKey("user_count")) == (dg.AssetKey("users"),)
    assert dg.AssetSelection.keys("user_count").upstream().resolve(graph) == {
        dg.AssetKey("user_count"), dg.AssetKey("users")
    }  # fmt: skip
    result = dg.materialize_to_memory([orders, users, stats])
    assert result.output_for_node("stats", "order_total") == 3

    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"names \[elsewhere\]"):

        @dg.multi_asset(outs={"a": dg.AssetOut()}, internal_asset_deps={"a": {"elsewhere"}})
        def bad() -> int:
            return 1
