"""The events of a run, as Dagster's result API shows them.

A run's events are derived from its step outcomes (:class:`~wharf._core.execution.StepOutcome`)
when asked for, in the order the steps finished: ``STEP_START``, ``LOADED_INPUT`` per input,
``STEP_OUTPUT`` and ``HANDLED_OUTPUT`` per stored output, ``ASSET_MATERIALIZATION`` per asset
materialized (by the I/O manager or reported by the body), ``ASSET_OBSERVATION``, then
``STEP_SUCCESS``, ``STEP_FAILURE`` or ``STEP_SKIPPED``. ``event_type_value`` is Dagster's
``DagsterEventType`` value; other modules may add event types by adding to :func:`step_events`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    def is_step_success(self) -> bool:
        return self.event_type_value == "STEP_SUCCESS"

    @property
    def is_step_failure(self) -> bool:
        return self.event_type_value == "STEP_FAILURE"

    @property
    def is_successful_output(self) -> bool:
        return self.event_type_value == "STEP_OUTPUT"

    @property
    def node_name(self) -> str:
        """The op (node) name: the step key without a mapping key."""
        return self.step_key.split("[", 1)[0]


def step_events(outcome: StepOutcome, partition: str | None = None) -> list[RunEvent]:
    """The events of one finished step, in Dagster's order."""
    step = outcome.step_key or outcome.key.to_python_identifier()
    events = [RunEvent("STEP_START", None, step)]
    if outcome.status == "skipped":
        return [RunEvent("STEP_SKIPPED", None, step, message=outcome.reason or "")]
    events.extend(
        RunEvent("LOADED_INPUT", None, step, output_name=n) for n in outcome.loaded_inputs
    )
    for record in outcome.outputs.values():
        if record.stored:
            events.append(RunEvent("STEP_OUTPUT", record.asset_key, step, output_name=record.name))
            events.append(
                RunEvent(
                    "HANDLED_OUTPUT", record.asset_key, step, output_name=record.name,
                    metadata=dict(record.metadata),
                )
            )  # fmt: skip
        if record.asset_key is not None:
            mat = AssetMaterialization(record.asset_key, record.metadata, partition)
            events.append(
                RunEvent("ASSET_MATERIALIZATION", record.asset_key, step, mat, record.name)
            )
    for reported in outcome.reported:
        if isinstance(reported, AssetObservation):
            events.append(RunEvent("ASSET_OBSERVATION", reported.asset_key, step,
                                   observation=reported))  # fmt: skip
        else:
            events.append(RunEvent("ASSET_MATERIALIZATION", reported.asset_key, step, reported))
    if outcome.status == "success":
        events.append(RunEvent("STEP_SUCCESS", None, step))
    else:
        text = outcome.reason or str(outcome.error or "")
        events.append(RunEvent("STEP_FAILURE", None, step, message=text, error=outcome.error))
    return events
