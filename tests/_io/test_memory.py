"""InMemoryIOManager: values by asset key for one process."""

from typing import Any

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


def test_a_lazy_value_is_computed_when_stored_and_a_failure_keeps_the_old_one() -> None:
    import polars as pl

    from wharf.errors import StorageError

    broken = {"now": False}
    seen: list[Any] = []

    @dg.asset
    def t():  # type: ignore[no-untyped-def]
        if broken["now"]:
            return pl.LazyFrame({"x": ["1", "zz"]}).select(pl.col("x").str.to_integer())
        return pl.LazyFrame({"x": [1, 2]})

    @dg.asset
    def down(t):  # type: ignore[no-untyped-def]
        seen.append(t)

    io = dg.InMemoryIOManager()
    assert dg.materialize([t, down], resources={"io_manager": io}).success
    broken["now"] = True
    result = dg.materialize([t, down], resources={"io_manager": io}, raise_on_error=False)
    err = result.failures[dg.AssetKey("t")]  # the asset that returned it fails, not its reader
    assert isinstance(err, StorageError)
    assert "InMemoryIOManager could not store asset 't'" in str(err)
    assert result.outcome("down").status == "skipped"
    assert dg.materialize([t, down], resources={"io_manager": io}, selection=["down"]).success
    assert isinstance(seen[-1], pl.LazyFrame)  # unannotated: the type it was stored as
    assert seen[-1].collect().to_dict(as_series=False) == {"x": [1, 2]}
