"""Run assets: load inputs through I/O managers, call the function, store the output."""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wharf._core.assets import AssetsDefinition
from wharf._core.contexts import (
    AssetExecutionContext,
    InputContext,
    OutputContext,
    Resources,
    TypeInfo,
)
from wharf._core.graph import AssetGraph
from wharf._core.history import RunHistory
from wharf._core.keys import AssetKey
from wharf._core.logs import LIVE_SINK, STEP_LOGGER, LogLine, capture_step_logs
from wharf._core.partitioning.runs import upstream_partition_keys
from wharf._core.resources import RunResources, io_manager_key_of, needed_resource_keys
from wharf._core.results import (
    MaterializeResult,
    MetadataValue,
    Output,
    metadata_to_json,
    normalize_metadata,
)
from wharf._core.typecheck import matches_annotation, type_name, value_annotation
from wharf.errors import AssetTypeError


def _manager_name(manager: Any) -> str:
    """The name a user configured (FilesystemIOManager), not the engine behind it."""
    return str(getattr(manager, "manager_name", None) or type(manager).__name__)


#: what stops a whole run; any other exception (a library's panic included) fails one asset
RUN_STOPPERS = (KeyboardInterrupt, SystemExit, GeneratorExit)


def failed_outcome(key: AssetKey, exc: BaseException, where: str = "") -> StepOutcome:
    """``exc``, raised by one asset, as that asset's failure; an exception that stops the whole
    run (:data:`RUN_STOPPERS`) is raised again instead. ``where``: e.g. `` on a Dask worker``."""
    if isinstance(exc, RUN_STOPPERS):
        raise exc
    exc.add_note(f"while materializing asset {key.to_user_string()!r}{where}")
    outcome = StepOutcome(key, "failed", error=exc, reason=f"{type(exc).__name__}: {exc}")
    outcome.logs = list(getattr(exc, "_wharf_logs", ()))
    return outcome


_LOG = logging.getLogger("wharf")


@dataclass(frozen=True)
class AssetMaterialization:
    """A stored (or self-reported) asset value: its key, metadata and partition."""

    asset_key: AssetKey
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    partition: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class RunEvent:
    """An event of a run; materialization events carry an :class:`AssetMaterialization`."""

    event_type_value: str
    asset_key: AssetKey
    step_key: str
    materialization: AssetMaterialization | None = None

    @property
    def asset_materialization(self) -> AssetMaterialization | None:
        return self.materialization

    @property
    def is_step_materialization(self) -> bool:
        return self.materialization is not None


@dataclass
class StepOutcome:
    """How one asset went: ``success``, ``failed`` or ``skipped``, with timing and cause."""

    key: AssetKey
    status: str
    duration_s: float = 0.0
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    error: BaseException | None = None
    reason: str | None = None
    stored: bool = False
    #: what the step logged (context.log, get_dagster_logger, logging), secrets masked
    logs: list[LogLine] = field(default_factory=list)


class RunListener:
    """Receives progress while a run goes (the CLI's live display implements this)."""

    def on_start(self, key: AssetKey) -> None:
        """An asset started."""

    def on_finish(self, outcome: StepOutcome) -> None:
        """An asset succeeded, failed or was skipped."""

    def on_log(self, key: AssetKey, line: LogLine) -> None:
        """An asset running in this process logged a line (workers' lines come with
        :meth:`on_finish`, in ``outcome.logs``)."""


@dataclass
class RunContext:
    """Everything steps of one run share."""

    graph: AssetGraph
    resources: RunResources
    run_id: str
    partition_key: str | None = None
    #: the DagsterInstance that holds dynamic partitions (None: the persistent default)
    instance: Any = None
    #: "now" for time-window partitions, fixed once per run
    current_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: each configured asset's config, checked before the run (``run_config.resolve_run_config``)
    op_config: dict[AssetKey, Any] = field(default_factory=dict)

    def own_partitions(self, key: AssetKey) -> tuple[str, ...] | None:
        """The partitions of ``key`` this run stores: the run's key if the asset is partitioned."""
        if self.graph.by_key[key].partitions_def is None or self.partition_key is None:
            return None
        return (self.partition_key,)

    def upstream_partitions(
        self, key: AssetKey, downstream: AssetsDefinition | None, mapping: Any = None
    ) -> tuple[str, ...] | None:
        """The partitions of ``key`` an input of ``downstream`` loads (None: not partitioned).

        Without ``downstream`` (``asset_value``, ``load_asset_value``) the run's own partition
        of a partitioned asset, or every partition when the run has none.
        """
        return upstream_partition_keys(self, key, downstream, mapping)


def _output_context(
    run: RunContext, key: AssetKey, im_key: str, partitions: tuple[str, ...] | None = None
) -> OutputContext:
    item = run.graph.by_key[key]
    ann = value_annotation(item.return_annotation) if isinstance(item, AssetsDefinition) else Any
    return OutputContext(
        asset_key_or_none=key,
        name="result",
        definition_metadata=dict(item.metadata),
        dagster_type=TypeInfo(Any if ann is inspect.Signature.empty else ann),
        resource_config=run.resources.configs.get(im_key, {}),
        resources=Resources(run.resources.instances),
        step_key=key.to_python_identifier(),
        run_id=run.run_id,
        partition_key=run.partition_key,
        asset_partition_keys_or_none=partitions,
        asset_partitions_def=item.partitions_def,
        instance=run.instance,
    )


def load_asset_input(
    run: RunContext, key: AssetKey, *, annotation: Any = Any, name: str = "result",
    metadata: Mapping[str, Any] | None = None, for_asset: str | None = None,
    partitions: tuple[str, ...] | None = None,
) -> Any:  # fmt: skip
    """Load the stored value of ``key`` (its ``partitions``) through its I/O manager."""
    im_key = io_manager_key_of(run.graph, key)
    label = for_asset or key.to_user_string()
    manager = run.resources.io_manager(im_key, asset=label)
    upstream = _output_context(run, key, im_key, partitions)
    ctx = InputContext(
        asset_key_or_none=key,
        name=name,
        upstream_output=upstream,
        definition_metadata=dict(metadata or {}),
        dagster_type=TypeInfo(Any if annotation is inspect.Signature.empty else annotation),
        resource_config=upstream.resource_config,
        resources=upstream.resources,
        step_key=upstream.step_key,
        run_id=run.run_id,
        partition_key=run.partition_key,
        asset_partition_keys_or_none=partitions,
        asset_partitions_def=upstream.asset_partitions_def,
        instance=run.instance,
    )
    try:
        return manager.load_input(ctx)
    except BaseException as exc:
        exc.add_note(
            f"while loading {key.to_user_string()!r} for {label!r} "
            f"with I/O manager {im_key!r} ({_manager_name(manager)})"
        )
        raise


def _unpack(asset: AssetsDefinition, result: Any) -> tuple[bool, Any, dict[str, MetadataValue]]:
    """(store?, value, metadata) from what the function returned."""
    if isinstance(result, Output):
        return True, result.value, normalize_metadata(result.metadata)
    if isinstance(result, MaterializeResult):
        return result.has_value, result.value, normalize_metadata(result.metadata)
    if result is None and asset.return_annotation in (None, type(None)):
        return False, None, {}
    return True, result, {}


def run_asset(run: RunContext, asset: AssetsDefinition) -> StepOutcome:
    """Run one asset with its logs captured (they ride on the outcome, or on the exception as
    ``_wharf_logs`` for :func:`failed_outcome`). Raises on failure."""
    with capture_step_logs(asset.key, run.resources.secret_values) as lines:
        try:
            outcome = _run_asset_once(run, asset)
        except BaseException as exc:
            with contextlib.suppress(AttributeError, TypeError):  # an exception without __dict__
                exc._wharf_logs = list(lines)  # type: ignore[attr-defined]
            raise
    outcome.logs = list(lines)
    return outcome


def _run_asset_once(run: RunContext, asset: AssetsDefinition) -> StepOutcome:
    """Load inputs, call the function, type-check and store the value. Raises on failure."""
    start = time.perf_counter()
    label = asset.key.to_user_string()
    in_parts = {
        i.param: run.upstream_partitions(i.key, asset, i.partition_mapping) for i in asset.inputs
    }
    kwargs: dict[str, Any] = {
        inp.param: load_asset_input(
            run,
            inp.key,
            annotation=inp.annotation,
            name=inp.param,
            metadata=inp.metadata,
            for_asset=label,
            partitions=in_parts[inp.param],
        )
        for inp in asset.inputs
    }
    for param, rkey in asset.resource_params.items():
        kwargs[param] = run.resources.instances[rkey]
    step_config = run.op_config.get(asset.key)
    if asset.config_param and step_config is not None:
        kwargs[asset.config_param] = step_config.value
    exec_ctx = None
    if asset.context_param:
        exec_ctx = AssetExecutionContext(
            asset_key=asset.key,
            resources=Resources(run.resources.instances),
            run_id=run.run_id,
            partition_key_or_none=run.partition_key if asset.partitions_def else None,
            input_keys={i.param: i.key for i in asset.inputs},
            partitions_def=asset.partitions_def,
            input_partitions={
                i.param: (in_parts[i.param], run.graph.by_key[i.key].partitions_def)
                for i in asset.inputs
            },
            instance=run.instance,
            op_config=step_config.as_dict if step_config is not None else None,
            log=STEP_LOGGER,
        )
        kwargs[asset.context_param] = exec_ctx
    result = asset.fn(**kwargs)
    store, value, metadata = _unpack(asset, result)
    if exec_ctx is not None:
        metadata = {**exec_ctx._added_metadata, **metadata}
    if store:
        ann = value_annotation(asset.return_annotation)  # Output[X] -> X
        if not matches_annotation(value, ann):
            im = asset.io_manager_key
            msg = (
                f"asset {label!r} returned {type_name(type(value))}, but its return annotation "
                f"expects {type_name(ann)}: I/O manager {im!r} was not called and the stored "
                "value is unchanged"
            )
            raise AssetTypeError(
                msg, asset=label, io_manager=im, expected=type_name(ann), got=type_name(type(value))
            )
        manager = run.resources.io_manager(asset.io_manager_key, asset=label)
        out_ctx = _output_context(
            run, asset.key, asset.io_manager_key, run.own_partitions(asset.key)
        )
        manager.handle_output(out_ctx, value)
        metadata = {**metadata, **out_ctx.consume_logged_metadata()}
    return StepOutcome(asset.key, "success", time.perf_counter() - start, metadata, stored=store)


def execute_in_process(
    run: RunContext,
    selected: Sequence[AssetKey],
    *,
    listener: RunListener | None = None,
    history: RunHistory | None = None,
) -> list[StepOutcome]:
    """Run ``selected`` in order; a failure skips its dependants, the others still run.
    Log lines reach the ``listener`` as they are logged."""
    token = LIVE_SINK.set(listener.on_log if listener else None)
    try:
        return _execute_in_order(run, selected, listener, history)
    finally:
        LIVE_SINK.reset(token)


def _execute_in_order(
    run: RunContext,
    selected: Sequence[AssetKey],
    listener: RunListener | None,
    history: RunHistory | None,
) -> list[StepOutcome]:
    failed: dict[AssetKey, str] = {}
    outcomes: list[StepOutcome] = []
    selected_set = set(selected)
    for key in selected:
        asset = run.graph.by_key[key]
        assert isinstance(asset, AssetsDefinition)
        bad_up = [u for u in run.graph.upstream(key) if u in failed and u in selected_set]
        if listener:
            listener.on_start(key)
        started_at = time.time()
        if bad_up:
            up = bad_up[0].to_user_string()
            outcome = StepOutcome(key, "skipped", reason=f"upstream {up!r} {failed[bad_up[0]]}")
            failed[key] = "was skipped"
        else:
            try:
                outcome = run_asset(run, asset)
            except BaseException as exc:  # a library's panic too (pyo3: a BaseException)
                outcome = failed_outcome(key, exc)
                _LOG.error(  # the CLI prints failures itself and drops these records
                    "asset %s failed: %s", key.to_user_string(), exc, extra={"wharf_failure": True}
                )
                failed[key] = "failed"
        outcome.duration_s = outcome.duration_s or (time.time() - started_at)
        outcomes.append(outcome)
        if history is not None:
            record_outcome(history, run, asset, outcome, started_at)
        if listener:
            listener.on_finish(outcome)
    return outcomes


def record_outcome(
    history: RunHistory, run: RunContext, asset: AssetsDefinition, o: StepOutcome, t0: float
) -> None:
    error = None
    if o.error is not None:
        error = "".join(traceback.format_exception(o.error)).strip()
    history.record(
        run_id=run.run_id, asset_key=o.key.to_user_string(), status=o.status, started_at=t0,
        duration_s=o.duration_s, metadata=metadata_to_json(o.metadata),
        partition_key=run.partition_key if asset.partitions_def else None,
        io_manager=asset.io_manager_key,
        error=error or o.reason,
    )  # fmt: skip
    history.record_logs(run.run_id, o.key.to_user_string(), o.logs)


def new_run_id() -> str:
    return uuid.uuid4().hex


Executor = Callable[..., list[StepOutcome]]


def run_graph(
    graph: AssetGraph,
    selected: Sequence[AssetKey],
    resources: Mapping[str, Any],
    *,
    partition_key: str | None = None,
    listener: RunListener | None = None,
    history: RunHistory | None = None,
    executor: Executor = execute_in_process,
    instance: Any = None,
    current_time: datetime | None = None,
    run_id: str | None = None,
    op_config: Mapping[AssetKey, Any] | None = None,
) -> tuple[RunContext, list[StepOutcome]]:
    """Set up resources, run the selected assets, tear resources down."""
    run_id = run_id or new_run_id()
    keys = needed_resource_keys(graph, selected)
    run_resources = RunResources(resources, keys, run_id)
    run = RunContext(graph, run_resources, run_id, partition_key, instance)
    run.op_config = dict(op_config or {})
    if current_time is not None:
        run.current_time = current_time
    if getattr(executor, "isolated", False):
        # each worker sets up its own resources; here only fail early on a missing EnvVar
        run_resources.resolve_env()
        outcomes = executor(run, selected, listener=listener, history=history)
        with run_resources:  # so the result can load what the workers stored
            pass
        return run, outcomes
    with run_resources:
        outcomes = executor(run, selected, listener=listener, history=history)
    return run, outcomes
