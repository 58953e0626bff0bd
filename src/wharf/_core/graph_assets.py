"""Graph-backed assets: ``@graph_asset``, ``@graph_multi_asset``, ``AssetsDefinition.from_graph``
and ``from_op``.

A graph asset is a node of the asset graph like a multi-asset (one slice per asset, see
:mod:`wharf._core.multi_assets`), but a run plans it as the steps of its ops
(``node.op`` step keys): the graph's inputs load upstream assets, and the op output behind
each graph output is stored as its asset, by the asset's I/O manager. The other op outputs are
op outputs of the run (``<run_id>/<step>/<output>`` on a filesystem manager).
"""

from __future__ import annotations

import copy
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from wharf._core.assets import AssetIn, build_asset
from wharf._core.composition import GraphDefinition, Node, OutputHandle
from wharf._core.keys import AssetKey, CoercibleToAssetKey, to_asset_key
from wharf._core.multi_assets import AssetOut, MultiAssetsDefinition, _Out
from wharf._core.plan import DEFAULT_OUTPUT, Step
from wharf.errors import DefinitionError

__all__ = ["GraphAssetsDefinition", "from_graph", "from_op", "graph_asset", "graph_multi_asset"]


class GraphAssetsDefinition(MultiAssetsDefinition):
    """The node of a graph-backed asset (or assets): its graph and one output per asset."""

    graph_def: GraphDefinition
    ops_config: Any

    @property
    def node_def(self) -> GraphDefinition:  # type: ignore[override]
        return self.graph_def

    def node_steps(self, graph: Any, keys: Sequence[AssetKey], run_ops: Any = None) -> list[Step]:
        """The op steps that materialize ``keys`` (with a subset: only the ops they need);
        ``run_ops``: the run config's entries of the inner ops (``ops.NAME.ops``), over those
        of ``config=``."""
        from wharf._core.op_plan import flatten_job

        wanted = self._whole_unless_subsettable(keys, "graph asset", "can_subset=True")
        by_key = {k: graph.by_key[k] for k in wanted if k in graph.by_key}
        inputs = next(iter(by_key.values())).inputs if by_key else self.inputs
        steps, templates, _, outputs = flatten_job(
            self.graph_def, _merged(self.ops_config, run_ops), partitions_def=self.partitions_def,
            prefix=f"{self.node_name}.", asset_inputs={i.param: i for i in inputs},
            path=f"ops.{self.node_name}.ops",
        )  # fmt: skip
        if templates:
            msg = f"graph asset {self.node_name!r} maps over a DynamicOut: not supported"
            raise DefinitionError(msg, asset=self.node_name, expected="a static graph",
                                  got="a dynamic graph")  # fmt: skip
        by_step = {s.key: s for s in steps}
        roots: set[str] = set()
        for name, out in self.outs.items():
            ref = outputs[""].get(name)
            if ref is None or out.key not in wanted:
                continue
            step = by_step[ref.step]
            made = replace(step.outputs[ref.output], asset_key=out.key,
                           io_manager_key=out.io_manager_key, metadata=dict(out.metadata),
                           is_required=out.is_required, partitions_def=self.partitions_def,
                           code_version=out.code_version or self.code_version)  # fmt: skip
            by_step[ref.step] = replace(step, outputs={**step.outputs, ref.output: made})
            roots.add(ref.step)
        return [by_step[k] for k in _upstream_of(by_step, roots)]

    def __repr__(self) -> str:
        keys = ", ".join(o.key.to_user_string() for o in self.outs.values())
        return f"GraphAssetsDefinition(name={self.node_name!r}, keys=[{keys}])"


def _merged(base: Any, over: Any) -> Any:
    """Run config entries ``over`` those of the definition (per op; nested graphs deeper)."""
    if not isinstance(base, Mapping) or not isinstance(over, Mapping):
        return over if over is not None else base
    out = dict(base)
    for name, entry in over.items():
        mine = base.get(name)
        if isinstance(mine, Mapping) and isinstance(entry, Mapping) and "ops" in entry:
            out[name] = {**mine, **entry, "ops": _merged(mine.get("ops"), entry["ops"])}
        elif isinstance(mine, Mapping) and isinstance(entry, Mapping):
            out[name] = {**mine, **entry}
        else:
            out[name] = entry
    return out


def _upstream_of(steps: Mapping[str, Step], roots: set[str]) -> list[str]:
    """``roots`` and every step they wait for, in the order of ``steps``."""
    keep, todo = set(), list(roots)
    while todo:
        key = todo.pop()
        if key in keep:
            continue
        keep.add(key)
        todo.extend(d for d in steps[key].deps if d in steps)
    return [k for k in steps if k in keep]


def _output_type(graph: GraphDefinition, name: str) -> Any:
    """The type of graph output ``name``: that of the op output behind it."""
    handle: OutputHandle | None = graph.outputs.get(name)
    while handle is not None and handle.node is not None:
        definition = handle.node.definition
        if not isinstance(definition, GraphDefinition):
            return definition.annotations.get(f"out:{handle.output}", Any)
        graph, handle = definition, definition.outputs.get(handle.output)
    return Any


def _stub(name: str, params: Sequence[str]) -> Callable[..., Any]:
    """A function with the graph's inputs as parameters (for ``build_asset``); never called."""

    def stub(**_: Any) -> Any:
        msg = f"graph asset {name!r} runs as its ops' steps, not as one function"
        raise DefinitionError(msg, asset=name)

    stub.__name__ = name
    stub.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY) for p in params]
    )
    return stub


def build_graph_assets(
    graph_def: GraphDefinition,
    outs: Mapping[str, AssetOut],
    *,
    fn: Callable[..., Any] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    name: str | None = None,
    can_subset: bool = False,
    config: Any = None,
    **kw: Any,
) -> GraphAssetsDefinition:
    """The node of a graph-backed asset: ``outs`` names an ``AssetOut`` per graph output."""
    node_name = name or graph_def.name
    missing = [o for o in outs if o not in graph_def.outputs]
    if missing:
        msg = (
            f"graph asset {node_name!r}: outs= names {missing}, which graph {graph_def.name!r} "
            f"does not return: expected its outputs [{', '.join(graph_def.outputs)}]"
        )
        raise DefinitionError(msg, asset=node_name, expected=", ".join(graph_def.outputs),
                              got=", ".join(missing))  # fmt: skip
    source = fn or _stub(node_name, graph_def.input_names)
    base = build_asset(source, name=node_name, ins=ins, localns=kw.pop("localns", None), **kw)
    node = copy.copy(base)
    node.__class__ = GraphAssetsDefinition
    assert isinstance(node, GraphAssetsDefinition)
    node.node_name, node.graph_def, node.can_subset = node_name, graph_def, can_subset
    node.ops_config = (config or {}).get("ops", config) if isinstance(config, Mapping) else None
    node.outs = {
        out_name: _Out(
            out_name,
            out.asset_key(out_name),
            out.io_manager_key or "io_manager",
            out.dagster_type if out.dagster_type is not None else _output_type(graph_def, out_name),
            dict(out.metadata or {}),
            out.is_required,
            out.group_name,
            out.code_version,
            out.description,
            dict(out.tags or {}),
        )
        for out_name, out in outs.items()
    }
    first = next(iter(node.outs.values()))
    node.key, node.io_manager_key = first.key, first.io_manager_key
    node.required_resource_keys = set(node.required_resource_keys) | _resource_keys(graph_def)
    return node


def _resource_keys(graph_def: GraphDefinition) -> set[str]:
    """Every resource the graph's ops need: their resources and their outputs' I/O managers."""
    found: set[str] = set()
    for node in graph_def.nodes:
        d = node.definition
        if isinstance(d, GraphDefinition):
            found |= _resource_keys(d)
            continue
        found |= set(d.required_resource_keys)
        found |= {o.io_manager_key for o in d.outs.values() if o.io_manager_key}
        found |= {i.input_manager_key for i in d.ins.values() if i.input_manager_key}
    return found


def graph_asset(fn: Callable[..., Any] | None = None, /, **kwargs: Any) -> Any:
    """An asset computed by a graph of ops: the body wires ops as a ``@graph`` body does; its
    parameters load upstream assets (``ins=`` as for ``@asset``); the graph's output is the
    asset (``name``, ``key_prefix``, ``group_name``, ``metadata``, ``io_manager_key``,
    ``partitions_def``, ``code_version``, ``description``, ``config``)."""
    localns = sys._getframe(1).f_locals

    def wrap(f: Callable[..., Any]) -> GraphAssetsDefinition:
        name = str(kwargs.get("name") or f.__name__)
        out = AssetOut(
            key_prefix=kwargs.get("key_prefix"), key=kwargs.get("key"),
            io_manager_key=kwargs.get("io_manager_key"), metadata=kwargs.get("metadata"),
            code_version=kwargs.get("code_version"),
        )  # fmt: skip
        g = GraphDefinition._traced(f, name, description=kwargs.get("description"))
        if DEFAULT_OUTPUT not in g.outputs:
            msg = f"graph asset {name!r} returns no op output: expected `return some_op(...)`"
            raise DefinitionError(msg, asset=name, expected="an op output", got="none")
        if out.key is None and out.key_prefix is None:
            out = replace(out, key=AssetKey([name]))
        elif out.key is None:
            prefix = [out.key_prefix] if isinstance(out.key_prefix, str) else out.key_prefix
            out = replace(out, key=AssetKey([*(prefix or []), name]))
        return build_graph_assets(
            g, {DEFAULT_OUTPUT: out}, fn=f, ins=kwargs.get("ins"), name=name,
            config=kwargs.get("config"), group_name=kwargs.get("group_name"),
            partitions_def=kwargs.get("partitions_def"), description=kwargs.get("description"),
            code_version=kwargs.get("code_version"), localns=localns,
        )  # fmt: skip

    return wrap(fn) if fn is not None else wrap


def graph_multi_asset(**kwargs: Any) -> Callable[[Callable[..., Any]], GraphAssetsDefinition]:
    """Several assets computed by one graph: ``outs`` maps each graph output (the body returns
    a dict or a tuple of op outputs) to its ``AssetOut``; ``can_subset`` runs only the ops the
    selected assets need."""
    localns = sys._getframe(1).f_locals
    outs = dict(kwargs.get("outs") or {})

    def wrap(f: Callable[..., Any]) -> GraphAssetsDefinition:
        name = str(kwargs.get("name") or f.__name__)
        g = GraphDefinition._traced(f, name, out=outs, description=kwargs.get("description"))
        return build_graph_assets(
            g, outs, fn=f, ins=kwargs.get("ins"), name=name, can_subset=kwargs.get("can_subset",
            False), config=kwargs.get("config"), group_name=kwargs.get("group_name"),
            partitions_def=kwargs.get("partitions_def"), localns=localns,
        )  # fmt: skip

    return wrap


def _outs_for(
    graph_def: GraphDefinition,
    keys_by_output_name: Mapping[str, CoercibleToAssetKey] | None,
    key_prefix: Any,
    metadata_by_output_name: Mapping[str, Any] | None,
    group_name: str | None,
) -> dict[str, AssetOut]:
    """An ``AssetOut`` per graph output; a lone ``result`` output is named after the graph."""
    prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix or [])
    given = dict(keys_by_output_name or {})
    found = {}
    for out_name in graph_def.outputs:
        default = graph_def.name if out_name == DEFAULT_OUTPUT else out_name
        key = to_asset_key(given[out_name]) if out_name in given else AssetKey([*prefix, default])
        meta = (metadata_by_output_name or {}).get(out_name)
        found[out_name] = AssetOut(key=key, metadata=meta, group_name=group_name)
    return found


def from_graph(
    graph_def: GraphDefinition,
    *,
    keys_by_input_name: Mapping[str, CoercibleToAssetKey] | None = None,
    keys_by_output_name: Mapping[str, CoercibleToAssetKey] | None = None,
    key_prefix: Any = None,
    group_name: str | None = None,
    metadata_by_output_name: Mapping[str, Any] | None = None,
    partitions_def: Any = None,
    can_subset: bool = False,
    **_: Any,
) -> GraphAssetsDefinition:
    """``AssetsDefinition.from_graph``: each graph output is an asset (its key from
    ``keys_by_output_name``, else ``key_prefix`` + the output name, or the graph's name for a
    lone ``result``); each graph input loads the asset ``keys_by_input_name`` names (else the
    asset named like the input)."""
    outs = _outs_for(graph_def, keys_by_output_name, key_prefix, metadata_by_output_name,
                     group_name)  # fmt: skip
    ins = {n: AssetIn(key=k) for n, k in (keys_by_input_name or {}).items()}
    return build_graph_assets(graph_def, outs, ins=ins, can_subset=can_subset,
                              group_name=group_name, partitions_def=partitions_def)  # fmt: skip


def from_op(op_def: Any, **kwargs: Any) -> GraphAssetsDefinition:
    """``AssetsDefinition.from_op``: the op as a one-node graph (see :func:`from_graph`)."""
    graph_def = GraphDefinition(op_def.name)
    node = Node(op_def.name, op_def, {n: OutputHandle(None, n) for n in op_def.input_names})
    graph_def.nodes = [node]
    graph_def.inputs = list(op_def.input_names)
    graph_def.outputs = {n: OutputHandle(node, n) for n in op_def.output_names}
    return from_graph(graph_def, **kwargs)
