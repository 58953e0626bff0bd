"""Plan a graph as steps: each op node is one step of the one engine (:mod:`wharf._core.plan`).

A node of a nested graph gets the step key ``graph.op``; an op mapped over a dynamic output is
a template the plan copies once per mapping key (``op[key]``, see ``ExecutionPlan.expand``);
``.collect()`` is a fan-in input filled in once the copies are known. The run config's
``ops:`` section (``config``, ``inputs``, ``outputs``, and ``ops`` of a nested graph) is read
here, with errors naming its path.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from wharf._core.composition import CollectHandle, GraphDefinition, Node, OutputHandle
from wharf._core.plan import NO_DEFAULT, ExecutionPlan, Source, Step, StepInput, StepOutput
from wharf._core.run_config import step_config
from wharf.errors import ConfigError, DefinitionError


@dataclass(frozen=True)
class Ref:
    """A resolved output: step key and output name.

    ``template``: the producer is a mapped op, copied per value of ``template`` (a dynamic
    ``(step, output)``); ``one_value``: this is one value of the dynamic output itself.
    """

    step: str
    output: str
    template: tuple[str, str] | None = None
    one_value: bool = False
    dynamic: bool = False

    @property
    def origin(self) -> tuple[str, str] | None:
        return (self.step, self.output) if self.one_value or self.dynamic else self.template

    def source(self) -> Source:
        return Source(f"{self.step}[]" if self.template else self.step, self.output)


@dataclass(frozen=True)
class CollectRef:
    """``.collect()`` of ``ref`` (one value of a dynamic output, or a mapped op's output)."""

    ref: Ref


@dataclass
class _Acc:
    """What flattening a job's graph gathers."""

    steps: list[Step] = field(default_factory=list)
    templates: list[Step] = field(default_factory=list)
    template_of: dict[str, tuple[str, str]] = field(default_factory=dict)
    defs: dict[str, Any] = field(default_factory=dict)
    output_configs: dict[str, Any] = field(default_factory=dict)
    partitions_def: Any = None
    #: graph node key ("" for the job's own graph) -> output name -> the op output it is
    graph_outputs: dict[str, dict[str, Ref]] = field(default_factory=dict)


def _bad(path: str, message: str, expected: str, got: Any) -> ConfigError:
    return ConfigError(f"run config at {path!r}: {message}", expected=expected, got=repr(got))


def _level(entries: Any, path: str, nodes: Sequence[Node]) -> dict[str, Mapping[str, Any]]:
    """The run config of one graph level: node name -> its entry; unknown names are errors."""
    if entries is None:
        return {}
    if not isinstance(entries, Mapping):
        raise _bad(path, f"expected a dict of node names, got {entries!r}", "a dict", entries)
    names = {n.name: n for n in nodes}
    out: dict[str, Mapping[str, Any]] = {}
    for name, entry in entries.items():
        if name not in names:
            known = ", ".join(sorted(names)) or "none"
            raise _bad(f"{path}.{name}", f"no op or graph is named {name!r}: expected one of "
                       f"[{known}]", known, name)  # fmt: skip
        allowed = ("ops", "config") if isinstance(names[name].definition, GraphDefinition) else (
            "config", "inputs", "outputs"
        )  # fmt: skip
        if not isinstance(entry, Mapping):
            raise _bad(f"{path}.{name}", "expected a dict", "a dict", entry)
        for key in entry:
            if key not in allowed:
                raise _bad(f"{path}.{name}.{key}", f"unknown key: expected {', '.join(allowed)}",
                           ", ".join(allowed), key)  # fmt: skip
        out[name] = entry
    return out


def flatten_job(
    graph: GraphDefinition, ops_config: Any, *, partitions_def: Any = None,
    input_values: Mapping[str, Any] | None = None, prefix: str = "",
    asset_inputs: Mapping[str, Any] | None = None, path: str = "ops",
) -> tuple[list[Step], list[Step], dict[str, Any], dict[str, dict[str, Ref]]]:  # fmt: skip
    """(steps, mapped templates, output configs, graph node outputs) of one run of
    ``graph``; ``asset_inputs``: graph input -> the ``AssetInput`` it loads (a graph asset),
    ``prefix``: before every step key (a graph asset's node name and a dot), ``path``: where
    ``ops_config`` is in the run config (what errors name)."""
    acc = _Acc(partitions_def=partitions_def)
    bound: dict[str, Any] = {name: ("value", v) for name, v in (input_values or {}).items()}
    bound.update({name: ("asset", a) for name, a in (asset_inputs or {}).items()})
    outs = _flatten(graph, prefix, bound, ops_config, path, acc=acc)
    acc.graph_outputs[""] = {k: v for k, v in outs.items() if isinstance(v, Ref)}
    return acc.steps, acc.templates, acc.output_configs, acc.graph_outputs


def _flatten(
    graph: GraphDefinition, prefix: str, bound: Mapping[str, Any], config: Any, path: str, *,
    acc: _Acc,
) -> dict[str, Any]:  # fmt: skip
    level = _level(config, path, graph.nodes)
    done: dict[int, Any] = {}

    def resolve(value: Any) -> Any:
        if isinstance(value, CollectHandle):
            ref = resolve(value.handle)
            return CollectRef(ref) if isinstance(ref, Ref) else None
        if isinstance(value, list | tuple):
            return [resolve(v) for v in value]
        assert isinstance(value, OutputHandle)
        if value.node is None:
            return bound.get(value.output)
        target = done[id(value.node)]
        if isinstance(target, dict):  # a nested graph's outputs
            return target.get(value.output)
        one = value.mapped is not None and value.mapped.node is value.node
        return Ref(target, value.output, acc.template_of.get(target), one_value=one,
                   dynamic=value.dynamic)  # fmt: skip

    for node in graph.nodes:
        known = acc.defs.get(node.definition.name)
        if known is not None and known is not node.definition:
            from wharf._core.composition import duplicate_name_error

            raise duplicate_name_error(graph.name, node.definition.name)
        acc.defs[node.definition.name] = node.definition
        inputs = {k: resolve(v) for k, v in node.inputs.items()}
        entry = level.get(node.name, {})
        key = f"{prefix}{node.name}"
        if isinstance(node.definition, GraphDefinition):
            outs = _flatten(node.definition, f"{key}.", inputs, entry.get("ops"),
                            f"{path}.{node.name}.ops", acc=acc)  # fmt: skip
            done[id(node)] = outs
            acc.graph_outputs[key] = {k: v for k, v in outs.items() if isinstance(v, Ref)}
            continue
        done[id(node)] = key
        _op_step(node, key, inputs, entry, f"{path}.{node.name}", acc=acc)
    return {name: resolve(h) for name, h in graph.outputs.items()}


def _step_input(
    key: str, name: str, spec: Any, *, ann: Any, b: Any, given: Mapping[str, Any], path: str
) -> tuple[StepInput, set[str], set[tuple[str, str]]]:
    """One input of an op step: (the input, the steps it waits for, the dynamic outputs it is
    mapped over)."""
    base = StepInput(name, annotation=ann, metadata=dict(spec.metadata),
                     input_manager_key=spec.input_manager_key, default=spec.default_value,
                     nothing=spec.is_nothing)  # fmt: skip
    if name in given and spec.input_manager_key is not None:  # the input manager's config
        base = replace(base, config=given[name])
    elif name in given:
        value = given[name]
        if isinstance(value, Mapping) and set(value) == {"value"}:
            value = value["value"]
        base = replace(base, default=value)
    if isinstance(b, tuple) and b[0] == "value":  # to_job(input_values=)
        base = replace(base, default=b[1])
        b = None
    if isinstance(b, tuple) and b[0] == "asset":  # a graph asset's input: an upstream asset
        a = b[1]
        return replace(base, asset_key=a.key, metadata={**a.metadata, **base.metadata},
                       partition_mapping=a.partition_mapping), set(), set()  # fmt: skip
    if isinstance(b, CollectRef):
        origin = b.ref.origin
        assert origin is not None
        return replace(base, fan_in=True, collect_of=(b.ref.step, b.ref.output)), {origin[0]}, set()
    if isinstance(b, list):
        refs = [r for r in b if isinstance(r, Ref)]
        base = replace(base, fan_in=True, sources=tuple(r.source() for r in refs))
        return base, {r.source().step for r in refs}, {r.origin for r in refs if r.origin}
    if isinstance(b, Ref):
        return replace(base, sources=(b.source(),)), {b.source().step}, (
            {b.origin} if b.origin is not None else set()
        )  # fmt: skip
    if not base.nothing and base.default is NO_DEFAULT and base.input_manager_key is None:
        msg = (
            f"input {name!r} of op {key!r} has no way of being resolved: expected it wired "
            f"to another op's output, a default (In(default_value=)), an input manager "
            f"(In(input_manager_key=)), or a value at run config '{path}.inputs.{name}'"
        )
        raise DefinitionError(msg, asset=key, expected="a source for the input", got="none")
    return base, set(), set()


def _op_step(
    node: Node, key: str, inputs: Mapping[str, Any], entry: Mapping[str, Any], path: str, *,
    acc: _Acc,
) -> None:  # fmt: skip
    op = node.definition
    given_inputs = entry.get("inputs") or {}
    for name in given_inputs:
        if name not in op.ins:
            raise _bad(f"{path}.inputs.{name}", f"op {key!r} has no input {name!r}: expected "
                       f"one of [{', '.join(op.ins)}]", ", ".join(op.ins), name)  # fmt: skip
    step_inputs: list[StepInput] = []
    deps: set[str] = set()
    origins: set[tuple[str, str]] = set()
    for name, spec in op.ins.items():
        made, waits, over = _step_input(
            key,
            name,
            spec,
            ann=op.annotations[name],
            b=inputs.get(name),
            given=given_inputs,
            path=path,
        )
        step_inputs.append(made)
        deps |= waits
        origins |= over
    asset_deps = tuple(dict.fromkeys(i.asset_key for i in step_inputs if i.asset_key))
    if len(origins) > 1:
        msg = f"op {key!r} is mapped over two different dynamic outputs: expected one"
        raise DefinitionError(msg, asset=key, expected="one dynamic output", got="two")
    origin = next(iter(origins), None)
    outputs = _outputs(op, key)
    if origin is not None and any(o.dynamic for o in outputs.values()):
        msg = f"op {key!r} has a DynamicOut and is itself mapped: nested mapping is not supported"
        raise DefinitionError(msg, asset=key, expected="one level of mapping", got="nested")
    configured = None
    if op.config_type is not None or op.config_schema is not None:
        configured = step_config(op, entry.get("config"), f"{path}.config")
    elif entry.get("config") is not None:
        raise _bad(f"{path}.config", f"op {key!r} takes no config (no Config parameter, no "
                   "config_schema)", "no config", entry.get("config"))  # fmt: skip
    out_config = entry.get("outputs")
    if isinstance(out_config, list):  # Dagster's older form: [{"result": {...}}]
        out_config = {k: v for item in out_config for k, v in item.items()}
    if out_config:
        acc.output_configs[key] = dict(out_config)
    node_def = op
    if node.retry_policy is not None:
        node_def = copy.copy(op)
        node_def.retry_policy = node.retry_policy
    step = Step(
        key=key, kind="op", label=f"op {key!r}", fn=op.fn, inputs=tuple(step_inputs),
        outputs=outputs, deps=tuple(sorted(deps)), context_param=op.context_param,
        config_param=op.config_param, resource_params=op.resource_params,
        required_resource_keys=frozenset(op.required_resource_keys), node=node_def,
        partitions_def=acc.partitions_def, config=configured, mapped_from=origin,
        asset_deps=asset_deps,
        tags={**op.tags, **node.tags},
    )  # fmt: skip
    if origin is not None:
        acc.templates.append(step)
        acc.template_of[key] = origin
    else:
        acc.steps.append(step)


def _outputs(op: Any, key: str) -> dict[str, StepOutput]:
    return {
        name: StepOutput(
            name,
            None,
            out.io_manager_key or "io_manager",
            op.annotations[f"out:{name}"],
            dict(out.metadata),
            is_required=out.is_required,
            dynamic=out.is_dynamic,
            nothing=out.is_nothing,
            code_version=out.code_version,
        )
        for name, out in op.outs.items()
    }


def select_steps(steps: list[Step], templates: list[Step], selection: Any) -> tuple[
    list[Step], list[Step]
]:  # fmt: skip
    """The steps ``op_selection`` names: node names (``graph.op`` or a graph's name), with
    ``*`` / ``+`` for all / one level of upstream (before) or downstream (after)."""
    if selection is None:
        return steps, templates
    items = [selection] if isinstance(selection, str) else list(selection)
    every = [*steps, *templates]
    keys = {s.key for s in every}
    ups = {s.key: {d.removesuffix("[]") for d in s.deps} for s in every}
    downs: dict[str, set[str]] = {k: set() for k in keys}
    for k, us in ups.items():
        for u in us:
            downs.setdefault(u, set()).add(k)
    chosen: set[str] = set()
    for item in items:
        name = item.strip().strip("*+")
        found = {k for k in keys if k == name or k.startswith(f"{name}.")}
        if not found:
            known = ", ".join(sorted(keys))
            msg = f"op_selection {item!r} names no op of the job: expected one of [{known}]"
            raise DefinitionError(msg, expected=known, got=item)
        chosen |= found
        before, after = item[: len(item) - len(item.lstrip("*+"))], item[len(item.rstrip("*+")) :]
        chosen |= _walk(found, ups, before)
        chosen |= _walk(found, downs, after)
    return _subset(steps, chosen), _subset(templates, chosen)


def _walk(start: set[str], edges: Mapping[str, set[str]], how: str) -> set[str]:
    if not how:
        return set()
    depth = None if "*" in how else how.count("+")
    found: set[str] = set()
    frontier, level = set(start), 0
    while frontier and (depth is None or level < depth):
        frontier = {n for f in frontier for n in edges.get(f, ()) if n not in found}
        found |= frontier
        level += 1
    return found


def _subset(steps: list[Step], chosen: set[str]) -> list[Step]:
    out = []
    for s in steps:
        if s.key not in chosen:
            continue
        inputs = []
        for inp in s.inputs:
            kept = tuple(src for src in inp.sources if src.step.removesuffix("[]") in chosen)
            if (
                kept != inp.sources
                and not kept
                and not inp.fan_in
                and not inp.nothing
                and (inp.default is NO_DEFAULT and inp.input_manager_key is None)
            ):
                msg = (
                    f"op {s.key!r} is selected without the op that feeds its input "
                    f"{inp.name!r}: expected that op selected too, or a value at run config "
                    f"'ops.{s.key}.inputs.{inp.name}'"
                )
                raise DefinitionError(msg, asset=s.key, expected="the upstream op", got="none")
            inputs.append(replace(inp, sources=kept))
        deps = tuple(d for d in s.deps if d.removesuffix("[]") in chosen)
        out.append(replace(s, inputs=tuple(inputs), deps=deps))
    return out


def build_plan(steps: list[Step], templates: list[Step]) -> ExecutionPlan:
    return ExecutionPlan.build(steps, mapped=templates, what="ops")
