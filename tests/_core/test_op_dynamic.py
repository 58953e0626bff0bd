"""Dynamic graphs, from Dagster's documentation: an op with ``DynamicOut`` yields one
``DynamicOutput`` per piece of work (each with a unique ``mapping_key``); ``.map(op)`` runs the
downstream op once per value, as steps ``op[mapping_key]``; ``.collect()`` gathers the results
as a list, in the order the values were yielded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import wharf as dg


@dg.op(config_schema={"names": [str]}, out=dg.DynamicOut(str))
def files_in_directory(context: dg.OpExecutionContext):
    for name in context.op_config["names"]:
        yield dg.DynamicOutput(f"/data/{name}", mapping_key=name.replace(".", "_"))


@dg.op
def process_file(context: dg.OpExecutionContext, path: str) -> int:
    context.log.info("processing %s (%s)", path, context.get_mapping_key())
    return len(path)


@dg.op
def summarize_directory(sizes: list[int]) -> int:
    return sum(sizes)


@dg.job
def process_directory():
    files = files_in_directory()
    sizes = files.map(process_file)
    summarize_directory(sizes.collect())


CONFIG = {"ops": {"files_in_directory": {"config": {"names": ["a.csv", "bb.csv", "c.csv"]}}}}


def test_map_runs_one_copy_per_mapping_key_and_collect_gathers_them() -> None:
    result = process_directory.execute_in_process(run_config=CONFIG)
    assert result.success
    steps = [o.step_key for o in result.outcomes]
    assert steps[0] == "files_in_directory"
    assert steps[-1] == "summarize_directory"
    assert sorted(steps[1:-1]) == ["process_file[a_csv]", "process_file[bb_csv]",
                                   "process_file[c_csv]"]  # fmt: skip
    assert result.output_for_node("process_file") == {"a_csv": 11, "bb_csv": 12, "c_csv": 11}
    assert result.output_for_node("files_in_directory")["bb_csv"] == "/data/bb.csv"
    assert result.output_for_node("summarize_directory") == 34
    assert {e.node_name for e in result.events_for_node("process_file")} == {"process_file"}


def test_chained_maps_pair_copies_by_mapping_key_and_collect_keeps_yield_order() -> None:
    @dg.op(out=dg.DynamicOut())
    def numbers():
        for n in (3, 1, 2):
            yield dg.DynamicOutput(n, mapping_key=f"n{n}")

    @dg.op
    def double(n: int) -> int:
        return n * 2

    @dg.op
    def plus_one(n: int) -> int:
        return n + 1

    @dg.op
    def gather(values: list[int]) -> list[int]:
        return values

    @dg.op
    def raw(values: list[int]) -> list[int]:
        return values

    @dg.job
    def chained():
        nums = numbers()
        gather(nums.map(double).map(plus_one).collect())
        raw(nums.collect())

    result = chained.execute_in_process()
    assert result.output_for_node("gather") == [7, 3, 5]
    assert result.output_for_node("raw") == [3, 1, 2]
    assert result.output_for_node("plus_one") == {"n3": 7, "n1": 3, "n2": 5}


def test_a_dynamic_op_with_no_values_runs_no_copies_and_collects_an_empty_list() -> None:
    @dg.op(out=dg.DynamicOut())
    def nothing_found():
        yield from ()

    @dg.op
    def count(values: list[int]) -> int:
        return len(values)

    @dg.op
    def each(v: int) -> int:
        return v

    @dg.job
    def empty():
        count(nothing_found().map(each).collect())

    result = empty.execute_in_process()
    assert result.output_for_node("count") == 0
    assert [o.step_key for o in result.outcomes] == ["nothing_found", "count"]


def test_mapped_op_outputs_are_stored_per_mapping_key_on_the_filesystem(tmp_path: Path) -> None:
    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    job = process_directory.graph.to_job(name="on_disk", resource_defs={"io_manager": io})
    result = job.execute_in_process(run_config=CONFIG)
    run = tmp_path / result.run_id
    assert (run / "files_in_directory" / "result" / "a_csv").exists()
    assert (run / "process_file[a_csv]" / "result").exists()


def test_a_duplicate_mapping_key_fails_the_step_and_stores_nothing() -> None:
    stored: list[str] = []

    class Recorder(dg.IOManager):
        def handle_output(self, context: dg.OutputContext, obj: object) -> None:
            stored.append(context.step_key or "")

        def load_input(self, context: dg.InputContext) -> object:
            raise AssertionError

    @dg.op(out=dg.DynamicOut(io_manager_key="rec"))
    def dupes():
        yield dg.DynamicOutput(1, mapping_key="same")
        yield dg.DynamicOutput(2, mapping_key="same")

    @dg.op
    def use(v: int) -> int:
        return v

    @dg.job(resource_defs={"rec": Recorder()})
    def dup_job():
        dupes().map(use)

    with pytest.raises(dg.errors.StepOutputError) as info:
        dup_job.execute_in_process()
    text = str(info.value)
    assert "op 'dupes'" in text
    assert "mapping_key 'same'" in text
    assert "output 'result'" in text
    assert "nothing was stored" in text
    assert stored == []


def test_passing_a_dynamic_output_without_map_or_collect_is_an_error() -> None:
    @dg.op(out=dg.DynamicOut())
    def dyn():
        yield dg.DynamicOutput(1, mapping_key="a")

    @dg.op
    def use(v: int) -> int:
        return v

    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"\.map\(fn\)"):

        @dg.job
        def wrong():
            use(dyn())


def test_a_graph_can_be_mapped_and_its_ops_get_per_key_step_keys() -> None:
    @dg.op(out=dg.DynamicOut())
    def letters():
        for k in "ab":
            yield dg.DynamicOutput(k, mapping_key=k)

    @dg.op
    def upper(s: str) -> str:
        return s.upper()

    @dg.op
    def twice(s: str) -> str:
        return s * 2

    @dg.graph
    def shout(s):
        return twice(upper(s))

    @dg.op
    def join(parts: list[str]) -> str:
        return "-".join(parts)

    @dg.job
    def shouting():
        return join(letters().map(shout).collect())

    result = shouting.execute_in_process()
    assert result.output_value() == "AA-BB"
    assert result.output_for_node("shout.twice") == {"a": "AA", "b": "BB"}
    steps = {o.step_key for o in result.outcomes}
    assert {"shout.upper[a]", "shout.twice[b]"} <= steps
