"""``materialize`` and its result: the Python entry point of a run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from wharf._core.assets import AssetsDefinition
from wharf._core.execution import RunListener, run_graph
from wharf._core.executors import check_resources_cross_process, resolve_executor
from wharf._core.graph import AssetGraph
from wharf._core.instance import DagsterInstance
from wharf._core.loading import bound_resources
from wharf._core.partitioning.runs import check_run_partitions
from wharf._core.resources import (
    check_outputs,
    check_resource_keys,
    needed_resource_keys,
    with_default_io_manager,
)
from wharf._core.retries import check_retry_policy
from wharf._core.run_config import resolve_run_config
from wharf._core.run_result import ExecuteInProcessResult

__all__ = ["ExecuteInProcessResult", "materialize", "materialize_to_memory"]


def raise_first_failure(result: ExecuteInProcessResult) -> None:
    """Raise the error of the first step that failed (``raise_on_error=True``)."""
    for o in result.outcomes:
        if o.error is not None:
            raise o.error


def check_isolated(run_executor: Any, used: Mapping[str, Any]) -> None:
    """An executor whose workers run in other processes gets only resources that work there."""
    if getattr(run_executor, "isolated", False):
        check_resources_cross_process(used, getattr(run_executor, "name", "this"))
        if hasattr(run_executor, "check_resources"):
            run_executor.check_resources(used)


def materialize(
    assets: Sequence[Any],
    resources: Mapping[str, Any] | None = None,
    selection: Sequence[Any] | str | None = None,
    *,
    partition_key: str | None = None,
    partition_key_range: Any = None,
    raise_on_error: bool = True,
    run_config: Any = None,
    instance: Any = None,
    tags: Mapping[str, str] | None = None,
    listener: RunListener | None = None,
    record_history: bool = True,
    executor: Any = None,
    run_id: str | None = None,
    op_retry_policy: Any = None,
    skip_unchanged: bool = False,
) -> ExecuteInProcessResult:
    """Materialize ``assets`` (or the ``selection`` of them) and return the result.

    Assets in ``assets`` that are not selected are loaded from their stores when a selected
    asset needs them. With ``raise_on_error`` the first failure is raised after every asset that
    could run has run.

    ``partition_key`` is the partition every selected partitioned asset materializes; it is
    checked (a safe name, one of each asset's partitions) before anything runs.
    ``partition_key_range`` (a :class:`~wharf.PartitionKeyRange`, or Dagster's
    ``dagster/asset_partition_range_start`` / ``_end`` tags) makes one run of every partition
    of the range: ``context.partition_key_range`` spans it and table stores replace it in one
    write. ``instance``
    (a :class:`~wharf.DagsterInstance`) holds dynamic partition keys and the run history;
    by default the persistent one under ``$WHARF_HOME``. ``executor`` runs the steps:
    in-process by default, or ``multiprocess_executor(max_concurrent=)`` / ``dask_executor()``.
    ``run_id`` names the run (a new id by default), so a launcher knows it before the run starts.
    ``skip_unchanged`` runs only the selected assets whose code version or input data versions
    changed since their last materialization (the others are ``unchanged`` in the result and
    the history); see :meth:`~wharf.Definitions.get_staleness`.

    Examples:
        >>> import wharf as dg
        >>> @dg.asset
        ... def numbers() -> list[int]:
        ...     return [1, 2, 3]
        >>> @dg.asset
        ... def total(numbers: list[int]) -> int:
        ...     return sum(numbers)
        >>> result = dg.materialize_to_memory([numbers, total])
        >>> result.success, result.output_for_node("total")
        (True, 6)
    """
    graph = AssetGraph(assets)
    all_resources = with_default_io_manager(bound_resources(assets, resources))
    selected = graph.resolve_selection(selection)
    op_config, graph_ops, all_resources = resolve_run_config(
        graph, selected, run_config, all_resources, needed_resource_keys(graph, selected)
    )
    check_resource_keys(graph, all_resources)
    check_outputs(graph, selected, all_resources)
    run_executor = resolve_executor(executor)
    needed = needed_resource_keys(graph, selected)
    check_isolated(run_executor, {k: v for k, v in all_resources.items() if k in needed})
    instance = instance if instance is not None else DagsterInstance.get()
    now = datetime.now(UTC)
    key, keys = check_run_partitions(
        graph, selected, partition_key, partition_key_range, tags=tags, instance=instance,
        current_time=now,
    )  # fmt: skip
    history = instance.run_history() if record_history else None
    try:
        run, outcomes = run_graph(
            graph, selected, all_resources, partition_key=key, partition_keys=keys,
            listener=listener, tags=tags,
            history=history, instance=instance, current_time=now, executor=run_executor,
            run_id=run_id,
            op_config=op_config, graph_ops=graph_ops,
            retry_policy=check_retry_policy(op_retry_policy, "materialize(op_retry_policy=)"),
            skip_unchanged=skip_unchanged,
        )  # fmt: skip
    finally:
        if history is not None:
            history.close()
    result = ExecuteInProcessResult(run, outcomes)
    if raise_on_error:
        raise_first_failure(result)
    return result


def materialize_to_memory(
    assets: Sequence[Any],
    resources: Mapping[str, Any] | None = None,
    selection: Sequence[Any] | str | None = None,
    *,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    **kwargs: Any,
) -> ExecuteInProcessResult:
    """Like :func:`materialize`, but every I/O manager is an :class:`InMemoryIOManager`."""
    from wharf._core.io_managers import built_in

    graph = AssetGraph(assets)
    memory = built_in("memory")
    all_resources = dict(resources or {})
    for key in needed_resource_keys(graph, graph.by_key):
        if key == "io_manager" or _uses_as_io_manager(graph, key):
            all_resources[key] = memory
    return materialize(
        assets, all_resources, selection, partition_key=partition_key,
        raise_on_error=raise_on_error, record_history=False, instance=kwargs.get("instance"),
        run_config=kwargs.get("run_config"), tags=kwargs.get("tags"),
        partition_key_range=kwargs.get("partition_key_range"),
    )  # fmt: skip


def _uses_as_io_manager(graph: AssetGraph, key: str) -> bool:
    return any(
        isinstance(a, AssetsDefinition) and a.io_manager_key == key for a in graph.by_key.values()
    )
