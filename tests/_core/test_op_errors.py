"""Bad op jobs get clear errors before (or instead of) storing anything: each message names
the op, the output or input, the manager, what was expected and what came."""

from __future__ import annotations

from typing import Any

import pytest

import wharf as dg


class Recorder(dg.IOManager):
    def __init__(self) -> None:
        self.stored: list[tuple[str, str]] = []

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.stored.append((context.step_key or "", context.name))

    def load_input(self, context: dg.InputContext) -> Any:
        return 1


@dg.op
def start() -> int:
    return 1


def test_an_output_whose_manager_is_missing_fails_before_any_op_runs() -> None:
    ran: list[str] = []

    @dg.op(out={"clean": dg.Out(io_manager_key="warehouse")})
    def load() -> int:
        ran.append("load")
        return 1

    @dg.job(resource_defs={"io_manager": Recorder()})
    def no_manager():
        load()
        start()

    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        no_manager.execute_in_process()
    text = str(info.value)
    assert "op 'load'" in text
    assert "output 'clean'" in text
    assert "io_manager_key 'warehouse'" in text
    assert "expected one of [io_manager]" in text
    assert isinstance(info.value, KeyError)
    assert ran == []


def test_an_input_naming_an_unknown_input_manager_fails_before_any_op_runs() -> None:
    @dg.op(ins={"n": dg.In(input_manager_key="loader")})
    def use(n: int) -> int:
        return n

    @dg.job(resource_defs={"io_manager": Recorder()})
    def no_loader():
        use(start())

    with pytest.raises(dg.errors.MissingResourceError) as info:
        no_loader.execute_in_process()
    text = str(info.value)
    assert "op 'use'" in text
    assert "input 'n'" in text
    assert "input_manager_key 'loader'" in text
    assert info.value.io_manager == "loader"


def test_an_output_that_fails_its_dagster_type_is_not_stored() -> None:
    io = Recorder()

    @dg.op(out={"count": dg.Out(int), "name": dg.Out(str)})
    def wrong():
        return 3, 4

    @dg.job(resource_defs={"io_manager": io})
    def typed():
        wrong()

    with pytest.raises(dg.DagsterTypeCheckDidNotPass) as info:
        typed.execute_in_process()
    text = str(info.value)
    assert "op 'wrong' returned int for output 'name', which expects str" in text
    assert "I/O manager 'io_manager' was not called" in text
    assert info.value.expected == "str"
    assert info.value.got == "int"
    assert io.stored == []  # nothing of the failed step, not even the good output


def test_a_cycle_through_graphs_names_the_loop() -> None:
    @dg.op
    def add(n: int) -> int:
        return n + 1

    inner = dg.GraphDefinition(name="inner", node_defs=[add])

    @dg.op
    def twice(n: int) -> int:
        return n * 2

    with pytest.raises(dg.errors.CycleError) as info:
        dg.GraphDefinition(
            name="looped",
            node_defs=[twice, inner],
            dependencies={
                "twice": {"n": dg.DependencyDefinition("inner")},
                "inner": {"n": dg.DependencyDefinition("twice")},
            },
        )
    assert "graph 'looped'" in str(info.value)
    assert "inner -> twice -> inner" in str(info.value)


def test_two_different_ops_with_one_name_in_a_job_is_an_error() -> None:
    @dg.op(name="clean")
    def clean_a() -> int:
        return 1

    @dg.op(name="clean")
    def clean_b() -> int:
        return 2

    with pytest.raises(
        dg.DagsterInvalidDefinitionError, match="two different definitions named 'clean'"
    ):

        @dg.job
        def clash():
            clean_a()
            clean_b()

    @dg.graph
    def nested():
        return clean_b()

    @dg.job
    def across():
        clean_a()
        nested()

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="named 'clean'"):
        across.execute_in_process()


def test_an_unwired_input_without_a_value_is_an_error_naming_where_to_give_one() -> None:
    @dg.op
    def needs(x: int) -> int:
        return x

    @dg.job
    def unwired():
        needs()

    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"'ops\.needs\.inputs\.x'"):
        unwired.execute_in_process()


def test_run_config_for_an_unknown_op_names_its_path() -> None:
    @dg.job
    def small():
        start()

    with pytest.raises(dg.DagsterInvalidConfigError, match=r"'ops\.nope'"):
        small.execute_in_process(run_config={"ops": {"nope": {"config": {}}}})


def test_an_input_that_fails_its_in_type_stops_the_op_before_it_runs() -> None:
    ran: list[int] = []

    @dg.op
    def text() -> str:
        return "seven"

    @dg.op(ins={"n": dg.In(int)})
    def needs_int(n):
        ran.append(n)
        return n

    @dg.job
    def mistyped():
        needs_int(text())

    with pytest.raises(dg.DagsterTypeCheckDidNotPass) as info:
        mistyped.execute_in_process()
    assert "op 'needs_int' got str for its input 'n'" in str(info.value)
    assert "output 'result' of op 'text'" in str(info.value)
    assert "expects int" in str(info.value)
    assert ran == []


def test_validate_loadable_and_the_cli_loader_check_what_an_op_job_needs() -> None:
    @dg.op(out=dg.Out(io_manager_key="warehouse"))
    def stored() -> int:
        return 1

    @dg.job
    def needs_warehouse():
        stored()

    defs = dg.Definitions(jobs=[needs_warehouse])  # resources may be bound later
    with pytest.raises(dg.errors.MissingResourceError, match="io_manager_key 'warehouse'"):
        dg.Definitions.validate_loadable(defs)
    bound = dg.Definitions(jobs=[needs_warehouse], resources={"warehouse": Recorder()})
    dg.Definitions.validate_loadable(bound)
    assert bound.get_job_def("needs_warehouse").execute_in_process().success
