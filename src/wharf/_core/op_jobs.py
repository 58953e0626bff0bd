"""Op jobs: ``@job`` and ``graph.to_job()`` bind a graph to resources, config, an executor and
tags; ``execute_in_process`` (and the CLI's ``--job``) run its ops as steps of the one engine
(:func:`wharf._core.execution.run_plan`), with the same executors, I/O managers, events and run
history as assets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from wharf._core.composition import GraphDefinition
from wharf._core.jobs import JobDefinition, check_job_name
from wharf._core.op_plan import build_plan, flatten_job, select_steps
from wharf._core.plan import ExecutionPlan, Step
from wharf._core.resources import with_default_io_manager
from wharf._core.retries import check_retry_policy
from wharf.errors import ConfigError, DefinitionError, MissingResourceError

if TYPE_CHECKING:
    from wharf._core.definitions import Definitions
    from wharf._core.run_result import ExecuteInProcessResult

__all__ = ["OpJobDefinition", "job"]


class OpJobDefinition(JobDefinition):
    """A job that runs a graph of ops (from ``@job`` or ``GraphDefinition.to_job``).

    Examples:
        >>> import wharf as dg
        >>> @dg.op
        ... def hello() -> str:
        ...     return "hi"
        >>> @dg.job(resource_defs={"io_manager": dg.InMemoryIOManager()})
        ... def greet():
        ...     hello()
        >>> result = greet.execute_in_process()
        >>> result.success, result.output_for_node("hello")
        (True, 'hi')
    """

    def __init__(  # noqa: PLR0917 (Dagster's positional order)
        self,
        graph_def: GraphDefinition,
        name: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        config: Any = None,
        executor_def: Any = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        partitions_def: Any = None,
        op_retry_policy: Any = None,
        input_values: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        run_tags: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> None:
        from wharf._core.executors import resolve_executor

        self.graph = graph_def
        self.name = check_job_name(name or graph_def.name)
        self._spec = self  # type: ignore[assignment] # Definitions(jobs=[...]) resolves _spec
        self._defs: Definitions | None = None  # type: ignore[assignment]
        self.resource_defs = dict(resource_defs or {})
        self.config = config
        if executor_def is not None:
            resolve_executor(executor_def)
        self.executor_def = executor_def
        self.tags = {k: str(v) for k, v in {**graph_def.tags, **(tags or {})}.items()}
        self.run_tags = {**self.tags, **{k: str(v) for k, v in (run_tags or {}).items()}}
        self.description = description or graph_def.description
        self.metadata = dict(metadata or {})
        self.partitions_def = partitions_def
        self.op_retry_policy = check_retry_policy(op_retry_policy, f"job {self.name!r}: op")
        self.input_values = dict(input_values or {})
        self.asset_keys = ()

    # -- Definitions -------------------------------------------------------------------------
    def resolve(self, defs: Definitions) -> OpJobDefinition:
        """This job bound to ``defs``: their resources, under the job's own."""
        import copy

        bound = copy.copy(self)
        bound._defs = defs
        return bound

    @property
    def graph_def(self) -> GraphDefinition:
        return self.graph

    @property
    def selection(self) -> Any:
        return None

    @property
    def node_names(self) -> list[str]:
        return [n.name for n in self.graph.nodes]

    def _resources(self, extra: Mapping[str, Any] | None, in_memory: bool) -> dict[str, Any]:
        """The run's resources; without an ``io_manager``, the default: in memory for
        ``execute_in_process`` (as Dagster's), else a ``FilesystemIOManager``."""
        base = dict(self._defs.resources) if self._defs is not None else {}
        found = {**base, **self.resource_defs, **(extra or {})}
        if in_memory and "io_manager" not in found:
            from wharf._core.io_managers import built_in

            found["io_manager"] = built_in("memory")
        return with_default_io_manager(found)

    # -- running -----------------------------------------------------------------------------
    def plan(self, run_config: Any = None, op_selection: Any = None) -> tuple[
        ExecutionPlan, dict[str, Any], dict[str, Any]
    ]:  # fmt: skip
        """(the plan, output configs, graph outputs) of one run with ``run_config``."""
        ops = _ops_section(run_config)
        steps, templates, out_configs, outputs = flatten_job(
            self.graph, ops, partitions_def=self.partitions_def, input_values=self.input_values
        )
        steps, templates = select_steps(steps, templates, op_selection)
        return build_plan(steps, templates), out_configs, outputs

    def execute_in_process(  # type: ignore[override] # noqa: PLR0917 (Dagster's order)
        self,
        run_config: Any = None,
        instance: Any = None,
        partition_key: str | None = None,
        raise_on_error: bool = True,
        op_selection: Any = None,
        run_id: str | None = None,
        input_values: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        resources: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> ExecuteInProcessResult:
        """Run the job's ops in this process (the in-process executor, whatever the job's);
        without an ``io_manager`` resource, outputs are kept in memory, as Dagster does."""
        from wharf._core.execution import execute_in_process

        job_def = copy_with_inputs(self, input_values) if input_values else self
        return job_def.run(
            run_config=run_config, instance=instance, partition_key=partition_key,
            raise_on_error=raise_on_error, op_selection=op_selection, run_id=run_id, tags=tags,
            resources=resources, executor=execute_in_process, in_memory=True, **kwargs,
        )  # fmt: skip

    def run(
        self,
        *,
        run_config: Any = None,
        resources: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        executor: Any = None,
        instance: Any = None,
        partition_key: str | None = None,
        raise_on_error: bool = True,
        op_selection: Any = None,
        run_id: str | None = None,
        listener: Any = None,
        record_history: bool = True,
        asset_selection: Any = None,
        in_memory: bool = False,
        **_: Any,
    ) -> ExecuteInProcessResult:
        """Run the job with its defaults (executor, config, tags); the CLI's entry point."""
        from wharf._core.execution import run_plan
        from wharf._core.executors import resolve_executor
        from wharf._core.graph import AssetGraph
        from wharf._core.instance import DagsterInstance
        from wharf._core.materialize import check_isolated, raise_first_failure
        from wharf._core.resources import plan_resource_keys
        from wharf._core.run_config import resolve_resources, split_resources
        from wharf._core.run_result import ExecuteInProcessResult

        del asset_selection
        config = run_config if run_config is not None else self.config
        plan, out_configs, outputs = self.plan(config, op_selection)
        graph = AssetGraph([])
        every = [*plan.steps.values(), *(t for ts in plan.mapped.values() for t in ts)]
        needed = plan_resource_keys(graph, every)
        given = self._resources(resources, in_memory)
        all_resources = resolve_resources(given, split_resources(config), needed)
        check_step_resources(every, all_resources)
        if executor is None:
            executor = self.executor_def
            if executor is None and self._defs is not None:
                executor = self._defs.executor
        run_executor = resolve_executor(executor)
        check_isolated(run_executor, {k: v for k, v in all_resources.items() if k in needed})
        instance = instance if instance is not None else DagsterInstance.get()
        key = self._partition(partition_key, instance)
        history = instance.run_history() if record_history else None
        try:
            run, outcomes = run_plan(
                graph, plan, all_resources, needed, partition_key=key, listener=listener,
                history=history, executor=run_executor, instance=instance,
                current_time=datetime.now(UTC), tags={**self.run_tags, **(tags or {})},
                output_configs=out_configs, job_name=self.name, run_id=run_id,
                retry_policy=self.op_retry_policy,
            )  # fmt: skip
        finally:
            if history is not None:
                history.close()
        run.graph_outputs, run.job_def = outputs, self
        result = ExecuteInProcessResult(run, outcomes)
        if raise_on_error:
            raise_first_failure(result)
        return result

    def check_resources(self) -> None:
        """Before anything runs (``Definitions.validate_loadable``, the CLI's loader): every
        I/O manager, input manager and resource the job's ops need is given. A plan that needs
        run config to be built is checked when it runs."""
        try:
            plan = self.plan(self.config)[0]
        except (ConfigError, DefinitionError):
            return
        every = [*plan.steps.values(), *(t for ts in plan.mapped.values() for t in ts)]
        check_step_resources(every, self._resources(None, in_memory=True))

    def _partition(self, partition_key: str | None, instance: Any) -> str | None:
        if partition_key is None or self.partitions_def is None:
            if partition_key is not None:
                from wharf._core.partitioning.definitions import check_partition_key

                return check_partition_key(partition_key)
            return None
        pdef = self.partitions_def
        found = pdef.check_key(partition_key, asset=f"job {self.name}",
                               dynamic_partitions_store=instance)  # fmt: skip
        return str(found)

    def step_keys(self, run_config: Any = None) -> list[str]:
        """The keys of the steps a run starts with (mapped copies join while it runs)."""
        return list(self.plan(run_config if run_config is not None else self.config)[0].order)

    def __repr__(self) -> str:
        return f"OpJobDefinition(name={self.name!r}, ops={self.node_names})"


def copy_with_inputs(job_def: OpJobDefinition, values: Mapping[str, Any]) -> OpJobDefinition:
    import copy

    made = copy.copy(job_def)
    made.input_values = {**job_def.input_values, **values}
    return made


def _ops_section(run_config: Any) -> Any:
    """The ``ops:`` part of a run config (a ``RunConfig``'s ops as ``{name: {"config": v}}``)."""
    from wharf._core.run_config import RunConfig

    if run_config is None:
        return None
    if isinstance(run_config, RunConfig):
        return {name: {"config": value} for name, value in run_config.ops.items()}
    if not isinstance(run_config, Mapping):
        msg = f"run config {run_config!r}: expected a RunConfig or a dict with ops/resources"
        raise ConfigError(msg, expected="a RunConfig or a dict", got=type(run_config).__name__)
    return run_config.get("ops")


def check_step_resources(steps: list[Step], resources: Mapping[str, Any]) -> None:
    """Before any step runs: each output's I/O manager, each input manager and each required
    resource has a resource; the error names the op, the output or input, and the key."""
    for step in steps:
        wanted = [(o.io_manager_key, f"stores its output {o.name!r} with io_manager_key")
                  for o in step.outputs.values() if not o.nothing]  # fmt: skip
        wanted += [(i.input_manager_key, f"loads its input {i.name!r} with input_manager_key")
                   for i in step.inputs if i.input_manager_key is not None]  # fmt: skip
        wanted += [(rk, "requires the resource") for rk in sorted(step.required_resource_keys)]
        for key, what in wanted:
            if key in resources:
                continue
            known = ", ".join(sorted(resources)) or "none"
            msg = (
                f"{step.label} {what} {key!r}, but no resource has that key: expected one of "
                f"[{known}]; add it to the job's resource_defs= (or the run's resources=)"
            )
            raise MissingResourceError(msg, asset=step.key, io_manager=key, expected=known,
                                       got=key)  # fmt: skip


def job(fn: Any = None, /, **kwargs: Any) -> Any:
    """Declare a job: its body wires ops as a ``@graph`` body does; the arguments bind it
    (``resource_defs``, ``config``, ``executor_def``, ``tags``, ``partitions_def``,
    ``op_retry_policy``, ``description``, ``name``)."""

    def wrap(f: Any) -> OpJobDefinition:
        name = str(kwargs.get("name") or getattr(f, "__name__", "job"))
        g = GraphDefinition._traced(f, name, description=kwargs.get("description"))
        return OpJobDefinition(g, **{**kwargs, "name": name})

    return wrap(fn) if fn is not None else wrap
