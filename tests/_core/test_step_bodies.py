"""Step bodies that yield, and the run's events (the engine's one-output special case)."""

from typing import Any

import pytest

import wharf as dg
from wharf.errors import StepOutputError


def test_a_generator_asset_yields_its_output_and_a_materialization() -> None:
    @dg.asset
    def report() -> Any:
        yield dg.AssetMaterialization(asset_key="external_report", metadata={"pages": 3})
        yield dg.Output([1, 2], metadata={"rows": 2})

    result = dg.materialize_to_memory([report])
    assert result.success
    assert result.asset_value("report") == [1, 2]
    mats = {
        e.asset_key.to_user_string(): e.materialization
        for e in result.get_asset_materialization_events()
    }
    assert mats["report"].metadata["rows"].value == 2
    assert mats["external_report"].metadata["pages"].value == 3


def test_a_generator_that_fails_midway_stores_nothing() -> None:
    store = dg.InMemoryIOManager()

    @dg.asset
    def half() -> Any:
        yield dg.Output(1)
        raise RuntimeError("broke after the first output")

    result = dg.materialize([half], resources={"io_manager": store}, raise_on_error=False)
    assert not result.success
    assert store.values == {}


def test_an_unknown_output_name_is_a_clear_error() -> None:
    @dg.asset
    def single() -> Any:
        yield dg.Output(1, output_name="other")

    with pytest.raises(
        StepOutputError,
        match=r"asset 'single'.*output 'other'.*\['result' \(I/O manager 'io_manager'\)\]",
    ):
        dg.materialize_to_memory([single])


def test_all_events_in_dagster_order() -> None:
    """Dagster 1.13.29 orders a step's events STEP_START, LOADED_INPUT (STEP_INPUT), STEP_OUTPUT,
    ASSET_MATERIALIZATION, HANDLED_OUTPUT, STEP_SUCCESS, and the run's PIPELINE_START and
    PIPELINE_SUCCESS around them (wharf has no STEP_INPUT or engine events)."""

    @dg.asset
    def a() -> int:
        return 1

    @dg.asset
    def b(a: int) -> int:
        return a + 1

    result = dg.materialize_to_memory([a, b])
    types = [e.event_type_value for e in result.all_events if e.step_key == "b"]
    assert types == [
        "STEP_START", "LOADED_INPUT", "STEP_OUTPUT", "ASSET_MATERIALIZATION",
        "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]  # fmt: skip
    assert [e.step_key for e in result.get_step_success_events()] == ["a", "b"]
    assert result.all_events[0].event_type_value == "PIPELINE_START"
    assert result.all_events[-1].event_type_value == "PIPELINE_SUCCESS"
