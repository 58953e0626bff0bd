"""Run events as Dagster's result API shows them (``ExecuteInProcessResult``, returned by
``materialize``, ``materialize_to_memory`` and ``execute_in_process``).

From Dagster's API docs: ``all_events``, ``all_node_events``, ``events_for_node(name)``,
``get_step_success_events()``, ``asset_materializations_for_node(name)``,
``get_asset_observation_events()``, ``get_failed_step_keys()``; each event has ``event_type``
(a ``DagsterEventType``), ``event_type_value``, ``step_key``, ``node_name``, ``asset_key`` and
``event_specific_data``. Where the docs stop, what Dagster 1.13.29 showed for the same code:
``HANDLED_OUTPUT`` carries ``HandledOutputData(output_name, manager_key, metadata)`` with the
I/O manager's metadata; ``LOADED_INPUT`` carries ``LoadedInputData(input_name, manager_key,
upstream_output_name, upstream_step_key, metadata)``; a step's events are ordered
STEP_START, LOADED_INPUT, STEP_OUTPUT, ASSET_MATERIALIZATION, HANDLED_OUTPUT,
ASSET_CHECK_EVALUATION, STEP_SUCCESS; the run's are ``PIPELINE_START`` and
``PIPELINE_SUCCESS``/``PIPELINE_FAILURE``; ``get_failed_step_keys()`` is a set; a failing
body's STEP_FAILURE has ``error.cls_name == "DagsterExecutionStepExecutionError"`` caused by
the user's exception.
"""

from pathlib import Path

import wharf as dg


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="total")])
def total(numbers: list[int]):
    value = sum(numbers)
    yield dg.Output(value)
    yield dg.AssetCheckResult(passed=value > 0, check_name="positive")


@dg.asset
def numbers(context: dg.AssetExecutionContext) -> list[int]:
    context.log_event(dg.AssetObservation(asset_key="numbers", metadata={"seen": 3}))
    return [1, 2, 3]


def _run(tmp_path: Path) -> dg.ExecuteInProcessResult:
    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    return dg.materialize([numbers, total], resources={"io_manager": io})


def test_handled_output_and_loaded_input_carry_the_manager_key_and_metadata(
    tmp_path: Path,
) -> None:
    result = _run(tmp_path)
    handled = [e for e in result.all_node_events if e.is_handled_output]
    assert [e.step_key for e in handled] == ["numbers", "total"]
    data = handled[0].event_specific_data
    assert data.output_name == "result"
    assert data.manager_key == "io_manager"
    assert data.metadata["path"].value == str(tmp_path / "numbers")
    assert handled[0].event_type == dg.DagsterEventType.HANDLED_OUTPUT

    (loaded,) = [e for e in result.events_for_node("total") if e.is_loaded_input]
    assert loaded.event_type_value == "LOADED_INPUT"
    info = loaded.event_specific_data
    assert (info.input_name, info.manager_key) == ("numbers", "io_manager")
    assert (info.upstream_step_key, info.upstream_output_name) == ("numbers", "result")


def test_events_of_a_step_in_dagster_order(tmp_path: Path) -> None:
    result = _run(tmp_path)
    types = [e.event_type_value for e in result.events_for_node("total")]
    assert types == [
        "STEP_START", "LOADED_INPUT", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "HANDLED_OUTPUT",
        "ASSET_CHECK_EVALUATION", "STEP_SUCCESS",
    ]  # fmt: skip
    assert result.all_events[0].event_type == dg.DagsterEventType.RUN_START
    assert result.all_events[0].event_type_value == "PIPELINE_START"
    assert result.all_events[-1].event_type_value == "PIPELINE_SUCCESS"
    assert all(e.step_key for e in result.all_node_events)
    assert len(result.all_node_events) == len(result.all_events) - 2


def test_materializations_observations_checks_and_successes(tmp_path: Path) -> None:
    result = _run(tmp_path)
    (mat,) = result.asset_materializations_for_node("total")
    assert mat.asset_key == dg.AssetKey("total")
    mat_event = next(e for e in result.all_node_events if e.is_step_materialization)
    assert mat_event.asset_key == dg.AssetKey("numbers")
    assert mat_event.event_specific_data.materialization.asset_key == dg.AssetKey("numbers")

    (obs,) = result.get_asset_observation_events()
    assert obs.asset_key == dg.AssetKey("numbers")
    assert obs.event_specific_data.asset_observation.metadata["seen"].value == 3

    (check,) = [e for e in result.all_node_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert check.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    evaluation = check.event_specific_data
    assert (evaluation.check_name, evaluation.passed) == ("positive", True)
    assert evaluation.asset_key == dg.AssetKey("total")

    successes = result.get_step_success_events()
    assert [e.step_key for e in successes] == ["numbers", "total"]
    assert all(e.is_step_success and e.event_specific_data.duration_ms >= 0 for e in successes)
    assert result.get_failed_step_keys() == set()


def test_a_failed_step_is_a_failed_step_key_with_dagster_error_info() -> None:
    @dg.asset
    def broken() -> int:
        raise ValueError("no data today")

    @dg.asset
    def after(broken: int) -> int:
        return broken

    result = dg.materialize_to_memory([broken, after], raise_on_error=False)
    assert result.get_failed_step_keys() == {"broken"}
    (failure,) = result.get_step_failure_events()
    assert failure.is_step_failure
    assert failure.is_failure
    error = failure.event_specific_data.error
    assert error.cls_name == "DagsterExecutionStepExecutionError"
    assert error.cause.cls_name == "ValueError"
    assert "no data today" in error.cause.message
    assert [e.event_type_value for e in result.events_for_node("after")] == ["STEP_SKIPPED"]
    assert result.all_events[-1].is_job_failure


def test_a_failing_handle_output_is_named_as_dagster_names_it() -> None:
    class Refuses(dg.IOManager):
        def handle_output(self, context: dg.OutputContext, obj: object) -> None:
            raise OSError("disk full")

        def load_input(self, context: dg.InputContext) -> object:
            raise AssertionError("not loaded")

    @dg.asset
    def one() -> int:
        return 1

    result = dg.materialize([one], resources={"io_manager": Refuses()}, raise_on_error=False)
    (failure,) = result.get_step_failure_events()
    assert failure.event_specific_data.error.cls_name == "DagsterExecutionHandleOutputError"
    assert failure.event_specific_data.error.cause.cls_name == "OSError"


def test_execute_in_process_has_the_same_events() -> None:
    @dg.asset
    def a() -> int:
        return 1

    job = dg.define_asset_job("all_assets")
    defs = dg.Definitions(assets=[a], jobs=[job], resources={"io_manager": dg.InMemoryIOManager()})
    result = defs.get_job_def("all_assets").execute_in_process()
    assert [e.event_type_value for e in result.all_node_events] == [
        "STEP_START", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]  # fmt: skip
    assert result.get_failed_step_keys() == set()


def test_asset_materialization_tags_and_text_metadata() -> None:
    """Dagster's ``AssetMaterialization(asset_key, description, metadata, partition, tags)``;
    a str metadata value becomes a ``TextMetadataValue`` whose ``.text`` and ``.value`` are
    the string."""

    @dg.asset
    def reported():
        yield dg.AssetMaterialization(
            asset_key="external", metadata={"note": "hi"}, tags={"team": "data"}
        )
        yield dg.Output(1)

    event = dg.AssetMaterialization("x", tags={"a": "b"}, metadata={"t": "hi"})
    assert event.tags == {"a": "b"}
    assert event.metadata["t"].text == event.metadata["t"].value == "hi"
    result = dg.materialize_to_memory([reported])
    mats = result.asset_materializations_for_node("reported")
    external = next(m for m in mats if m.asset_key == dg.AssetKey("external"))
    assert external.tags == {"team": "data"}
    assert external.metadata["note"].text == "hi"
