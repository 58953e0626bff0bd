"""The op examples of Dagster's I/O-manager concepts page, written again: a custom manager that
names tables after the op output (``context.name``, ``context.step_key``,
``context.upstream_output.name``), per-output and per-input metadata, output config, an input
loaded by another manager than the upstream's (``In(input_manager_key=)``), and testing a manager
with ``build_output_context`` / ``build_input_context``."""

from __future__ import annotations

from typing import Any

import wharf as dg


class TableManager(dg.IOManager):
    """Stores each op output in a "table" named after the output, as the page's
    DataframeTableIOManager does; remembers what it saw."""

    def __init__(self) -> None:
        self.tables: dict[str, Any] = {}
        self.seen: list[tuple[str, Any]] = []

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        table = context.name
        schema = context.definition_metadata.get("schema", "public")
        self.seen.append(("out", (context.step_key, schema, table, context.op_def.name)))
        self.tables[f"{schema}.{table}"] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        up = context.upstream_output
        assert up is not None
        schema = up.definition_metadata.get("schema", "public")
        self.seen.append(("in", (context.name, up.name, context.definition_metadata)))
        return self.tables[f"{schema}.{up.name}"]


def test_a_table_manager_names_tables_after_outputs_and_reads_input_metadata() -> None:
    @dg.op(out={"first_table": dg.Out(metadata={"schema": "raw"}),
                "second_table": dg.Out(metadata={"schema": "marts"})})  # fmt: skip
    def make_tables():
        return [1, 2], [3]

    @dg.op(ins={"first_table": dg.In(metadata={"columns": ["a", "b"]})})
    def join(first_table, second_table):
        return first_table + second_table

    manager = TableManager()

    @dg.job(resource_defs={"io_manager": manager})
    def tables_job():
        first, second = make_tables()
        join(first, second)

    result = tables_job.execute_in_process()
    assert result.output_for_node("join") == [1, 2, 3]
    assert set(manager.tables) == {"raw.first_table", "marts.second_table", "public.result"}
    assert ("out", ("make_tables", "raw", "first_table", "make_tables")) in manager.seen
    assert ("in", ("first_table", "first_table", {"columns": ["a", "b"]})) in manager.seen


def test_an_input_manager_loads_an_input_instead_of_the_upstream_manager() -> None:
    class FromTable(dg.IOManager):
        def __init__(self) -> None:
            self.calls: list[tuple[str, str | None]] = []

        def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
            raise AssertionError

        def load_input(self, context: dg.InputContext) -> Any:
            up = context.upstream_output
            self.calls.append((context.name, up.step_key if up is not None else None))
            return [10, 20]

    @dg.op
    def produce() -> list[int]:
        return [1]

    @dg.op(ins={"rows": dg.In(input_manager_key="table_loader")})
    def connected(rows: list[int]) -> int:
        return sum(rows)

    @dg.op(ins={"rows": dg.In(input_manager_key="table_loader")})
    def root(rows: list[int]) -> int:
        return len(rows)

    loader = FromTable()

    @dg.job(resource_defs={"table_loader": loader})
    def loading():
        connected(produce())
        root()

    result = loading.execute_in_process()
    assert result.output_for_node("connected") == 30
    assert result.output_for_node("root") == 2
    assert set(loader.calls) == {("rows", None), ("rows", "produce")}
    (loaded,) = [e for e in result.events_for_node("connected") if e.is_loaded_input]
    assert loaded.event_specific_data.manager_key == "table_loader"


class ConfiguredTables(dg.IOManager):
    """Stores each op output under the table its output config names (``context.config``)."""

    def __init__(self) -> None:
        self.written: dict[str, Any] = {}

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.written[context.config["table"]] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        assert context.upstream_output is not None
        return self.written[context.upstream_output.config["table"]]


def test_output_config_selects_the_table_per_run() -> None:
    @dg.op
    def op_1() -> int:
        return 1

    @dg.op
    def op_2(a: int) -> int:
        return a + 1

    manager = ConfiguredTables()

    @dg.job(resource_defs={"io_manager": manager})
    def my_job():
        op_2(op_1())

    my_job.execute_in_process(
        run_config={"ops": {
            "op_1": {"outputs": {"result": {"table": "table1"}}},
            "op_2": {"outputs": {"result": {"table": "table2"}}},
        }}
    )  # fmt: skip
    assert manager.written == {"table1": 1, "table2": 2}


def test_a_manager_is_tested_with_built_contexts() -> None:
    class MyIOManager(dg.IOManager):
        def __init__(self) -> None:
            self.storage_dict: dict[tuple[str, str], Any] = {}

        def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
            self.storage_dict[(context.step_key, context.name)] = obj

        def load_input(self, context: dg.InputContext) -> Any:
            up = context.upstream_output
            assert up is not None
            return self.storage_dict[(up.step_key, up.name)]

    manager = MyIOManager()
    manager.handle_output(dg.build_output_context(name="abc", step_key="123"), 5)
    assert manager.storage_dict[("123", "abc")] == 5
    upstream = dg.build_output_context(name="abc", step_key="123")
    assert manager.load_input(dg.build_input_context(upstream_output=upstream)) == 5


def test_an_instance_keeps_the_run_history_of_an_op_job() -> None:
    @dg.op
    def one() -> int:
        return 1

    @dg.job
    def tiny():
        one()

    with dg.instance_for_test() as instance:
        result = tiny.execute_in_process(instance=instance)
        history = instance.run_history()
        assert history is not None
        with history:
            rows = history.for_run(result.run_id)
    assert [(r.asset_key, r.status) for r in rows] == [("one", "success")]


def test_the_concepts_page_with_function_style_definitions(tmp_path: Any) -> None:
    """The page's older form: ``@io_manager(output_config_schema=)``, ``@input_manager`` and
    ``fs_io_manager.configured`` bound in ``@job(resource_defs=)``."""

    tables = ConfiguredTables()

    @dg.io_manager(output_config_schema={"table": str})
    def table_io_manager(init_context: Any) -> ConfiguredTables:
        return tables

    class Table1InputManager(dg.InputManager):
        def load_input(self, context: dg.InputContext) -> Any:
            return [1, 2, 3]

    @dg.input_manager
    def table_1_manager() -> Table1InputManager:
        return Table1InputManager()

    @dg.op(out=dg.Out(io_manager_key="tables"))
    def op_1() -> int:
        return 1

    @dg.op(out=dg.Out(io_manager_key="files"))
    def op_2(a: int) -> int:
        return a + 1

    @dg.op(ins={"rows": dg.In(input_manager_key="table_1")})
    def op_3(rows: list[int]) -> int:
        return sum(rows)

    @dg.job(resource_defs={
        "tables": table_io_manager,
        "files": dg.fs_io_manager.configured({"base_dir": str(tmp_path)}),
        "table_1": table_1_manager,
    })  # fmt: skip
    def my_job():
        op_2(op_1())
        op_3()

    result = my_job.execute_in_process(
        run_config={"ops": {"op_1": {"outputs": {"result": {"table": "table1"}}}}}
    )
    assert tables.written == {"table1": 1}
    assert (tmp_path / result.run_id / "op_2" / "result").exists()
    assert result.output_for_node("op_2") == 2
    assert result.output_for_node("op_3") == 6


def test_input_config_reaches_the_input_manager_not_the_op() -> None:
    """With an input manager, ``ops: {op: {inputs: {name: ...}}}`` is that manager's
    ``context.config`` (its input_config_schema), for a root input and for a wired one; the op
    gets what the manager loads."""
    seen: list[Any] = []

    @dg.input_manager(input_config_schema={"table": str})
    def table_loader(context: dg.InputContext) -> int:
        seen.append(context.config)
        return len(context.config["table"])

    @dg.op
    def first() -> int:
        return 1

    @dg.op(ins={"a": dg.In(input_manager_key="loader"), "b": dg.In(input_manager_key="loader")})
    def add(a: int, b: int) -> int:
        return a + b

    @dg.job(resource_defs={"loader": table_loader})
    def job() -> None:
        add(b=first())

    inputs = {"a": {"table": "abc"}, "b": {"table": "wxyz"}}
    result = job.execute_in_process(run_config={"ops": {"add": {"inputs": inputs}}})
    assert result.success
    assert result.output_for_node("add") == 7
    assert sorted(c["table"] for c in seen) == ["abc", "wxyz"]
