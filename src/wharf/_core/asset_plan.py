"""Plan a selection of assets as steps: an ``@asset`` is one step with one output.

A node with several assets (``@multi_asset``, ``@graph_asset``) gives its own steps through
``node_steps(graph, keys)``, for the selected ``keys`` only; its slices in the asset graph
point to it with ``_node``. Step dependencies follow the assets: a step waits for the steps
that materialize the assets it loads or lists in ``deps``, when those are selected too
(otherwise it loads what their stores hold).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from wharf._core.assets import AssetInput, AssetsDefinition
from wharf._core.graph import AssetGraph
from wharf._core.keys import AssetKey
from wharf._core.plan import DEFAULT_OUTPUT, ExecutionPlan, Step, StepInput, StepOutput


def step_inputs(inputs: Iterable[AssetInput]) -> tuple[StepInput, ...]:
    """The step inputs that load these asset inputs (through the upstream's manager, or the
    input's ``input_manager_key``)."""
    return tuple(
        StepInput(
            i.param,
            asset_key=i.key,
            annotation=i.annotation,
            metadata=i.metadata,
            partition_mapping=i.partition_mapping,
            input_manager_key=i.input_manager_key,
        )
        for i in inputs
    )


def asset_step(asset: AssetsDefinition) -> Step:
    """The one step of an ``@asset``: its output ``result`` is the asset."""
    return Step(
        key=asset.op_name,
        kind="asset",
        label=f"asset {asset.key.to_user_string()!r}",
        fn=asset.fn,
        inputs=step_inputs(asset.inputs),
        outputs={
            DEFAULT_OUTPUT: StepOutput(
                DEFAULT_OUTPUT,
                asset.key,
                asset.io_manager_key,
                asset.return_annotation,
                asset.metadata,
                partitions_def=asset.partitions_def,
                code_version=asset.code_version,
            )
        },
        asset_deps=asset.upstream_keys,
        context_param=asset.context_param,
        config_param=asset.config_param,
        resource_params=asset.resource_params,
        required_resource_keys=frozenset(asset.required_resource_keys),
        node=asset,
        partitions_def=asset.partitions_def,
        tags=asset.tags,
    )


def node_of(item: Any) -> Any:
    """The node that computes an asset: the asset itself, or its multi-asset / graph asset."""
    return getattr(item, "_node", None) or item


def plan_assets(
    graph: AssetGraph, selected: Sequence[AssetKey], graph_ops: Mapping[str, Any] | None = None
) -> ExecutionPlan:
    """The steps that materialize ``selected`` (each node once, with the keys selected of it;
    ``graph_ops``: the run config's entries of a graph asset's inner ops, by its name)."""
    nodes: dict[int, tuple[Any, list[AssetKey]]] = {}
    for key in selected:
        node = node_of(graph.by_key[key])
        nodes.setdefault(id(node), (node, []))[1].append(key)
    steps: list[Step] = []
    for node, keys in nodes.values():
        if graph_ops and getattr(node, "node_name", None) in graph_ops:
            steps.extend(node.node_steps(graph, keys, graph_ops[node.node_name]))
        elif hasattr(node, "node_steps"):
            steps.extend(node.node_steps(graph, keys))
        else:
            steps.append(asset_step(node))
    producer = {k: s.key for s in steps for k in s.asset_keys}
    checks = [c for c in graph.checks if c.asset_key in producer]
    # a step downstream of an asset with blocking checks waits for them (and skips if one fails)
    blocking: dict[AssetKey, list[str]] = {}
    for c in checks:
        if c.blocking:
            blocking.setdefault(c.asset_key, []).append(c.step_key)
    resolved = []
    for s in steps:
        ups = {producer[k] for k in s.asset_deps if k in producer}
        ups.update(b for k in s.asset_deps for b in blocking.get(k, ()))
        deps = tuple(sorted((ups | set(s.deps)) - {s.key}))
        resolved.append(s if deps == s.deps else replace(s, deps=deps))
    for c in checks:
        deps = tuple(sorted({producer[k] for k in c.upstream_keys if k in producer}))
        resolved.append(c.step(deps, graph))
    return ExecutionPlan.build(resolved, what="assets")
