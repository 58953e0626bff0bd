"""A step's I/O: load each input through the right manager, store each output through its own.

Which manager: an output is stored by the manager of its ``io_manager_key``. An input is loaded
by its ``input_manager_key`` when it has one, else by the manager that stored the upstream
value (the upstream asset's, or the upstream op output's). The contexts carry what Dagster's
do: for an asset its key and partitions, for an op output ``step_key``, ``name``, ``run_id``
and ``mapping_key`` (so path managers store op outputs at ``<run_id>/<step>/<output>``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from wharf._core.assets import AssetsDefinition
from wharf._core.contexts import InputContext, OutputContext, Resources, TypeInfo
from wharf._core.keys import AssetKey
from wharf._core.plan import Source, Step, StepInput, StepOutput
from wharf._core.resources import io_manager_key_of
from wharf._core.typecheck import value_annotation

if TYPE_CHECKING:
    from wharf._core.execution import RunContext


def manager_name(manager: Any) -> str:
    """The name a user configured (FilesystemIOManager), not the engine behind it."""
    return str(getattr(manager, "manager_name", None) or type(manager).__name__)


def _type(annotation: Any) -> TypeInfo:
    return TypeInfo(Any if annotation is inspect.Signature.empty else annotation)


class _Downstream(NamedTuple):
    """What partition mapping needs of the loading side: its key and partitions."""

    key: AssetKey
    partitions_def: Any


def asset_output_context(
    run: RunContext, key: AssetKey, im_key: str, partitions: tuple[str, ...] | None = None
) -> OutputContext:
    """The output context of the asset ``key`` as the graph describes it (its stored value)."""
    item = run.graph.by_key[key]
    ann = value_annotation(item.return_annotation) if isinstance(item, AssetsDefinition) else Any
    return OutputContext(
        asset_key_or_none=key,
        name=getattr(item, "output_name", "result"),
        definition_metadata=dict(item.metadata),
        dagster_type=_type(ann),
        resource_config=run.resources.configs.get(im_key, {}),
        resources=Resources(run.resources.instances),
        step_key=_producer_step_key(item, key),
        run_id=run.run_id,
        partition_key=run.partition_key,
        asset_partition_keys_or_none=partitions,
        asset_partitions_def=item.partitions_def,
        instance=run.instance,
    )


def _producer_step_key(item: Any, key: AssetKey) -> str:
    """The key of the step that stores asset ``key``: a multi-asset's one step, else the
    asset's own."""
    node = getattr(item, "_node", None)
    if node is not None and hasattr(node, "step_key_for"):
        return str(node.step_key_for(key))
    return str(getattr(item, "op_name", key.to_python_identifier()))


def step_output_context(
    run: RunContext,
    step: Step,
    out: StepOutput,
    *,
    mapping_key: str | None = None,
    partitions: tuple[str, ...] | None = None,
) -> OutputContext:
    """The context ``handle_output`` gets for output ``out`` of ``step``."""
    if out.asset_key is not None and out.asset_key in run.graph.by_key:
        ctx = asset_output_context(run, out.asset_key, out.io_manager_key, partitions)
        ctx.name, ctx.step_key = out.name, _node_key(step)
        ctx.definition_metadata = dict(out.metadata) or ctx.definition_metadata
        if out.annotation is not Any:
            ctx.dagster_type = _type(value_annotation(out.annotation))
    else:
        ctx = OutputContext(
            asset_key_or_none=out.asset_key,
            name=out.name,
            definition_metadata=dict(out.metadata),
            dagster_type=_type(value_annotation(out.annotation)),
            resource_config=run.resources.configs.get(out.io_manager_key, {}),
            resources=Resources(run.resources.instances),
            step_key=step.key,
            run_id=run.run_id,
            partition_key=run.partition_key,
            instance=run.instance,
        )
    ctx.mapping_key = mapping_key
    ctx.op_def = step.node
    ctx.config = out_config(run, step, out.name)
    return ctx


def _node_key(step: Step) -> str:
    return step.key


def out_config(run: RunContext, step: Step, output_name: str) -> Any:
    """The output config the run config gives (``ops: {op: {outputs: {name: ...}}}``)."""
    outputs = getattr(run, "output_configs", {}).get(step.key.split("[", 1)[0], {})
    return outputs.get(output_name) if isinstance(outputs, Mapping) else None


def load_asset_input(
    run: RunContext, key: AssetKey, *, annotation: Any = Any, name: str = "result",
    metadata: Mapping[str, Any] | None = None, for_asset: str | None = None,
    partitions: tuple[str, ...] | None = None, input_manager_key: str | None = None,
    step: Step | None = None, stored_version: int | None = None,
) -> Any:  # fmt: skip
    """Load the stored value of ``key`` (its ``partitions``; its ``stored_version``, an earlier
    version the store keeps) through its I/O manager (or ``input_manager_key``)."""
    im_key = io_manager_key_of(run.graph, key)
    label = for_asset or key.to_user_string()
    upstream = asset_output_context(run, key, im_key, partitions)
    loader = input_manager_key or im_key
    ctx = InputContext(
        asset_key_or_none=key,
        name=name,
        upstream_output=upstream,
        definition_metadata=dict(metadata or {}),
        dagster_type=_type(annotation),
        resource_config=run.resources.configs.get(loader, {}),
        resources=upstream.resources,
        step_key=upstream.step_key if step is None else step.key,
        run_id=run.run_id,
        partition_key=run.partition_key,
        asset_partition_keys_or_none=partitions,
        asset_partitions_def=upstream.asset_partitions_def,
        instance=run.instance,
        stored_version=stored_version,
    )
    if step is not None:
        ctx.op_def = step.node
    return _load(run, ctx, loader, input_manager_key, what=f"{key.to_user_string()!r}", label=label)


def load_source(
    run: RunContext, step: Step, inp: StepInput, src: Source, upstream_step: Step
) -> Any:
    """Load one upstream op output (``src``) for input ``inp`` of ``step``."""
    out = upstream_step.outputs[src.output]
    mapping_key = src.mapping_key  # a value of a dynamic output; a mapped copy's own output
    if out.dynamic and src.mapping_key is None:  # has none (its step key names the copy)
        mapping_key = step.mapping_key
    upstream = step_output_context(run, upstream_step, out, mapping_key=mapping_key)
    loader = inp.input_manager_key or out.io_manager_key
    ctx = InputContext(
        asset_key_or_none=out.asset_key,
        name=inp.name,
        upstream_output=upstream,
        definition_metadata=dict(inp.metadata),
        dagster_type=_type(inp.annotation),
        resource_config=run.resources.configs.get(loader, {}),
        resources=upstream.resources,
        step_key=step.key,
        run_id=run.run_id,
        partition_key=run.partition_key,
        instance=run.instance,
    )
    ctx.op_def = step.node
    ctx.config = inp.config
    what = f"output {src.output!r} of {upstream_step.label}"
    if mapping_key is not None:
        what += f" (mapping key {mapping_key!r})"
    return _load(run, ctx, loader, inp.input_manager_key, what=what, label=step.label)


def _load(
    run: RunContext, ctx: InputContext, loader: str, input_manager: str | None, *, what: str,
    label: str,
) -> Any:  # fmt: skip
    manager = run.resources.input_manager(loader, asset=label) if input_manager else (
        run.resources.io_manager(loader, asset=label)
    )  # fmt: skip
    role = "input manager" if input_manager else "I/O manager"
    try:
        return manager.load_input(ctx)
    except BaseException as exc:
        exc.add_note(f"while loading {what} for {label} with {role} {loader!r} "
                     f"({manager_name(manager)})")  # fmt: skip
        raise


def upstream_partitions(run: RunContext, step: Step, inp: StepInput) -> tuple[str, ...] | None:
    """The partitions of the upstream asset ``inp`` loads, following its partition mapping."""
    assert inp.asset_key is not None
    down = _Downstream(_own_key(step), step.partitions_def)
    return run.upstream_partitions(inp.asset_key, down, inp.partition_mapping)  # type: ignore[arg-type]


def _own_key(step: Step) -> AssetKey:
    keys = step.asset_keys
    return keys[0] if keys else AssetKey([step.key])
