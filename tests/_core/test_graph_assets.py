"""Graph-backed assets, from Dagster's documentation on graph-backed assets: ``@graph_asset``
(a graph's output is the asset; its parameters load upstream assets), ``@graph_multi_asset``
(one asset per graph output, each stored by its own I/O manager), and
``AssetsDefinition.from_graph`` / ``from_op``. The ops run as steps ``node.op``; only the
outputs behind the graph's outputs become assets."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import wharf as dg


@dg.op
def fetch_files() -> list[str]:
    return ["a.csv", "b.csv"]


@dg.op
def count(files: list[str]) -> int:
    return len(files)


@dg.asset
def upstream_files() -> list[str]:
    return ["x", "y", "z"]


def test_graph_asset_stores_the_graph_output_as_the_asset(tmp_path: Path) -> None:
    @dg.graph_asset
    def file_count():
        return count(fetch_files())

    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    result = dg.materialize([file_count], resources={"io_manager": io})
    assert result.success
    assert result.asset_value("file_count") == 2
    assert pickle.loads((tmp_path / "file_count").read_bytes()) == 2
    assert sorted(o.step_key for o in result.outcomes) == ["file_count.count",
                                                           "file_count.fetch_files"]  # fmt: skip
    # the intermediate op output is an op output of the run, not an asset
    assert (tmp_path / result.run_id / "file_count.fetch_files" / "result").exists()
    (mat,) = result.get_asset_materialization_events()
    assert mat.asset_key == dg.AssetKey("file_count")


def test_graph_asset_parameters_load_upstream_assets() -> None:
    @dg.op
    def upper(names: list[str]) -> list[str]:
        return [n.upper() for n in names]

    @dg.graph_asset(group_name="marts", key_prefix="warehouse")
    def shouted(upstream_files: list[str]):
        return upper(upstream_files)

    result = dg.materialize_to_memory([upstream_files, shouted])
    assert result.asset_value(["warehouse", "shouted"]) == ["X", "Y", "Z"]
    defs = dg.Definitions(assets=[upstream_files, shouted])
    assert defs.get_assets_def(["warehouse", "shouted"]).group_name == "marts"
    steps = [o.step_key for o in result.outcomes]
    assert steps.index("upstream_files") < steps.index("shouted.upper")


def test_graph_multi_asset_stores_each_output_with_its_own_manager() -> None:
    first, second = dg.InMemoryIOManager(), dg.InMemoryIOManager()

    @dg.op(out={"small": dg.Out(), "big": dg.Out()})
    def split(files: list[str]):
        return files[:1], files[1:]

    @dg.graph_multi_asset(
        outs={"small": dg.AssetOut(io_manager_key="first"),
              "big": dg.AssetOut(io_manager_key="second")},
        can_subset=True,
    )  # fmt: skip
    def halves(upstream_files):
        small, big = split(upstream_files)
        return {"small": small, "big": big}

    resources = {"first": first, "second": second}
    result = dg.materialize([upstream_files, halves], resources=resources)
    assert result.asset_value("small") == ["x"]
    assert result.asset_value("big") == ["y", "z"]
    assert list(first.values) == [("small",)]
    assert list(second.values) == [("big",)]
    only = dg.materialize([upstream_files, halves], resources=resources, selection=["big"])
    assert [k.to_user_string() for o in only.outcomes for k in o.asset_keys] == ["big"]


def test_from_graph_and_from_op_name_assets_after_the_graph_or_by_the_keys_given() -> None:
    @dg.graph
    def counted(files):
        return count(files)

    from_graph = dg.AssetsDefinition.from_graph(
        counted, keys_by_input_name={"files": dg.AssetKey("upstream_files")}
    )
    from_op = dg.AssetsDefinition.from_op(
        count, keys_by_input_name={"files": dg.AssetKey("upstream_files")},
        keys_by_output_name={"result": dg.AssetKey(["marts", "n_files"])},
    )  # fmt: skip
    result = dg.materialize_to_memory([upstream_files, from_graph, from_op])
    assert result.asset_value("counted") == 3
    assert result.asset_value(["marts", "n_files"]) == 3


def test_a_graph_asset_op_output_without_its_manager_is_an_error_before_running() -> None:
    @dg.op(out=dg.Out(io_manager_key="scratch"))
    def staged() -> int:
        return 1

    @dg.op
    def final(n: int) -> int:
        return n

    @dg.graph_asset
    def needs_scratch():
        return final(staged())

    with pytest.raises(dg.errors.MissingResourceError, match="'scratch'"):
        dg.materialize([needs_scratch], resources={"io_manager": dg.InMemoryIOManager()})


def test_graph_assets_run_on_the_multiprocess_executor(tmp_path: Path) -> None:
    @dg.graph_asset
    def file_count():
        return count(fetch_files())

    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    result = dg.materialize([file_count], resources={"io_manager": io},
                            executor=dg.multiprocess_executor)  # fmt: skip
    assert result.asset_value("file_count") == 2
