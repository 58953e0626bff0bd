"""The result of a run (``materialize``, ``job.execute_in_process``): outcomes, events, values."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wharf._core.assets import AssetsDefinition
from wharf._core.event_data import StepMaterializationData
from wharf._core.events import AssetMaterialization, RunEvent, check_events, step_events
from wharf._core.execution import OutputRecord, RunContext, StepOutcome, load_asset_input
from wharf._core.keys import AssetKey, to_asset_key
from wharf._core.plan import Source, Step, StepInput
from wharf._core.step_io import load_source
from wharf._core.typecheck import value_annotation
from wharf.errors import AssetExecutionError, UnknownAssetError


class ExecuteInProcessResult:
    """The outcome of a run: success, per-step outcomes, events, and the stored values.

    ``outcomes`` has one :class:`~wharf._core.execution.StepOutcome` per step, in the order
    the steps finished.
    """

    def __init__(self, run: RunContext, outcomes: list[StepOutcome]) -> None:
        self._run = run
        self.outcomes = outcomes
        self.run_id = run.run_id

    def get_asset_check_evaluations(self) -> list[Any]:
        """Every asset check evaluation of the run (``AssetCheckEvaluation``), in order."""
        from wharf._core.checks import evaluations

        return evaluations(self.outcomes, self._run.graph)

    @property
    def success(self) -> bool:
        return all(o.status in ("success", "unchanged") or o.benign for o in self.outcomes)

    @property
    def job_def(self) -> Any:
        return self._run.job_def

    @property
    def failures(self) -> dict[AssetKey, BaseException | str]:
        """Failed or skipped steps with the error (or the reason they were skipped)."""
        return {
            o.key: o.error or o.reason or o.status
            for o in self.outcomes
            if o.status not in ("success", "unchanged") and not o.benign
        }

    def outcome(self, key: Any) -> StepOutcome:
        """The outcome of the step that materialized asset ``key`` (or has that step key)."""
        wanted = to_asset_key(key)
        for o in self.outcomes:
            if wanted in o.asset_keys or o.key == wanted:
                return o
        msg = f"asset {wanted.to_user_string()!r} was not part of run {self.run_id}"
        raise UnknownAssetError(msg, asset=wanted.to_user_string(), expected="an asset of the run")

    @property
    def partition_key(self) -> str | None:
        """The run's partition key (None for an unpartitioned run)."""
        return self._run.partition_key

    # -- events -----------------------------------------------------------------------------
    @property
    def all_events(self) -> list[RunEvent]:
        """Every event of the run, step by step in the order the steps finished."""
        from wharf._core.checks import evaluations

        events = [RunEvent("PIPELINE_START", None, "")]
        for o in self.outcomes:
            own = [self._partitioned(e) for e in step_events(o)]
            checks = check_events(own[-1].step_key, evaluations([o], self._run.graph))
            events.extend([*own[:-1], *checks, own[-1]] if checks else own)
        last = "PIPELINE_SUCCESS" if self.success else "PIPELINE_FAILURE"
        events.append(RunEvent(last, None, ""))
        return events

    @property
    def all_node_events(self) -> list[RunEvent]:
        """The events of the run's steps (every event but the run's own)."""
        return [e for e in self.all_events if e.step_key]

    def get_failed_step_keys(self) -> set[str]:
        """The keys of the steps that failed."""
        return {o.step_key for o in self.outcomes if o.status == "failed"}

    def _partitioned(self, event: RunEvent) -> RunEvent:
        mat = event.materialization
        if mat is None or event.asset_key is None or event.asset_key not in self._run.graph.by_key:
            return event
        own = self._run.own_partitions(event.asset_key)
        part = own[0] if own else None
        fixed = AssetMaterialization(mat.asset_key, mat.metadata, part, mat.description,
                                     mat.tags)  # fmt: skip
        return replace(event, materialization=fixed,
                       event_specific_data=StepMaterializationData(fixed))  # fmt: skip

    def get_asset_materialization_events(self) -> list[RunEvent]:
        return [e for e in self.all_events if e.event_type_value == "ASSET_MATERIALIZATION"]

    def get_asset_observation_events(self) -> list[RunEvent]:
        return [e for e in self.all_events if e.event_type_value == "ASSET_OBSERVATION"]

    def get_step_success_events(self) -> list[RunEvent]:
        return [e for e in self.all_events if e.event_type_value == "STEP_SUCCESS"]

    def get_step_failure_events(self) -> list[RunEvent]:
        return [e for e in self.all_events if e.event_type_value == "STEP_FAILURE"]

    def events_for_node(self, node_name: str) -> list[RunEvent]:
        """The events of the steps of one node (an op's mapped copies included)."""
        return [e for e in self.all_events if e.step_key and e.node_name == node_name]

    def asset_materializations_for_node(self, node_name: str) -> list[AssetMaterialization]:
        return [
            e.materialization
            for e in self.get_asset_materialization_events()
            if e.node_name == node_name and e.materialization is not None
        ]

    # -- values -----------------------------------------------------------------------------
    def asset_value(self, asset_key: Any, python_type: Any = Any) -> Any:
        """Load the value the run stored for ``asset_key`` through its I/O manager.

        Without ``python_type`` the asset's return annotation says what type to load as.
        """
        key = to_asset_key(asset_key)
        outcome = self.outcome(key)
        name = key.to_user_string()
        unchanged = outcome.status == "unchanged"  # the stored value is the current one
        if outcome.status != "success" and not unchanged:  # an older run's value: not this
            why = outcome.reason or outcome.status
            msg = (
                f"asset {name!r} {outcome.status} in run {self.run_id} ({why}), so the run "
                "stored no value for it: expected a materialized asset"
            )
            raise AssetExecutionError(
                msg, asset=name, expected="success", got=outcome.status
            ) from outcome.error
        if not unchanged and outcome.stored_asset(key) is None and outcome.outputs:
            msg = (
                f"asset {name!r} was not materialized in run {self.run_id}: its step "
                f"{outcome.step_key!r} did not produce it (an optional output)"
            )
            raise AssetExecutionError(msg, asset=name, expected="success", got="not produced")
        item = self._run.graph.by_key[key]
        if python_type is Any and isinstance(item, AssetsDefinition):
            python_type = item.return_annotation
        partitions = self._run.upstream_partitions(key, None)
        return load_asset_input(self._run, key, annotation=python_type, partitions=partitions)

    def output_for_node(self, node_str: str, output_name: str = "result") -> Any:
        """The stored value of output ``output_name`` of the node (op or asset) ``node_str``.

        A dynamic output, or an op mapped over one, gives a dict of mapping key to value. A
        graph node (or a job's graph, by its name) gives the op output its output maps to.
        """
        steps = self._steps_of(node_str)
        outputs = self._run.graph_outputs
        job_graph = getattr(self.job_def, "graph", None)
        if not steps and (node_str in outputs or getattr(job_graph, "name", None) == node_str):
            ref = outputs.get(node_str, outputs.get("", {})).get(output_name)
            if ref is None:
                msg = f"graph {node_str!r} has no output {output_name!r} in run {self.run_id}"
                raise UnknownAssetError(msg, asset=node_str, expected="a graph output",
                                        got=output_name)  # fmt: skip
            return self.output_for_node(ref.step, ref.output)
        if not steps:
            msg = f"no node named {node_str!r} in run {self.run_id}"
            raise UnknownAssetError(msg, asset=node_str, expected="a node of the run")
        if len(steps) == 1 and steps[0][0].mapping_key is None:
            step, outcome = steps[0]
            record = self._record(step, outcome, output_name)
            if record.mapping_keys:
                return {k: self._load(step, output_name, k) for k in record.mapping_keys}
            out = step.outputs[output_name]
            if out.asset_key is not None and step.kind == "asset":
                return self.asset_value(out.asset_key)
            return self._load(step, output_name, None)
        return {
            step.mapping_key: self._load(step, output_name, None)
            for step, outcome in steps
            if self._record(step, outcome, output_name) is not None
        }

    def output_value(self, output_name: str = "result") -> Any:
        """The value of the job's graph output ``output_name`` (an op job's run)."""
        job_graph = getattr(self.job_def, "graph", None)
        if job_graph is None:
            msg = f"run {self.run_id} is not a run of a job of ops: it has no graph output"
            raise UnknownAssetError(msg, expected="a job of ops", got="an asset run")
        return self.output_for_node(job_graph.name, output_name)

    def _steps_of(self, node: str) -> list[tuple[Step, StepOutcome]]:
        plan = self._run.plan
        found = []
        for o in self.outcomes:
            names = {o.step_key, o.step_key.split("[", 1)[0], o.key.to_user_string()}
            if node in names and plan is not None and o.step_key in plan.steps:
                found.append((plan.steps[o.step_key], o))
        return found

    def _record(self, step: Step, outcome: StepOutcome, output_name: str) -> Any:
        if outcome.status == "unchanged" and output_name in step.outputs:
            return OutputRecord(output_name, step.outputs[output_name].asset_key, stored=True)
        if outcome.status != "success":
            msg = (
                f"{step.label} {outcome.status} in run {self.run_id} "
                f"({outcome.reason or outcome.status}), so it stored no output {output_name!r}"
            )
            raise AssetExecutionError(msg, asset=step.key, expected="success",
                                      got=outcome.status) from outcome.error  # fmt: skip
        if output_name not in step.outputs:
            known = ", ".join(repr(n) for n in step.outputs) or "none"
            msg = f"{step.label} has no output {output_name!r}: expected one of [{known}]"
            raise UnknownAssetError(msg, asset=step.key, expected=known, got=output_name)
        record = outcome.outputs.get(output_name)
        if record is None:
            msg = f"{step.label} did not produce its optional output {output_name!r} in this run"
            raise AssetExecutionError(msg, asset=step.key, expected="an output", got="none")
        return record

    def _load(self, step: Step, output_name: str, mapping_key: str | None) -> Any:
        out = step.outputs[output_name]
        reader = Step(
            key=f"{step.key}.result", kind="op", label=f"the result of run {self.run_id}",
            fn=lambda: None, inputs=(), outputs={}, mapping_key=None,
        )  # fmt: skip
        inp = StepInput(output_name, annotation=value_annotation(out.annotation))
        return load_source(self._run, reader, inp, Source(step.key, output_name, mapping_key),
                           step)  # fmt: skip
