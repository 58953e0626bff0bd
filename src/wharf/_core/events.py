"""The events of a run, as Dagster's result API shows them.

A run's events are derived from its step outcomes (:class:`~wharf._core.execution.StepOutcome`)
when asked for, in the order the steps finished: ``STEP_START``, ``LOADED_INPUT`` per loaded
input, then per output ``STEP_OUTPUT``, ``ASSET_MATERIALIZATION`` (an asset's) and
``HANDLED_OUTPUT`` (a stored one), the ``ASSET_OBSERVATION`` and ``ASSET_MATERIALIZATION``
events the body reported, ``ASSET_CHECK_EVALUATION`` per check evaluated, then
``STEP_SUCCESS``, ``STEP_FAILURE`` or ``STEP_SKIPPED``, as Dagster orders them.
``event_type_value`` is Dagster's ``DagsterEventType`` value and ``event_specific_data`` what
Dagster's event carries (:mod:`wharf._core.event_data`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wharf._core.event_data import (
    AssetObservationData,
    DagsterEventType,
    HandledOutputData,
    LoadedInputData,
    StepFailureData,
    StepMaterializationData,
    StepSuccessData,
    failure_info,
)
from wharf._core.keys import AssetKey, CoercibleToAssetKey, to_asset_key
from wharf._core.results import MetadataValue, normalize_metadata

if TYPE_CHECKING:
    from wharf._core.execution import StepOutcome


@dataclass(frozen=True, init=False)
class _AssetEvent:
    asset_key: AssetKey
    metadata: dict[str, MetadataValue]
    partition: str | None
    description: str | None
    tags: dict[str, str]

    def __init__(
        self,
        asset_key: CoercibleToAssetKey,
        metadata: Mapping[str, Any] | None = None,
        partition: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        object.__setattr__(self, "asset_key", to_asset_key(asset_key))
        object.__setattr__(self, "metadata", normalize_metadata(metadata))
        object.__setattr__(self, "partition", partition)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "tags", dict(tags or {}))

    @property
    def label(self) -> str:
        return self.asset_key.to_user_string()


@dataclass(frozen=True, init=False)
class AssetMaterialization(_AssetEvent):
    """A stored (or self-reported) asset value: its key, metadata and partition.

    An op or asset body may ``yield`` one to report data it wrote itself.

    Examples:
        >>> AssetMaterialization("report", metadata={"rows": 3}).metadata["rows"].value
        3
    """


@dataclass(frozen=True, init=False)
class AssetObservation(_AssetEvent):
    """An observation of an asset (e.g. a source asset's data version); stores nothing.

    Examples:
        >>> AssetObservation("raw", metadata={"n": 1}).asset_key
        AssetKey(['raw'])
    """


def _is(*values: str) -> Any:
    """A read-only ``is_...`` property: the event's type is one of ``values``."""
    return property(lambda event: event.event_type_value in values)


@dataclass(frozen=True)
class RunEvent:
    """One event of a run (see the module docstring for the types and their order).

    Attributes:
        event_type_value: Dagster's ``DagsterEventType`` value, e.g. ``STEP_SUCCESS``.
        asset_key: the asset the event is about, if any.
        step_key: the step the event belongs to.
        materialization: for ``ASSET_MATERIALIZATION``, what was materialized.
        output_name: for output events, the output.
        message: a human sentence (the error text of a failure).
        error: for ``STEP_FAILURE``, the exception.
    """

    event_type_value: str
    asset_key: AssetKey | None
    step_key: str
    materialization: AssetMaterialization | None = None
    output_name: str | None = None
    message: str = ""
    error: BaseException | None = field(default=None, repr=False)
    observation: AssetObservation | None = None
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    #: what Dagster's event carries for its type (``HandledOutputData``, ``LoadedInputData``,
    #: ``StepMaterializationData``, ``StepFailureData``, an ``AssetCheckEvaluation``, ...)
    event_specific_data: Any = field(default=None, repr=False)

    @property
    def event_type(self) -> DagsterEventType:
        """The event's :class:`DagsterEventType`."""
        return DagsterEventType(self.event_type_value)

    @property
    def is_step_event(self) -> bool:
        return bool(self.step_key)

    is_failure = _is("STEP_FAILURE", "PIPELINE_FAILURE", "RESOURCE_INIT_FAILURE")
    is_handled_output = _is("HANDLED_OUTPUT")
    is_loaded_input = _is("LOADED_INPUT")
    is_asset_observation = _is("ASSET_OBSERVATION")
    is_step_start = _is("STEP_START")
    is_step_skipped = _is("STEP_SKIPPED")
    is_job_success = _is("PIPELINE_SUCCESS")
    is_job_failure = _is("PIPELINE_FAILURE")
    is_resource_init_failure = _is("RESOURCE_INIT_FAILURE")
    is_step_success = _is("STEP_SUCCESS")
    is_step_failure = _is("STEP_FAILURE")
    is_successful_output = _is("STEP_OUTPUT")
    is_run_failure = _is("PIPELINE_FAILURE")

    @property
    def asset_materialization(self) -> AssetMaterialization | None:
        return self.materialization

    @property
    def asset_observation(self) -> AssetObservation | None:
        return self.observation

    @property
    def is_step_materialization(self) -> bool:
        return self.materialization is not None

    @property
    def node_name(self) -> str:
        """The op (node) name: the step key without a mapping key."""
        return self.step_key.split("[", 1)[0]


def step_events(outcome: StepOutcome, partition: str | None = None) -> list[RunEvent]:
    """The events of one finished step, in Dagster's order."""
    step = outcome.step_key or outcome.key.to_python_identifier()
    if outcome.status in ("skipped", "unchanged"):  # unchanged: skip_unchanged kept the value
        return [RunEvent("STEP_SKIPPED", None, step, message=outcome.reason or outcome.status)]
    events = [RunEvent("STEP_START", None, step)]
    loads = outcome.input_loads or [LoadedInputData(n, None) for n in outcome.loaded_inputs]
    events.extend(
        RunEvent("LOADED_INPUT", None, step, output_name=d.input_name, event_specific_data=d)
        for d in loads
    )
    for record in outcome.outputs.values():
        if record.stored or record.asset_key is not None:
            events.append(RunEvent("STEP_OUTPUT", record.asset_key, step, output_name=record.name))
        if record.asset_key is not None:
            mat = AssetMaterialization(record.asset_key, record.metadata, partition)
            data: Any = StepMaterializationData(mat)
            events.append(RunEvent("ASSET_MATERIALIZATION", record.asset_key, step, mat,
                                   record.name, event_specific_data=data))  # fmt: skip
        if record.stored:
            data = HandledOutputData(record.name, record.io_manager_key, dict(record.metadata))
            events.append(RunEvent("HANDLED_OUTPUT", record.asset_key, step,
                                   output_name=record.name, metadata=dict(record.metadata),
                                   event_specific_data=data))  # fmt: skip
    for reported in outcome.reported:
        if isinstance(reported, AssetObservation):
            data = AssetObservationData(reported)
            events.append(RunEvent("ASSET_OBSERVATION", reported.asset_key, step,
                                   observation=reported, event_specific_data=data))  # fmt: skip
        elif isinstance(reported, AssetMaterialization):
            data = StepMaterializationData(reported)
            events.append(RunEvent("ASSET_MATERIALIZATION", reported.asset_key, step, reported,
                                   event_specific_data=data))  # fmt: skip
    if outcome.status == "success":
        done = StepSuccessData(outcome.duration_s * 1000)
        events.append(RunEvent("STEP_SUCCESS", None, step, event_specific_data=done))
    else:
        text = outcome.reason or str(outcome.error or "")
        failed = StepFailureData(failure_info(outcome.error, text), error_source="USER_CODE_ERROR")
        events.append(RunEvent("STEP_FAILURE", None, step, message=text, error=outcome.error,
                               event_specific_data=failed))  # fmt: skip
    return events


def check_events(step_key: str, evaluations: list[Any]) -> list[RunEvent]:
    """One ``ASSET_CHECK_EVALUATION`` event per evaluation (the evaluation is its data)."""
    return [
        RunEvent("ASSET_CHECK_EVALUATION", e.asset_key, step_key, event_specific_data=e)
        for e in evaluations
    ]
