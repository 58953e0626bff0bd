"""Dagster's test helpers, as Dagster's docs describe them, run with ``import wharf as dg``.

Behaviours checked (from Dagster's API docs): ``instance_for_test`` yields a persistent
instance in a temporary folder and points ``DagsterInstance.get()`` at it while open;
``DagsterInstance.ephemeral(tempdir=)`` keeps its local artifacts under ``<tempdir>/storage``,
which ``storage_directory()`` returns; ``FilesystemIOManager`` without ``base_dir`` writes
under the run instance's ``storage_directory()``; the ``build_*_context`` helpers take
Dagster's arguments (``build_output_context`` all of them, positionally in Dagster's order)
and work as context managers; ``@repository`` names a list of definitions; each metadata value
has ``.value`` and its own Dagster accessor (``TextMetadataValue.text``, ``UrlMetadataValue.url``,
...); ``MultiPartitionKey``, ``TimeWindow`` and ``PartitionKeyRange`` expose Dagster's fields.
"""

import os
import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

import wharf as dg


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


def test_instance_for_test_is_a_persistent_temporary_home() -> None:
    before = os.environ.get("WHARF_HOME")
    with dg.instance_for_test() as instance:
        home = Path(instance.storage_directory()).parent
        assert os.environ["WHARF_HOME"] == str(home)
        assert dg.DagsterInstance.get().storage_directory() == instance.storage_directory()
        result = dg.materialize([numbers], instance=instance)
        assert result.success
        stored = Path(instance.storage_directory()) / "numbers"
        assert stored.exists()  # the default FilesystemIOManager wrote into the instance
        assert instance.history_path is not None
        assert instance.history_path.exists()  # the run was recorded in its history
    assert os.environ.get("WHARF_HOME") == before
    assert not home.exists()


def test_ephemeral_instance_with_tempdir(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    assert instance.storage_directory() == str(tmp_path / "storage")
    assert dg.materialize([numbers], instance=instance).success
    assert (tmp_path / "storage" / "numbers").exists()
    assert instance.history_path is None  # ephemeral: no run history


def test_ephemeral_instance_without_tempdir_uses_a_temporary_folder() -> None:
    instance = dg.DagsterInstance.ephemeral()
    storage = Path(instance.storage_directory())
    assert storage.name == "storage"
    assert dg.materialize([numbers], instance=instance).success
    assert (storage / "numbers").exists()
    picked = pickle.loads(pickle.dumps(instance))  # goes to worker processes
    assert picked.storage_directory() == str(storage)


def test_instance_get_reads_wharf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHARF_HOME", str(tmp_path))
    assert dg.DagsterInstance.get().storage_directory() == str(tmp_path / "storage")


def test_build_output_context_takes_every_dagster_argument() -> None:
    marker = object()
    with dg.build_output_context(
        "step", "out", {"owner": "me"}, "run-1", "m1", {"c": 1}, None, "v3",
        {"base": "/tmp"}, {"r": 5}, marker, ["schema", "table"], "2024-01-01",
        None, {"rows": 4},
    ) as ctx:  # fmt: skip
        assert ctx.step_key == "step"
        assert ctx.name == "out"
        assert ctx.definition_metadata == {"owner": "me"}
        assert ctx.run_id == "run-1"
        assert ctx.mapping_key == "m1"
        assert ctx.config == {"c": 1}
        assert ctx.version == "v3"
        assert ctx.resource_config == {"base": "/tmp"}
        assert ctx.resources.r == 5
        assert ctx.op_def is marker
        assert ctx.asset_key == dg.AssetKey(["schema", "table"])
        assert ctx.partition_key == "2024-01-01"
        assert ctx.output_metadata == {"rows": 4}
    assert dg.build_output_context(metadata={"old": 1}).definition_metadata == {"old": 1}
    assert dg.build_output_context().name == "result"


def test_build_asset_context_takes_dagster_arguments() -> None:
    with dg.build_asset_context(
        resources={"greeting": "hi"},
        asset_config={"limit": 3},
        partition_key="a",
        run_tags={"team": "data"},
        run_id="r1",
    ) as ctx:
        assert ctx.resources.greeting == "hi"
        assert ctx.op_config == {"limit": 3}
        assert ctx.partition_key == "a"
        assert ctx.run_tags == {"team": "data"}
        assert ctx.run_id == "r1"


def test_build_op_context_runs_a_function_that_takes_a_context() -> None:
    def double(context: dg.AssetExecutionContext) -> int:
        return int(context.op_config["n"]) * 2 + context.resources.offset

    assert double(dg.build_op_context(resources={"offset": 1}, op_config={"n": 4})) == 9
    assert dg.build_op_context(config={"n": 1}).op_config == {"n": 1}
    with pytest.raises(dg.DagsterInvalidInvocationError):
        dg.build_op_context(op_config={"n": 1}, config={"n": 2})


def test_build_init_resource_context_sets_up_an_io_manager_factory(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    ctx = dg.build_init_resource_context(config={"x": 1}, resources={"r": 2}, instance=instance)
    assert ctx.resource_config == {"x": 1}
    assert ctx.resources.r == 2
    assert ctx.instance is instance
    manager = dg.FilesystemIOManager().create_io_manager(ctx)
    out = dg.build_output_context(asset_key="loose")
    manager.handle_output(out, {"a": 1})
    assert (tmp_path / "storage" / "loose").exists()  # base_dir from the context's instance


def test_repository_groups_definitions(tmp_path: Path) -> None:
    @dg.asset
    def total(numbers: list[int]) -> int:
        return sum(numbers)

    @dg.repository
    def analytics():
        return [numbers, total]

    assert isinstance(analytics, dg.RepositoryDefinition)
    assert analytics.name == "analytics"
    assert set(analytics.assets_defs_by_key) == {dg.AssetKey("numbers"), dg.AssetKey("total")}
    assert analytics.get_all_jobs() == []

    @dg.repository(name="named", top_level_resources={"io_manager": dg.InMemoryIOManager()})
    def other():
        return {"assets": [numbers]}

    assert other.name == "named"
    with pytest.raises(dg.DagsterInvalidDefinitionError):

        @dg.repository
        def broken():
            return [total]  # its input names no asset in the repository


def test_metadata_values_have_dagster_accessors() -> None:
    text = dg.MetadataValue.text("hello")
    assert isinstance(text, dg.TextMetadataValue)
    assert text.text == text.value == "hello"
    assert dg.MetadataValue.url("https://x.io").url == "https://x.io"
    assert dg.MetadataValue.path(Path("/a/b")).path == "/a/b"
    assert dg.MetadataValue.md("# t").md_str == "# t"
    assert dg.MetadataValue.json({"a": 1}).data == {"a": 1}
    assert dg.MetadataValue.int(3).value == 3
    assert isinstance(dg.MetadataValue.int(3), dg.IntMetadataValue)
    assert isinstance(dg.MetadataValue.float(0.5), dg.FloatMetadataValue)
    assert isinstance(dg.MetadataValue.bool(True), dg.BoolMetadataValue)
    assert dg.MetadataValue.null().value is None
    assert dg.MetadataValue.table_schema({"a": "int64"}).schema == {"a": "int64"}
    assert dg.TextMetadataValue("x") == dg.MetadataValue("x", "text")


def test_metadata_of_a_run_is_typed() -> None:
    @dg.asset
    def described() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"note": "ok", "rows": 2})

    result = dg.materialize_to_memory([described])
    (mat,) = result.asset_materializations_for_node("described")
    assert mat.metadata["note"].text == "ok"
    assert isinstance(mat.metadata["rows"], dg.IntMetadataValue)


def test_multi_partition_key_time_window_and_key_range() -> None:
    key = dg.MultiPartitionKey({"region": "eu", "date": "2024-01-01"})
    assert str(key) == "2024-01-01|eu"
    assert key.keys_by_dimension == {"date": "2024-01-01", "region": "eu"}
    assert [(d.dimension_name, d.partition_key) for d in key.dimension_keys] == [
        ("date", "2024-01-01"),
        ("region", "eu"),
    ]
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
    window = dg.TimeWindow(start, end)
    assert (window.start, window.end) == (start, end)
    assert window == dg.TimeWindow(start=start, end=end)
    rng = dg.PartitionKeyRange("a", "c")
    assert (rng.start, rng.end) == ("a", "c")
    assert rng == dg.PartitionKeyRange(start="a", end="c")
