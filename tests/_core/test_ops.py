"""Ops and jobs, from Dagster's documentation on ops, jobs, graphs and the I/O-manager concepts
page (its op examples): ``@op`` with ``ins`` / ``out``, ``In`` / ``Out``, ``Nothing``, ``@job``,
``graph.to_job``, ``execute_in_process`` and its result, ``OpExecutionContext``, per-output I/O
managers, the context fields a manager sees for an op output, and the paths the filesystem
manager uses for op outputs (``<base_dir>/<run_id>/<op>/<output>``).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

import wharf as dg


class RecordingIOManager(dg.IOManager):
    """Keeps values by (step key, output name) and records every context it was given."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Any] = {}
        self.outputs: list[dg.OutputContext] = []
        self.inputs: list[dg.InputContext] = []

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.outputs.append(context)
        self.values[(context.step_key, context.name)] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        self.inputs.append(context)
        up = context.upstream_output
        assert up is not None
        return self.values[(up.step_key, up.name)]


@dg.op
def return_one() -> int:
    return 1


@dg.op
def add_one(number: int) -> int:
    return number + 1


def test_a_job_runs_its_ops_in_order_and_the_result_has_each_output() -> None:
    @dg.job
    def one_plus_one():
        add_one(return_one())

    result = one_plus_one.execute_in_process()
    assert result.success
    assert result.output_for_node("return_one") == 1
    assert result.output_for_node("add_one") == 2
    kinds = [e.event_type_value for e in result.all_events]
    assert kinds[0] == "PIPELINE_START"
    assert kinds[-1] == "PIPELINE_SUCCESS"
    assert [e.step_key for e in result.get_step_success_events()] == ["return_one", "add_one"]


def test_an_op_used_twice_gets_a_numbered_node_name_and_alias_names_it() -> None:
    @dg.job
    def twice():
        a = add_one(return_one())
        add_one.alias("third")(add_one(a))

    result = twice.execute_in_process()
    assert result.output_for_node("add_one") == 2
    assert result.output_for_node("add_one_2") == 3
    assert result.output_for_node("third") == 4


def test_out_dict_gives_named_outputs_and_in_metadata_reaches_the_manager() -> None:
    io = RecordingIOManager()

    @dg.op(out={"low": dg.Out(int, metadata={"table": "lows"}), "high": dg.Out(int)})
    def split(context: dg.OpExecutionContext):
        return 1, 9

    @dg.op(ins={"low": dg.In(metadata={"columns": ["a"]})})
    def use(low, high: int) -> int:
        return low + high

    @dg.job(resource_defs={"io_manager": io})
    def named():
        low, high = split()
        use(low, high)

    result = named.execute_in_process()
    assert result.output_for_node("split", "high") == 9
    assert result.output_for_node("use") == 10
    low_out = next(c for c in io.outputs if c.name == "low")
    assert low_out.definition_metadata == {"table": "lows"}
    assert low_out.step_key == "split"
    assert not low_out.has_asset_key
    low_in = next(c for c in io.inputs if c.name == "low")
    assert low_in.definition_metadata == {"columns": ["a"]}
    assert low_in.upstream_output is not None
    assert low_in.upstream_output.name == "low"
    assert low_in.upstream_output.definition_metadata == {"table": "lows"}
    assert low_in.op_def is not None
    assert low_in.op_def.name == "use"


def test_each_output_is_stored_by_the_manager_its_out_names() -> None:
    """The concepts page: op_1's output goes to one manager and op_2's to another; the
    downstream input is loaded by the manager that stored it."""
    fs, other = RecordingIOManager(), RecordingIOManager()

    @dg.op(out=dg.Out(io_manager_key="fs"))
    def op_1() -> int:
        return 1

    @dg.op(out=dg.Out(io_manager_key="other"))
    def op_2(a: int) -> int:
        return a + 1

    @dg.job(resource_defs={"fs": fs, "other": other})
    def my_job():
        op_2(op_1())

    result = my_job.execute_in_process()
    assert result.success
    assert fs.values == {("op_1", "result"): 1}
    assert other.values == {("op_2", "result"): 2}
    assert [c.upstream_output.step_key for c in fs.inputs if c.upstream_output] == ["op_1"]
    handled = [e for e in result.all_node_events if e.is_handled_output]
    assert [e.event_specific_data.manager_key for e in handled] == ["fs", "other"]


def test_the_filesystem_manager_stores_op_outputs_under_run_id_op_output(tmp_path: Path) -> None:
    @dg.op(out={"a": dg.Out(), "b": dg.Out()})
    def two():
        return [1], {"x": 2}

    @dg.job(resource_defs={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))})
    def files():
        two()

    result = files.execute_in_process()
    run = tmp_path / result.run_id / "two"
    assert pickle.loads((run / "a").read_bytes()) == [1]
    assert pickle.loads((run / "b").read_bytes()) == {"x": 2}
    assert result.output_for_node("two", "b") == {"x": 2}


def test_the_op_context_has_config_resources_run_id_op_def_and_log() -> None:
    seen: dict[str, Any] = {}

    @dg.op(config_schema={"n": int}, required_resource_keys={"greeting"}, tags={"team": "a"})
    def configured(context: dg.OpExecutionContext) -> str:
        context.log.info("hello from the op")
        seen.update(config=context.op_config, run_id=context.run_id, name=context.op_def.name,
                    job=context.job_name, tags=context.op_def.tags)  # fmt: skip
        return context.resources.greeting * context.op_config["n"]

    @dg.job(resource_defs={"greeting": "hi"})
    def greet():
        configured()

    result = greet.execute_in_process(run_config={"ops": {"configured": {"config": {"n": 2}}}})
    assert result.output_for_node("configured") == "hihi"
    assert seen == {"config": {"n": 2}, "run_id": result.run_id, "name": "configured",
                    "job": "greet", "tags": {"team": "a"}}  # fmt: skip


def test_a_config_class_parameter_and_job_config_defaults() -> None:
    class Rows(dg.Config):
        limit: int = 1

    @dg.op
    def take(config: Rows) -> list[int]:
        return list(range(config.limit))

    @dg.job(config={"ops": {"take": {"config": {"limit": 3}}}})
    def rows():
        take()

    assert rows.execute_in_process().output_for_node("take") == [0, 1, 2]
    again = rows.execute_in_process(run_config=dg.RunConfig(ops={"take": Rows(limit=2)}))
    assert again.output_for_node("take") == [0, 1]


def test_output_config_from_the_run_config_reaches_the_manager_as_context_config() -> None:
    io = RecordingIOManager()

    @dg.job(resource_defs={"io_manager": io})
    def one():
        return_one()

    one.execute_in_process(
        run_config={"ops": {"return_one": {"outputs": {"result": {"table": "t1"}}}}}
    )
    assert io.outputs[0].config == {"table": "t1"}


def test_generator_bodies_yield_outputs_and_materializations() -> None:
    @dg.op(out={"a": dg.Out(int), "b": dg.Out(int, is_required=False)})
    def gen():
        yield dg.AssetMaterialization("report", metadata={"rows": 3})
        yield dg.Output(5, output_name="a", metadata={"why": "test"})

    @dg.job
    def gens():
        gen()

    result = gens.execute_in_process()
    assert result.output_for_node("gen", "a") == 5
    (mat,) = result.asset_materializations_for_node("gen")
    assert mat.asset_key == dg.AssetKey("report")
    assert mat.metadata["rows"].value == 3
    with pytest.raises(dg.errors.AssetExecutionError, match="optional output 'b'"):
        result.output_for_node("gen", "b")


def test_nothing_inputs_order_ops_without_a_value() -> None:
    order: list[str] = []
    io = RecordingIOManager()

    @dg.op
    def create_table() -> None:
        order.append("create")

    @dg.op(ins={"start": dg.In(dg.Nothing)})
    def fill_table() -> None:
        order.append("fill")

    @dg.job(resource_defs={"io_manager": io})
    def tables():
        fill_table(start=create_table())

    assert tables.execute_in_process().success
    assert order == ["create", "fill"]
    assert io.outputs == []  # a Nothing output is never handed to a manager


def test_defaults_fan_in_and_input_values() -> None:
    @dg.op(ins={"n": dg.In(int, default_value=10)})
    def default(n):
        return n

    @dg.op
    def total(numbers: list[int]) -> int:
        return sum(numbers)

    @dg.op
    def echo(x):
        return x

    @dg.job
    def fans():
        total([return_one(), add_one(return_one()), default()])
        echo()

    result = fans.execute_in_process(run_config={"ops": {"echo": {"inputs": {"x": 7}}}})
    assert result.output_for_node("total") == 13
    assert result.output_for_node("echo") == 7


def test_graphs_nest_and_to_job_binds_resources_and_tags() -> None:
    @dg.graph
    def plus_two(n):
        return add_one(add_one(n))

    @dg.graph
    def four():
        return plus_two(plus_two(return_one()))

    io = RecordingIOManager()
    job = four.to_job(name="four_job", resource_defs={"io_manager": io}, tags={"k": "v"})
    result = job.execute_in_process()
    assert result.success
    assert job.tags == {"k": "v"}
    assert result.output_for_node("plus_two.add_one_2") == 3
    assert result.output_for_node("plus_two_2") == 5
    assert result.output_for_node("four") == 5
    keys = sorted(k for k, _ in io.values)
    assert keys == ["plus_two.add_one", "plus_two.add_one_2", "plus_two_2.add_one",
                    "plus_two_2.add_one_2", "return_one"]  # fmt: skip
    assert four.execute_in_process().output_for_node("four") == 5


def test_op_selection_runs_the_selected_ops_and_their_upstream() -> None:
    @dg.op
    def other() -> int:
        return 0

    @dg.job
    def wide():
        add_one(return_one())
        other()

    result = wide.execute_in_process(op_selection=["*add_one"])
    assert sorted(o.step_key for o in result.outcomes) == ["add_one", "return_one"]


def test_a_failure_skips_downstream_ops_and_raise_on_error_false_returns_it() -> None:
    @dg.op
    def boom() -> int:
        msg = "no data"
        raise ValueError(msg)

    @dg.job
    def failing():
        add_one(boom())
        return_one()

    with pytest.raises(ValueError, match="no data"):
        failing.execute_in_process()
    result = failing.execute_in_process(raise_on_error=False)
    assert not result.success
    assert result.get_failed_step_keys() == {"boom"}
    status = {o.step_key: o.status for o in result.outcomes}
    assert status == {"boom": "failed", "add_one": "skipped", "return_one": "success"}


def test_retry_policy_on_an_op_retries_it() -> None:
    calls: list[int] = []

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky() -> int:
        calls.append(1)
        if len(calls) < 3:
            msg = "try again"
            raise RuntimeError(msg)
        return len(calls)

    @dg.job
    def retrying():
        flaky()

    assert retrying.execute_in_process().output_for_node("flaky") == 3


def test_calling_an_op_outside_a_graph_runs_its_function() -> None:
    @dg.op
    def with_context(context: dg.OpExecutionContext, n: int) -> int:
        return n * context.op_config["k"]

    assert add_one(2) == 3
    assert with_context(dg.build_op_context(op_config={"k": 3}), 2) == 6


def test_definitions_take_op_jobs_and_give_them_their_resources() -> None:
    io = RecordingIOManager()

    @dg.job
    def in_defs():
        add_one(return_one())

    defs = dg.Definitions(jobs=[in_defs], resources={"io_manager": io})
    result = defs.get_job_def("in_defs").execute_in_process()
    assert result.output_for_node("add_one") == 2
    assert io.values[("add_one", "result")] == 2
    assert [j.name for j in defs.jobs] == ["in_defs"]


def test_partition_key_reaches_the_op_context() -> None:
    seen: list[str] = []

    @dg.op
    def part(context: dg.OpExecutionContext) -> None:
        seen.append(context.partition_key)

    @dg.job(partitions_def=dg.StaticPartitionsDefinition(["eu", "us"]))
    def by_region():
        part()

    by_region.execute_in_process(partition_key="us")
    assert seen == ["us"]
    with pytest.raises(dg.errors.UnknownPartitionError):
        by_region.execute_in_process(partition_key="asia")


def test_resource_parameters_and_resource_run_config_reach_ops() -> None:
    class Greeter(dg.ConfigurableResource):
        word: str = "hi"

        def greet(self, name: str) -> str:
            return f"{self.word} {name}"

    @dg.op
    def hello(greeter: Greeter) -> str:
        return greeter.greet("ops")

    @dg.job(resource_defs={"greeter": Greeter()})
    def greeting():
        hello()

    assert greeting.execute_in_process().output_for_node("hello") == "hi ops"
    configured = greeting.execute_in_process(
        run_config={"resources": {"greeter": {"config": {"word": "hello"}}}}
    )
    assert configured.output_for_node("hello") == "hello ops"
    swapped = greeting.execute_in_process(resources={"greeter": Greeter(word="hey")})
    assert swapped.output_for_node("hello") == "hey ops"


def test_conditional_branching_skips_the_ops_of_the_output_not_produced() -> None:
    """Dagster's ops page: an op with two optional outputs yields one of them; the ops fed by
    the other are skipped, and the run still succeeds."""
    ran: list[str] = []

    @dg.op(out={"branch_1": dg.Out(is_required=False), "branch_2": dg.Out(is_required=False)})
    def branching_op():
        yield dg.Output(1, "branch_1")

    @dg.op
    def branch_1_op(value: int) -> None:
        ran.append(f"one:{value}")

    @dg.op
    def branch_2_op(value: int) -> None:
        ran.append(f"two:{value}")

    @dg.job
    def branching():
        branch_1, branch_2 = branching_op()
        branch_1_op(branch_1)
        branch_2_op(branch_2)

    result = branching.execute_in_process()
    assert result.success
    assert ran == ["one:1"]
    status = {o.step_key: o.status for o in result.outcomes}
    assert status["branch_2_op"] == "skipped"
    assert "optional output 'branch_2'" in str(result.outcome("branch_2_op").reason)
