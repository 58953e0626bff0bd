"""Dagster's event types and the data each run event carries (``event_specific_data``).

A test written for Dagster filters a run's events by ``event_type`` (a :class:`DagsterEventType`)
or ``event_type_value`` and reads what Dagster puts in ``event_specific_data``: the manager key
and metadata of a handled output or a loaded input, the materialization, the failure's error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from wharf._core.results import MetadataValue


class DagsterEventType(StrEnum):
    """The event types of a run, with Dagster's values (a run's start is ``PIPELINE_START``).

    Examples:
        >>> DagsterEventType.HANDLED_OUTPUT.value, DagsterEventType.RUN_START.value
        ('HANDLED_OUTPUT', 'PIPELINE_START')
        >>> DagsterEventType("STEP_SUCCESS") is DagsterEventType.STEP_SUCCESS
        True
    """

    RUN_START = "PIPELINE_START"
    RUN_SUCCESS = "PIPELINE_SUCCESS"
    RUN_FAILURE = "PIPELINE_FAILURE"
    STEP_START = "STEP_START"
    STEP_INPUT = "STEP_INPUT"
    STEP_OUTPUT = "STEP_OUTPUT"
    STEP_SUCCESS = "STEP_SUCCESS"
    STEP_FAILURE = "STEP_FAILURE"
    STEP_SKIPPED = "STEP_SKIPPED"
    STEP_UP_FOR_RETRY = "STEP_UP_FOR_RETRY"
    STEP_RESTARTED = "STEP_RESTARTED"
    LOADED_INPUT = "LOADED_INPUT"
    HANDLED_OUTPUT = "HANDLED_OUTPUT"
    ASSET_MATERIALIZATION = "ASSET_MATERIALIZATION"
    ASSET_OBSERVATION = "ASSET_OBSERVATION"
    ASSET_CHECK_EVALUATION = "ASSET_CHECK_EVALUATION"
    RESOURCE_INIT_STARTED = "RESOURCE_INIT_STARTED"
    RESOURCE_INIT_SUCCESS = "RESOURCE_INIT_SUCCESS"
    RESOURCE_INIT_FAILURE = "RESOURCE_INIT_FAILURE"
    ENGINE_EVENT = "ENGINE_EVENT"
    LOGS_CAPTURED = "LOGS_CAPTURED"


@dataclass(frozen=True)
class HandledOutputData:
    """A stored output: its name, the I/O manager's resource key, the metadata it recorded."""

    output_name: str
    manager_key: str | None
    metadata: dict[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedInputData:
    """A loaded input: its name, the manager that loaded it, the upstream step and output."""

    input_name: str
    manager_key: str | None
    upstream_output_name: str | None = None
    upstream_step_key: str | None = None
    metadata: dict[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True)
class StepMaterializationData:
    """What an ``ASSET_MATERIALIZATION`` event holds: the materialization."""

    materialization: Any
    asset_lineage: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class AssetObservationData:
    """What an ``ASSET_OBSERVATION`` event holds: the observation."""

    asset_observation: Any


@dataclass(frozen=True)
class StepSuccessData:
    """How long the step took, in milliseconds."""

    duration_ms: float


@dataclass(frozen=True)
class ErrorInfo:
    """A failure as Dagster serializes it: the class name, the message, the cause.

    A failing body is ``DagsterExecutionStepExecutionError`` caused by the user's exception, a
    failing ``handle_output`` ``DagsterExecutionHandleOutputError``, a failing ``load_input``
    ``DagsterExecutionLoadInputError``, as Dagster names them; a wharf error is itself.
    """

    cls_name: str
    message: str
    cause: ErrorInfo | None = None
    stack: list[str] = field(default_factory=list)

    @staticmethod
    def of(exc: BaseException) -> ErrorInfo:
        return ErrorInfo(type(exc).__name__, str(exc))


@dataclass(frozen=True)
class StepFailureData:
    """Why a step failed (``error``), and for ``Failure(...)`` its description and metadata."""

    error: ErrorInfo | None
    user_failure_data: Any = None
    error_source: str | None = None


def failure_info(error: BaseException | None, message: str) -> ErrorInfo:
    """Dagster's error info for a failed step: wrapped as Dagster wraps user code errors."""
    from wharf.errors import WharfError

    if error is None:
        return ErrorInfo("DagsterExecutionStepExecutionError", message)
    if isinstance(error, WharfError):
        return ErrorInfo(type(error).__name__, str(error), _cause(error))
    notes = " ".join(getattr(error, "__notes__", []))
    if "while storing output" in notes:
        cls = "DagsterExecutionHandleOutputError"
    elif "while loading" in notes:
        cls = "DagsterExecutionLoadInputError"
    else:
        cls = "DagsterExecutionStepExecutionError"
    return ErrorInfo(cls, message or str(error), ErrorInfo.of(error))


def _cause(error: BaseException) -> ErrorInfo | None:
    cause = error.__cause__
    return ErrorInfo.of(cause) if cause is not None else None
