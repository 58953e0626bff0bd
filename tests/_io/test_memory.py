"""InMemoryIOManager: values by asset key for one process."""

import pytest

import wharf as dg
from wharf.errors import StoredValueNotFoundError


def test_round_trip_and_partitions() -> None:
    io = dg.InMemoryIOManager()
    io.handle_output(dg.build_output_context(asset_key=["a", "b"]), [1])
    io.handle_output(dg.build_output_context(asset_key="p", partition_key="x"), "px")
    assert io.load_input(dg.build_input_context(asset_key=["a", "b"])) == [1]
    assert io.load_input(dg.build_input_context(asset_key="p", partition_key="x")) == "px"


def test_one_manager_shared_across_runs() -> None:
    io = dg.InMemoryIOManager()

    @dg.asset
    def a() -> int:
        return 1

    @dg.asset
    def b(a: int) -> int:
        return a + 1

    dg.materialize([a], resources={"io_manager": io})
    result = dg.materialize([a, b], resources={"io_manager": io}, selection=[b])
    assert result.output_for_node("b") == 2


def test_missing_value() -> None:
    with pytest.raises(StoredValueNotFoundError) as info:
        dg.InMemoryIOManager().load_input(dg.build_input_context(asset_key="nope"))
    assert isinstance(info.value, FileNotFoundError)
    assert "'nope' has no value in InMemoryIOManager" in str(info.value)
