"""The execution plan: steps with named inputs and outputs, the one shape every node runs as.

A **step** is one call of a user function: an asset, a multi-asset, or an op of a job. It has
named **outputs** (:class:`StepOutput`); each output is stored by the I/O manager its
``Out`` / ``AssetOut`` / asset names, and an output that belongs to an asset carries that
asset's key. It has named **inputs** (:class:`StepInput`); an input loads either the stored
value of an asset (``asset_key``) or outputs of upstream steps (``sources``), through the
upstream's I/O manager or an input manager. An ``@asset`` is the one-output special case: a
step whose output ``result`` is the asset.

The engine (:mod:`wharf._core.execution`) runs a step; the executors
(:mod:`wharf._core.executors`) decide when. Neither knows whether a step came from an asset or
an op: that is decided here, when the plan is built. A hook that adds per-step behaviour
(config, retries, checks) reads :class:`Step` fields, never the definition that made them.

A step whose outputs are dynamic (``DynamicOut``) expands the plan while the run goes: each
``DynamicOutput`` it yields becomes one copy (``op[mapping_key]``) of every step mapped over it;
see :meth:`ExecutionPlan.expand`.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from wharf._core.keys import AssetKey
from wharf.errors import CycleError

#: the name of an asset's one output (and of an op's default ``Out``)
DEFAULT_OUTPUT = "result"


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


class Source(NamedTuple):
    """An upstream op output an input reads: the step, the output, and for a dynamic output
    the mapping key of the one value (None: the output's only value)."""

    step: str
    output: str
    mapping_key: str | None = None


@dataclass(frozen=True)
class StepOutput:
    """One named output of a step.

    Attributes:
        name: the output name (``result`` for an asset or a one-output op).
        asset_key: the asset this output materializes, or None for an op output.
        io_manager_key: the resource key of the I/O manager that stores it.
        annotation: the type the value must fit (``Out(dagster_type=)`` or the annotation).
        metadata: definition metadata, as the I/O manager's ``context.definition_metadata``.
        is_required: whether the step must produce it.
        dynamic: a ``DynamicOut``: the step yields several values, each with a mapping key.
        nothing: a ``Nothing`` output: ordering only, no value and no I/O manager call.
        partitions_def: the partitions of the asset (None: unpartitioned or an op output).
        code_version: the asset's code version, if any.
    """

    name: str
    asset_key: AssetKey | None = None
    io_manager_key: str = "io_manager"
    annotation: Any = Any
    metadata: Mapping[str, Any] = field(default_factory=dict)
    is_required: bool = True
    dynamic: bool = False
    nothing: bool = False
    partitions_def: Any = None
    code_version: str | None = None


@dataclass(frozen=True)
class StepInput:
    """One named input of a step.

    Exactly one of ``asset_key`` (load an asset's stored value) and ``sources`` (outputs of
    upstream steps) says where the value comes from; neither: the ``default`` is used.

    Attributes:
        name: the parameter name.
        asset_key: the upstream asset whose stored value is loaded.
        sources: the upstream op outputs it reads; several for a fan-in.
        fan_in: pass a list of every source's value (a fan-in or a ``collect()``).
        annotation: the type to load as.
        metadata: input metadata, as the I/O manager's ``context.definition_metadata``.
        partition_mapping: how the input's partitions follow the step's (assets).
        input_manager_key: load through this manager instead of the upstream's.
        default: the value when nothing is wired to the input (``In(default_value=)``).
        nothing: ordering only: waits for its sources, passes no value.
        collect_of: for ``collect()``: ``(step, output)`` whose every dynamic value (or every
            mapped copy, for a mapped step) becomes a source once it is known.
        config: the input's run config (``ops: {op: {inputs: {name: ...}}}``) when an input
            manager loads it: its ``context.config``, as in Dagster.
    """

    name: str
    asset_key: AssetKey | None = None
    sources: tuple[Source, ...] = ()
    fan_in: bool = False
    annotation: Any = Any
    metadata: Mapping[str, Any] = field(default_factory=dict)
    partition_mapping: Any = None
    input_manager_key: str | None = None
    default: Any = NO_DEFAULT
    nothing: bool = False
    collect_of: tuple[str, str] | None = None
    config: Any = None


@dataclass
class Step:
    """One call of a user function, with its inputs and outputs (see the module docstring).

    Attributes:
        key: the step key (``total``, ``warehouse__sales``, ``my_graph.my_op``, ``op[k]``).
        kind: ``asset`` (an asset or multi-asset) or ``op`` (an op of a job or graph asset).
        label: how messages name the step: ``asset 'a'``, ``op 'b'``.
        fn: the user function.
        inputs: the inputs, in parameter order.
        outputs: the outputs by name.
        deps: step keys this step waits for (its inputs' sources and ordering-only deps).
        asset_deps: upstream asset keys (loaded inputs and ``deps=``) for partitions/history.
        context_param: the parameter that receives the execution context, if any.
        config_param: the parameter that receives the step's ``Config``, if any.
        resource_params: parameter name -> resource key.
        required_resource_keys: every resource the step needs besides I/O managers.
        node: the definition the step came from (``op_def`` of its context).
        partitions_def: the step's partitions (for an asset: its own).
        config: the step's config (``op_config``), resolved from the run config.
        mapping_key: for a copy of a mapped step, the dynamic output's mapping key.
        mapped_from: ``(step key, output name)`` of the dynamic output this step maps over.
        tags: the node's tags.
        unselected_outputs: outputs of the node this run does not select (a multi-asset
            subset); a value the body gives for one is not stored.
    """

    key: str
    kind: str
    label: str
    fn: Callable[..., Any]
    inputs: tuple[StepInput, ...]
    outputs: dict[str, StepOutput]
    deps: tuple[str, ...] = ()
    asset_deps: tuple[AssetKey, ...] = ()
    context_param: str | None = None
    #: the parameter that receives the step's ``Config`` object, if any
    config_param: str | None = None
    resource_params: Mapping[str, str] = field(default_factory=dict)
    required_resource_keys: frozenset[str] = frozenset()
    node: Any = None
    partitions_def: Any = None
    config: Any = None
    mapping_key: str | None = None
    mapped_from: tuple[str, str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    unselected_outputs: frozenset[str] = frozenset()

    @functools.cached_property
    def display_key(self) -> AssetKey:
        """The key progress and results show: the asset's key for a one-asset step, else the
        step key as a one-part key (computed once: a step's outputs never change)."""
        if len(self.outputs) == 1:
            only = next(iter(self.outputs.values()))
            if only.asset_key is not None and self.kind == "asset":
                return only.asset_key
        return AssetKey([self.key])

    @functools.cached_property
    def asset_keys(self) -> tuple[AssetKey, ...]:
        """The assets this step materializes, in output order."""
        return tuple(o.asset_key for o in self.outputs.values() if o.asset_key is not None)

    def output(self, name: str) -> StepOutput:
        return self.outputs[name]


@dataclass
class ExecutionPlan:
    """The steps of one run, in an order where every step comes after the steps it waits for.

    ``order`` grows while a run goes when a dynamic step expands (:meth:`expand`).
    """

    steps: dict[str, Step]
    order: list[str]
    #: step key -> the mapped (template) steps downstream of its dynamic outputs
    mapped: dict[str, list[Step]] = field(default_factory=dict)
    #: template step key -> steps that ``collect()`` its copies
    collectors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        steps: Iterable[Step],
        *,
        mapped: Iterable[Step] = (),
        what: str = "steps",
    ) -> ExecutionPlan:
        """Order ``steps`` (ties broken by step key, so runs repeat); a cycle is an error."""
        by_key = {s.key: s for s in steps}
        templates = list(mapped)
        plan = cls(by_key, toposort(by_key, what=what))
        for t in templates:
            assert t.mapped_from is not None
            plan.mapped.setdefault(t.mapped_from[0], []).append(t)
        for s in by_key.values():
            for inp in s.inputs:
                if inp.collect_of is not None:
                    plan.collectors.setdefault(inp.collect_of[0], []).append(s.key)
        return plan

    def expand(self, step_key: str, mapping_keys: Mapping[str, Sequence[str]]) -> list[str]:
        """After a dynamic step finished: add one copy (``b[k]``) of each step mapped over its
        outputs per mapping key (``mapping_keys``: output name -> keys in yield order), and make
        every copy a source of the steps that ``collect()`` them.

        Returns the keys of the steps added or rewired (their deps changed).
        """
        changed: list[str] = []
        copies_of: dict[str, list[str]] = {}
        for template in self.mapped.pop(step_key, ()):
            assert template.mapped_from is not None
            keys = list(mapping_keys.get(template.mapped_from[1], ()))
            copies = [_copy_for(template, k) for k in keys]
            copies_of[template.key] = [c.key for c in copies]
            for copy in copies:
                self.steps[copy.key] = copy
                self.order.append(copy.key)
                changed.append(copy.key)
        for out, values in mapping_keys.items():
            copies_of.setdefault(f"{step_key}\0{out}", list(values))
        for collector in list(self.steps.values()):
            inputs = [_collected(i, step_key, copies_of) for i in collector.inputs]
            if inputs != list(collector.inputs):
                deps = {s.step for i in inputs for s in i.sources} | set(collector.deps)
                deps -= set(copies_of)
                self.steps[collector.key] = replace(
                    collector, inputs=tuple(inputs), deps=tuple(sorted(deps))
                )
                changed.append(collector.key)
        return changed


def _collected(inp: StepInput, step_key: str, copies_of: Mapping[str, list[str]]) -> StepInput:
    """``inp`` with its ``collect()`` sources filled in, once ``step_key`` expanded."""
    origin = inp.collect_of
    if origin is not None and origin[0] in copies_of:  # a mapped step's copies
        srcs = tuple(Source(c, origin[1]) for c in copies_of[origin[0]])
        return replace(inp, sources=srcs, collect_of=None)
    if origin is not None and origin[0] == step_key:  # the dynamic output itself
        found = copies_of.get(f"{step_key}\0{origin[1]}", [])
        srcs = tuple(Source(step_key, origin[1], k) for k in found)
        return replace(inp, sources=srcs, collect_of=None)
    return inp


def _copy_for(template: Step, mapping_key: str) -> Step:
    """``template`` for one mapping key: the mapped input reads that one value, and a source
    that is another step mapped over the same output reads its copy (``c[k]`` reads ``b[k]``)."""
    assert template.mapped_from is not None
    origin = template.mapped_from

    def source(src: Source) -> Source:
        if (src.step, src.output) == origin:
            return Source(src.step, src.output, mapping_key)
        if src.step.endswith("[]"):  # a template: the copy for the same key
            return Source(f"{src.step[:-2]}[{mapping_key}]", src.output)
        return src

    inputs = tuple(replace(i, sources=tuple(source(s) for s in i.sources)) for i in template.inputs)
    deps = tuple(f"{d[:-2]}[{mapping_key}]" if d.endswith("[]") else d for d in template.deps)
    return replace(
        template,
        key=f"{template.key}[{mapping_key}]",
        label=f"{template.label[:-1]}[{mapping_key}]'",
        inputs=inputs,
        deps=deps,
        mapping_key=mapping_key,
        mapped_from=None,
    )


def toposort(steps: Mapping[str, Step], *, what: str = "steps") -> list[str]:
    """Step keys, each after its deps (ties by key); a cycle raises :class:`CycleError`."""
    indegree = dict.fromkeys(steps, 0)
    children: dict[str, list[str]] = {k: [] for k in steps}
    for key, step in steps.items():
        for dep in set(step.deps):
            if dep in steps:
                indegree[key] += 1
                children[dep].append(key)
    ready = [k for k, n in indegree.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        key = heapq.heappop(ready)
        order.append(key)
        for child in children[key]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, child)
    if len(order) != len(steps):
        stuck = sorted(k for k, n in indegree.items() if n > 0)
        path = " -> ".join(_cycle(steps, set(stuck)))
        msg = f"{what} depend on each other in a cycle: {path}: expected a graph without cycles"
        raise CycleError(msg, asset=stuck[0], expected="no cycle", got=path)
    return order


def _cycle(steps: Mapping[str, Step], stuck: set[str]) -> list[str]:
    start = min(stuck)
    path, seen = [start], {start}
    while True:
        nxt = min(d for d in steps[path[-1]].deps if d in stuck)
        if nxt in seen:
            loop = path[path.index(nxt) :]
            return [*loop, nxt][::-1]
        path.append(nxt)
        seen.add(nxt)
