"""Run steps: load inputs through I/O managers, call the function, store each output.

This is the one engine. A step (:class:`~wharf._core.plan.Step`) may be an asset, a
multi-asset or an op; :func:`run_step` runs any of them the same way, and the executors
(:mod:`wharf._core.executors`) only decide when. Hooks that change how a step runs (config,
retries, log capture, checks) belong in :func:`run_step` and read only the step's fields.
"""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wharf._core.assets import AssetsDefinition
from wharf._core.contexts import AssetExecutionContext, Resources
from wharf._core.event_data import LoadedInputData
from wharf._core.events import AssetMaterialization, AssetObservation, RunEvent
from wharf._core.graph import AssetGraph
from wharf._core.history import RunHistory
from wharf._core.keys import AssetKey
from wharf._core.logs import LIVE_SINK, STEP_LOGGER, LogLine, capture_step_logs
from wharf._core.partitioning.runs import upstream_partition_keys
from wharf._core.plan import NO_DEFAULT, ExecutionPlan, Step, StepInput
from wharf._core.resources import RunResources, io_manager_key_of, needed_resource_keys
from wharf._core.results import (
    MetadataValue,
    metadata_kinds,
    metadata_to_json,
    normalize_metadata,
)
from wharf._core.retries import Failure, retry_wait
from wharf._core.step_io import (
    load_asset_input,
    load_source,
    manager_name,
    step_output_context,
    upstream_partitions,
)
from wharf._core.step_results import check_input, collect
from wharf._core.versions import FINGERPRINT, Fingerprint, combined_version, version_text

__all__ = [
    "AssetMaterialization",
    "AssetObservation",
    "OutputRecord",
    "RunContext",
    "RunEvent",
    "RunListener",
    "StepOutcome",
    "execute_in_process",
    "failed_outcome",
    "load_asset_input",
    "new_run_id",
    "record_outcome",
    "run_graph",
    "run_plan",
    "run_step",
    "skipped_outcome",
    "unchanged_outcome",
]

#: the tag an observation carries its data version in, as Dagster's does
DATA_VERSION_TAG = "dagster/data_version"

#: what stops a whole run; any other exception (a library's panic included) fails one step
RUN_STOPPERS = (KeyboardInterrupt, SystemExit, GeneratorExit)

_LOG = logging.getLogger("wharf")


@dataclass
class OutputRecord:
    """One output a step produced: stored (or reported), with its metadata.

    ``mapping_keys``: for a dynamic output, the mapping key of every value, in yield order.
    """

    name: str
    asset_key: AssetKey | None
    stored: bool
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    mapping_keys: list[str] = field(default_factory=list)
    io_manager_key: str | None = None
    #: the data version the body gave, else the fingerprint the I/O manager computed
    data_version: str | None = None


@dataclass
class StepOutcome:
    """How one step went: ``success``, ``failed`` or ``skipped``, with timing and cause.

    ``key`` is what progress and summaries show: the asset's key for a one-asset step, else the
    step key as a one-part key. ``metadata`` and ``stored`` are those of the step's first
    output (an asset's one output); ``outputs`` has every output by name.
    """

    key: AssetKey
    status: str
    duration_s: float = 0.0
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    error: BaseException | None = None
    reason: str | None = None
    stored: bool = False
    step_key: str = ""
    #: the assets the step was to materialize (whether or not it did)
    asset_keys: tuple[AssetKey, ...] = ()
    outputs: dict[str, OutputRecord] = field(default_factory=dict)
    #: AssetMaterialization / AssetObservation / ... the body yielded itself
    reported: list[Any] = field(default_factory=list)
    loaded_inputs: list[str] = field(default_factory=list)
    #: how each input was loaded (manager key, upstream step and output), for LOADED_INPUT
    input_loads: list[LoadedInputData] = field(default_factory=list)
    kind: str = "asset"
    #: what the step logged (context.log, get_dagster_logger, logging), secrets masked
    logs: list[LogLine] = field(default_factory=list)
    #: the attempts before the last one: (started at, seconds, error)
    retries: list[tuple[float, float, str]] = field(default_factory=list)
    #: skipped only because an optional output upstream was not produced: the run succeeds
    benign: bool = False
    #: when its last attempt began, in the process that ran it (a worker's start-up is not
    #: part of the step: the run history's start time, and so a run's timeline, is this)
    started_at: float | None = None

    @property
    def attempts(self) -> int:
        """How many times the step ran (1 without retries)."""
        return len(self.retries) + 1

    def __post_init__(self) -> None:
        if not self.step_key:
            self.step_key = self.key.to_python_identifier()
        if not self.asset_keys and self.kind == "asset":
            self.asset_keys = (self.key,)

    def stored_asset(self, key: AssetKey) -> OutputRecord | None:
        """The record of the output that materialized ``key``, if the step stored it."""
        for record in self.outputs.values():
            if record.asset_key == key:
                return record
        return None


def _outcome(step: Step, status: str, **kwargs: Any) -> StepOutcome:
    return StepOutcome(
        step.display_key, status, step_key=step.key, asset_keys=step.asset_keys,
        kind=step.kind, **kwargs,
    )  # fmt: skip


def skipped_outcome(step: Step, reason: str, *, benign: bool = False) -> StepOutcome:
    """``step`` skipped, e.g. because an upstream step failed (``benign``: because an optional
    output upstream was not produced, which fails nothing)."""
    return _outcome(step, "skipped", reason=reason, benign=benign)


def unchanged_outcome(step: Step, reason: str) -> StepOutcome:
    """``step`` not run by a skip-unchanged run: its code and input data versions are those
    of its stored value."""
    return _outcome(step, "unchanged", reason=reason)


def failed_outcome(step: Step | AssetKey, exc: BaseException, where: str = "") -> StepOutcome:
    """``exc``, raised by one step, as that step's failure; an exception that stops the whole
    run (:data:`RUN_STOPPERS`) is raised again instead. ``where``: e.g. `` on a Dask worker``."""
    if isinstance(exc, RUN_STOPPERS):
        raise exc
    if isinstance(step, AssetKey):
        exc.add_note(f"while materializing asset {step.to_user_string()!r}{where}")
        outcome = StepOutcome(step, "failed", error=exc, reason=f"{type(exc).__name__}: {exc}")
    else:
        verb = "materializing" if step.kind == "asset" else "running"
        exc.add_note(f"while {verb} {step.label}{where}")
        outcome = _outcome(step, "failed", error=exc, reason=f"{type(exc).__name__}: {exc}")
    outcome.logs = list(getattr(exc, "_wharf_logs", ()))
    outcome.retries = list(getattr(exc, "_wharf_retries", ()))
    if isinstance(exc, Failure):  # the body's own description and metadata
        outcome.metadata = normalize_metadata(exc.metadata)
    return outcome


class RunListener:
    """Receives progress while a run goes (the CLI's live display implements this)."""

    def on_start(self, key: AssetKey) -> None:
        """A step started (``key``: its :attr:`StepOutcome.key`)."""

    def on_finish(self, outcome: StepOutcome) -> None:
        """A step succeeded, failed or was skipped."""

    def on_log(self, key: AssetKey, line: LogLine) -> None:
        """A step running in this process logged a line (workers' lines come with
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
    #: the steps of the run (None only outside runs: ``load_asset_value``)
    plan: ExecutionPlan | None = None
    #: the run's tags
    tags: Mapping[str, str] = field(default_factory=dict)
    #: node name -> output name -> output config, from the run config
    output_configs: Mapping[str, Any] = field(default_factory=dict)
    #: the job (or asset job) the run belongs to
    job_name: str | None = None
    #: each configured step's config, checked before the run (``run_config.resolve_run_config``),
    #: by the step's key (the node's op name)
    op_config: dict[str, Any] = field(default_factory=dict)
    #: the retry policy of steps that have none of their own (a job's ``op_retry_policy``)
    retry_policy: Any = None
    #: the versions of the run (None: the run keeps no history); see ``_core.staleness``
    versions: Any = None
    #: an op job's graph nodes: node key -> output name -> the op output it is (``Ref``)
    graph_outputs: Mapping[str, Any] = field(default_factory=dict)
    #: the job that ran (an op job), for ``result.job_def``
    job_def: Any = None
    #: a range run's partitions (``partition_key_range=``, a single-run backfill); None: the
    #: run has ``partition_key`` alone, or no partition
    partition_keys: tuple[str, ...] | None = None
    #: (upstream key, downstream key, mapping id, partition) -> the upstream partitions read
    _upstream: dict[tuple[Any, Any, int, str | None], tuple[str, ...] | None] = field(
        default_factory=dict, repr=False
    )

    @property
    def run_partition_keys(self) -> tuple[str, ...] | None:
        """Every partition the run materializes (None: the run has no partition)."""
        if self.partition_keys is not None:
            return self.partition_keys
        return None if self.partition_key is None else (self.partition_key,)

    def own_partitions(self, key: AssetKey) -> tuple[str, ...] | None:
        """The partitions of ``key`` this run stores: the run's keys if the asset is
        partitioned."""
        if self.graph.by_key[key].partitions_def is None:
            return None
        return self.run_partition_keys

    def upstream_partitions(
        self,
        key: AssetKey,
        downstream: AssetsDefinition | None,
        mapping: Any = None,
        partition: str | None = None,
    ) -> tuple[str, ...] | None:
        """The partitions of ``key`` an input of ``downstream`` loads (None: not partitioned);
        with ``partition``, those that one partition of a range run reads.

        Without ``downstream`` (``asset_value``, ``load_asset_value``) the run's own partition
        of a partitioned asset, or every partition when the run has none.
        """
        slot = (key, downstream.key if downstream is not None else None, id(mapping), partition)
        if slot not in self._upstream:  # asked once per input (and per partition of a range)
            found = upstream_partition_keys(self, key, downstream, mapping, partition)
            self._upstream[slot] = found
        return self._upstream[slot]

    def step(self, key: str) -> Step:
        assert self.plan is not None
        return self.plan.steps[key]


def _load_input(run: RunContext, step: Step, inp: StepInput) -> tuple[bool, Any, Any]:
    """(pass it?, the value, its partitions) for one input of ``step``."""
    if inp.asset_key is not None:
        parts = upstream_partitions(run, step, inp)
        value = load_asset_input(
            run, inp.asset_key, annotation=inp.annotation, name=inp.name, metadata=inp.metadata,
            for_asset=step.label if step.kind == "op" else _asset_label(step), partitions=parts,
            input_manager_key=inp.input_manager_key, step=step if step.kind == "op" else None,
        )  # fmt: skip
        return True, value, parts
    if inp.nothing:
        return False, None, None
    if not inp.sources:
        if inp.fan_in:
            return True, [], None
        if inp.default is not NO_DEFAULT:
            return True, inp.default, None
        if inp.input_manager_key is not None:  # a root input loaded by its input manager
            return True, _load_root(run, step, inp), None
        return True, None, None
    values = [load_source(run, step, inp, src, run.step(src.step)) for src in inp.sources]
    return True, (values if inp.fan_in else values[0]), None


def _load_root(run: RunContext, step: Step, inp: StepInput) -> Any:
    from wharf._core.contexts import InputContext, TypeInfo

    assert inp.input_manager_key is not None
    ctx = InputContext(
        name=inp.name, definition_metadata=dict(inp.metadata),
        dagster_type=TypeInfo(inp.annotation), resources=Resources(run.resources.instances),
        resource_config=run.resources.configs.get(inp.input_manager_key, {}),
        step_key=step.key, run_id=run.run_id, partition_key=run.partition_key,
        instance=run.instance, op_def=step.node, config=inp.config,
    )  # fmt: skip
    manager = run.resources.input_manager(inp.input_manager_key, asset=step.label)
    try:
        return manager.load_input(ctx)
    except BaseException as exc:
        exc.add_note(f"while loading input {inp.name!r} of {step.label} with input manager "
                     f"{inp.input_manager_key!r} ({manager_name(manager)})")  # fmt: skip
        raise


def _asset_label(step: Step) -> str:
    keys = step.asset_keys
    return keys[0].to_user_string() if len(keys) == 1 else step.key


#: builds the execution context of a step: ``(run, step, input partitions) -> context``.
#: Ops set their own (``OpExecutionContext``) through ``Step.node``'s ``make_context``.
ContextFactory = Callable[[RunContext, Step, Mapping[str, Any]], Any]


def asset_context(
    run: RunContext, step: Step, in_parts: Mapping[str, Any], cls: type = AssetExecutionContext
) -> Any:
    """The ``AssetExecutionContext`` of an asset (or multi-asset) step (``cls``: the context
    class, ``OpExecutionContext`` for an op)."""
    keys = step.asset_keys
    ctx = cls(
        asset_key=keys[0] if len(keys) == 1 else None,
        resources=Resources(run.resources.instances),
        run_id=run.run_id,
        partition_key_or_none=run.partition_key if step.partitions_def else None,
        partition_keys_or_none=run.run_partition_keys if step.partitions_def else None,
        input_keys={i.name: i.asset_key for i in step.inputs if i.asset_key is not None},
        partitions_def=step.partitions_def,
        input_partitions={
            i.name: (in_parts.get(i.name), run.graph.by_key[i.asset_key].partitions_def)
            for i in step.inputs
            if i.asset_key is not None
        },
        instance=run.instance,
        log=STEP_LOGGER,
    )
    ctx.selected_asset_keys = set(keys)
    ctx.selected_output_names = set(step.outputs)
    ctx.op_def = step.node
    ctx.step_key = step.key
    ctx.op_config = step.config
    ctx.run_tags = dict(run.tags)
    return ctx


def run_step(run: RunContext, step: Step) -> StepOutcome:
    """Run one step with its logs captured (they ride on the outcome, or on the exception as
    ``_wharf_logs`` for :func:`failed_outcome`). Raises on failure."""
    policy = getattr(step.node, "retry_policy", None) or run.retry_policy
    retries: list[tuple[float, float, str]] = []
    with capture_step_logs(step.display_key, run.resources.secret_values) as lines:
        while True:
            began = time.time()
            try:
                outcome = _run_step_once(run, step)
                break
            except BaseException as exc:
                wait = retry_wait(exc, policy, len(retries))
                if wait is None:
                    with contextlib.suppress(AttributeError, TypeError):  # no __dict__
                        exc._wharf_logs = list(lines)  # type: ignore[attr-defined]
                        exc._wharf_retries = retries  # type: ignore[attr-defined]
                    raise
                retries.append((began, time.time() - began, f"{type(exc).__name__}: {exc}"))
                STEP_LOGGER.warning(
                    "attempt %d of %s failed (%s: %s); retrying in %.2fs",
                    len(retries), step.label, type(exc).__name__, exc, wait,
                )  # fmt: skip
                time.sleep(wait)
    outcome.logs = list(lines)
    outcome.retries = retries
    outcome.started_at = began
    return outcome


def _run_step_once(run: RunContext, step: Step) -> StepOutcome:
    """Load inputs, call the function, check and store every output. Raises on failure."""
    start = time.perf_counter()
    kwargs: dict[str, Any] = {}
    in_parts: dict[str, Any] = {}
    loaded: list[str] = []
    for inp in step.inputs:
        passed, value, parts = _load_input(run, step, inp)
        if passed and step.kind == "op" and inp.sources and not inp.fan_in:
            check_input(step, inp, value)
        if passed:
            kwargs[inp.name] = value
            loaded.append(inp.name)
        in_parts[inp.name] = parts
    for param, rkey in step.resource_params.items():
        kwargs[param] = run.resources.instances[rkey]
    step_config = step.config if step.config is not None else run.op_config.get(step.key)
    if step.config_param and step_config is not None:
        kwargs[step.config_param] = step_config.value
    exec_ctx = None
    if step.context_param:
        make = getattr(step.node, "make_context", None) or asset_context
        exec_ctx = make(run, step, in_parts)
        if step_config is not None:
            exec_ctx.op_config = step_config.as_dict
        kwargs[step.context_param] = exec_ctx
    produced = collect(step, step.fn(**kwargs))
    produced.reported[:0] = getattr(exec_ctx, "_logged_events", [])  # context.log_event(...)
    added = exec_ctx._added_metadata if exec_ctx is not None else {}
    per_output = getattr(exec_ctx, "_output_metadata", {}) if exec_ctx is not None else {}
    records: dict[str, OutputRecord] = {}
    for e in produced.emitted:
        out = step.outputs[e.output]
        record = records.get(out.name) or OutputRecord(
            out.name, out.asset_key, False, io_manager_key=out.io_manager_key
        )
        records[out.name] = record
        meta = {**(added if len(step.outputs) == 1 else {}), **per_output.get(out.name, {})}
        meta.update(e.metadata)
        if e.mapping_key is not None:
            record.mapping_keys.append(e.mapping_key)
        if e.store and not out.nothing:
            parts = run.own_partitions(out.asset_key) if out.asset_key is not None else None
            if out.asset_key is not None and out.asset_key not in run.graph.by_key:
                parts = None
            meta.update(_store_output(run, step, out, e, parts, record=record))
        if e.data_version is not None:
            record.data_version = version_text(e.data_version)
        record.metadata.update(meta)
    if getattr(step.node, "check_specs", None):  # after storing: the asset stays stored
        from wharf._core.checks import enforce_spec_checks

        enforce_spec_checks(step.node, produced.reported, step.asset_keys)
    first = next(iter(records.values()), None)
    return _outcome(
        step, "success", duration_s=time.perf_counter() - start,
        metadata=dict(first.metadata) if first else dict(added),
        stored=bool(first and first.stored), outputs=records, reported=produced.reported,
        loaded_inputs=loaded, input_loads=_loaded_inputs_data(run, step, loaded),
    )  # fmt: skip


def _store_output(
    run: RunContext, step: Step, out: Any, e: Any, parts: Any, *, record: OutputRecord
) -> dict[str, MetadataValue]:
    """Hand one value to its I/O manager; the manager's metadata. Without a data version from
    the body, the store's fingerprint (fed while it writes) becomes the record's."""
    manager = run.resources.io_manager(out.io_manager_key, asset=_out_label(step, out))
    ctx = step_output_context(run, step, out, mapping_key=e.mapping_key, partitions=parts)
    fingerprint = Fingerprint() if e.data_version is None else None
    token = FINGERPRINT.set(fingerprint)
    try:
        manager.handle_output(ctx, e.value)
    except BaseException as exc:
        exc.add_note(f"while storing output {out.name!r} of {step.label} with I/O manager "
                     f"{out.io_manager_key!r}")  # fmt: skip
        raise
    finally:
        FINGERPRINT.reset(token)
    if fingerprint is not None and fingerprint.used:
        record.data_version = fingerprint.hexdigest()
    record.stored = True
    return dict(ctx.consume_logged_metadata())


def _loaded_inputs_data(run: RunContext, step: Step, loaded: list[str]) -> list[LoadedInputData]:
    return [d for i in step.inputs if i.name in loaded for d in _loaded_input_data(run, i)]


def _loaded_input_data(run: RunContext, inp: StepInput) -> list[LoadedInputData]:
    """What the ``LOADED_INPUT`` events of one input say: the manager that loaded it and the
    upstream step and output (none for a default value or an empty fan-in)."""
    if inp.asset_key is not None:
        manager = inp.input_manager_key or io_manager_key_of(run.graph, inp.asset_key)
        upstream = inp.asset_key.to_python_identifier()
        return [LoadedInputData(inp.name, manager, "result", upstream)]
    found = []
    for src in inp.sources:
        out = run.step(src.step).outputs.get(src.output)
        key = inp.input_manager_key or (out.io_manager_key if out is not None else None)
        found.append(LoadedInputData(inp.name, key, src.output, src.step))
    if not inp.sources and inp.input_manager_key is not None and inp.default is NO_DEFAULT:
        found.append(LoadedInputData(inp.name, inp.input_manager_key))
    return found


def _out_label(step: Step, out: Any) -> str:
    if out.asset_key is not None:
        return str(out.asset_key.to_user_string())
    return f"{step.key}.{out.name}" if out.name != "result" else step.key


def execute_in_process(
    run: RunContext,
    selected: Sequence[Any] | None = None,
    *,
    listener: RunListener | None = None,
    history: RunHistory | None = None,
) -> list[StepOutcome]:
    """Run the plan's steps in order in this process; a failure skips its dependants, the
    others still run."""
    from wharf._core.executors import schedule

    done: dict[str, StepOutcome] = {}

    def start(key: str) -> str:
        step = run.step(key)
        try:
            done[key] = run_step(run, step)
        except BaseException as exc:  # a library's panic too (pyo3: a BaseException)
            done[key] = failed_outcome(step, exc)
            _LOG.error(  # the CLI prints failures itself and drops these records
                "%s failed: %s", step.label, exc, extra={"wharf_failure": True}
            )
        return key

    def collect_done(handles: list[Any]) -> list[tuple[Any, StepOutcome]]:
        return [(h, done.pop(h)) for h in handles]

    token = LIVE_SINK.set(listener.on_log if listener else None)
    try:
        return schedule(
            run, _step_keys(run, selected), start=start, collect=collect_done, limit=1,
            listener=listener, history=history, in_process=True,
        )  # fmt: skip
    finally:
        LIVE_SINK.reset(token)


def _step_keys(run: RunContext, selected: Sequence[Any] | None) -> list[str]:
    """The plan's step keys (``selected`` is kept for executors called the older way)."""
    assert run.plan is not None
    return list(run.plan.order)


def record_outcome(
    history: RunHistory, run: RunContext, step: Any, o: StepOutcome, t0: float
) -> None:
    """Write the history rows of one finished step: one per asset it was to materialize (an
    op step: one row under its step key). ``t0``: when the step was started, unless the
    outcome knows when its last attempt began where it ran."""
    t0 = o.started_at if o.started_at is not None else t0
    error = None
    if o.error is not None:
        error = "".join(traceback.format_exception(o.error)).strip()
    rows: list[tuple[str, dict[str, MetadataValue], str | None, str | None]] = []
    versions: dict[
        tuple[str, str | None], tuple[str | None, str | None, dict[str, str | None] | None]
    ] = {}
    for key in o.asset_keys:
        record = o.stored_asset(key)
        if o.status == "success" and record is None:
            continue  # an optional output the step did not produce: no materialization
        item = run.graph.by_key.get(key)
        meta = record.metadata if record is not None else {}
        im = record.io_manager_key if record is not None else _io_key(run, key)
        parts = run.run_partition_keys if item is not None and item.partitions_def else None
        for part in parts or (None,):  # a range run: one row per partition, as Dagster
            rows.append((key.to_user_string(), meta, part, im))
            versions[key.to_user_string(), part] = _versions(run, key, part, o, record)
    check = getattr(step, "node", None) if getattr(step, "kind", "") == "check" else None
    if check is not None:  # kept as ASSET#CHECK, with the evaluation as its metadata
        from wharf._core.checks import check_record_metadata

        rows.append((check.check_key, check_record_metadata(o, check), None, None))
    elif getattr(getattr(step, "node", None), "check_specs", None):
        from wharf._core.checks import spec_history_rows

        rows.extend((k, meta, None, None) for k, meta in spec_history_rows(o, step.node))
    if not o.asset_keys and check is None:
        first = next(iter(o.outputs.values()), None)
        rows.append((o.step_key, o.metadata, run.partition_key,
                     first.io_manager_key if first else None))  # fmt: skip
    for asset_key, _, part, im in rows:
        for began, took, why in o.retries:  # each earlier attempt is a row of its own
            history.record(
                run_id=run.run_id, asset_key=asset_key, status="retried", started_at=began,
                duration_s=took, metadata="{}", partition_key=part, io_manager=im, error=why,
            )  # fmt: skip
    texts: dict[int, tuple[str, Any]] = {}  # a range run's rows share one metadata dict
    with history.batch() if len(rows) > 1 else contextlib.nullcontext():
        for asset_key, meta, part, im in rows:
            code, data, inputs = versions.get((asset_key, part), (None, None, None))
            if id(meta) not in texts:
                texts[id(meta)] = (metadata_to_json(meta), metadata_kinds(meta))
            text, kinds = texts[id(meta)]
            history.record(
                run_id=run.run_id, asset_key=asset_key, status=o.status, started_at=t0,
                duration_s=o.duration_s, metadata=text, partition_key=part,
                io_manager=im, error=error or o.reason, code_version=code, data_version=data,
                input_versions=inputs, metadata_kinds=kinds,
            )  # fmt: skip
    _record_observations(history, run, o, t0)
    history.record_logs(run.run_id, o.key.to_user_string(), o.logs)


def _record_observations(history: RunHistory, run: RunContext, o: StepOutcome, t0: float) -> None:
    """An ``AssetObservation`` with a data version (an observable source asset's) is a history
    row of its own (status ``observed``): downstream assets' staleness compares with it."""
    if o.status != "success":
        return
    for event in o.reported:
        version = getattr(event, "tags", {}).get(DATA_VERSION_TAG)
        if not isinstance(event, AssetObservation) or version is None:
            continue
        key = event.asset_key.to_user_string()
        history.record(
            run_id=run.run_id, asset_key=key, status="observed", started_at=t0,
            duration_s=o.duration_s, metadata=metadata_to_json(event.metadata),
            partition_key=event.partition, data_version=str(version),
            metadata_kinds=metadata_kinds(event.metadata),
        )  # fmt: skip
        if run.versions is not None:
            run.versions.remember(event.asset_key, event.partition, str(version))


def _versions(
    run: RunContext, key: AssetKey, part: str | None, o: StepOutcome, record: OutputRecord | None
) -> tuple[str | None, str | None, dict[str, str | None] | None]:
    """(code version, data version, input data versions) of one asset row of ``o``."""
    tracker = run.versions
    if tracker is None or key not in run.graph.by_key or o.status not in ("success", "unchanged"):
        return None, None, None
    code = tracker.code_version(key)
    inputs = tracker.input_versions(run, key, part)
    if o.status == "unchanged":
        return code, tracker.data_version(key, part), inputs
    data = record.data_version if record is not None else None
    data = data or combined_version(code, inputs)
    tracker.remember(key, part, data)
    return code, data, inputs


def _io_key(run: RunContext, key: AssetKey) -> str | None:
    return io_manager_key_of(run.graph, key) if key in run.graph.by_key else None


def new_run_id() -> str:
    return uuid.uuid4().hex


Executor = Callable[..., list[StepOutcome]]


def run_plan(
    graph: AssetGraph,
    plan: ExecutionPlan,
    resources: Mapping[str, Any],
    resource_keys: Mapping[str, str],
    *,
    partition_key: str | None = None,
    partition_keys: Sequence[str] | None = None,
    listener: RunListener | None = None,
    history: RunHistory | None = None,
    executor: Executor = execute_in_process,
    instance: Any = None,
    current_time: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    output_configs: Mapping[str, Any] | None = None,
    job_name: str | None = None,
    run_id: str | None = None,
    op_config: Mapping[str, Any] | None = None,
    retry_policy: Any = None,
    skip_unchanged: bool = False,
) -> tuple[RunContext, list[StepOutcome]]:
    """Set up ``resource_keys`` of ``resources``, run ``plan``, tear the resources down.

    With a ``history`` the run records code and data versions; ``skip_unchanged`` then skips
    assets whose versions did not change (see :mod:`wharf._core.staleness`).
    """
    from wharf._core.staleness import VersionTracker

    if skip_unchanged and history is None:
        from wharf.errors import DefinitionError

        msg = (
            "skip_unchanged=True needs the run history, which holds the versions to compare "
            "with: expected record_history=True"
        )
        raise DefinitionError(msg, expected="record_history=True", got="no history")
    run_id = run_id or new_run_id()
    run_resources = RunResources(resources, resource_keys, run_id, instance)
    run = RunContext(graph, run_resources, run_id, partition_key, instance, plan=plan,
                     tags=dict(tags or {}), output_configs=dict(output_configs or {}),
                     job_name=job_name, op_config=dict(op_config or {}),
                     retry_policy=retry_policy,
                     partition_keys=tuple(partition_keys) if partition_keys else None)  # fmt: skip
    if history is not None:
        run.versions = VersionTracker.load(graph, history, skip_unchanged=skip_unchanged)
    if current_time is not None:
        run.current_time = current_time
    if getattr(executor, "isolated", False):
        # each worker sets up its own resources; here only fail early on a missing EnvVar
        run_resources.resolve_env()
        outcomes = executor(run, plan.order, listener=listener, history=history)
        with run_resources:  # so the result can load what the workers stored
            pass
        return run, outcomes
    with run_resources:
        outcomes = executor(run, plan.order, listener=listener, history=history)
    return run, outcomes


def run_graph(
    graph: AssetGraph,
    selected: Sequence[AssetKey],
    resources: Mapping[str, Any],
    *,
    graph_ops: Mapping[str, Any] | None = None,
    **options: Any,
) -> tuple[RunContext, list[StepOutcome]]:
    """Plan the selected assets as steps (``graph_ops``: the run config's inner ops' entries
    of graph assets, by name), then :func:`run_plan` them (``options``: its keywords)."""
    from wharf._core.asset_plan import plan_assets

    plan = plan_assets(graph, selected, graph_ops)
    return run_plan(graph, plan, resources, needed_resource_keys(graph, selected), **options)
