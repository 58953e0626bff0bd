"""Graphs: a ``@graph`` (or ``@job``) body wires ops and other graphs by calling them.

Inside a body nothing runs: each call records a :class:`Node` and returns :class:`OutputHandle`
s that stand for the node's outputs; passing a handle to another call is an edge. A
``DynamicOut``'s handle is not a value: ``.map(fn)`` calls ``fn`` once with a handle for "one
value" (the nodes it creates run once per mapping key) and ``.collect()`` gives every value as a
list. A graph can also be built from ``GraphDefinition(node_defs=, dependencies=)``.

:mod:`wharf._core.op_plan` turns a graph into the steps of one run.
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from wharf._core.keys import check_safe_name
from wharf._core.plan import DEFAULT_OUTPUT
from wharf.errors import CycleError, DefinitionError, InvalidInvocationError

__all__ = [
    "DependencyDefinition",
    "GraphDefinition",
    "GraphIn",
    "GraphOut",
    "MultiDependencyDefinition",
    "NodeInvocation",
    "OutputHandle",
    "current_composition",
    "graph",
]

_STACK: list[Composition] = []


def current_composition() -> Composition | None:
    """The graph body being traced, if any (then calling an op records a node)."""
    return _STACK[-1] if _STACK else None


@dataclass(eq=False)
class Node:
    """One call of an op or graph in a graph body: its node name and what feeds each input."""

    name: str
    definition: Any
    inputs: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    retry_policy: Any = None


@dataclass(frozen=True, eq=False)
class OutputHandle:
    """An output of a node in a graph body (``node`` None: the graph's own input ``output``).

    ``dynamic``: a ``DynamicOut`` (use ``.map()`` / ``.collect()``); ``mapped``: the dynamic
    output whose one value this stands for (inside ``.map()``).
    """

    node: Node | None
    output: str
    dynamic: bool = False
    mapped: OutputHandle | None = None

    def _label(self) -> str:
        where = f"op {self.node.name!r}" if self.node is not None else "the graph input"
        return f"output {self.output!r} of {where}"

    def map(self, fn: Callable[..., Any]) -> Any:
        """Call ``fn`` with one value of this dynamic output: what it wires runs once per
        mapping key. Returns what ``fn`` returns (handles to ``.collect()`` or map again)."""
        if not self.dynamic and self.mapped is None:
            msg = f"{self._label()} is not a DynamicOut: .map() needs a dynamic output"
            raise DefinitionError(msg, expected="a DynamicOut", got="an Out")
        value = replace(self, dynamic=False, mapped=self) if self.dynamic else self
        return fn(value)

    def collect(self) -> CollectHandle:
        """Every value of this dynamic output (or of the mapped op) as one list input."""
        if not self.dynamic and self.mapped is None:
            msg = f"{self._label()} is not dynamic: .collect() needs a DynamicOut or a mapped op"
            raise DefinitionError(msg, expected="a dynamic output", got="an Out")
        return CollectHandle(self)


@dataclass(frozen=True)
class CollectHandle:
    """``.collect()`` of a dynamic output or of a mapped op's output."""

    handle: OutputHandle


class _Outputs(tuple):  # type: ignore[type-arg]
    """The handles of a node with several outputs: a tuple, and attributes by output name."""

    _names: tuple[str, ...]

    def __new__(cls, names: Sequence[str], handles: Sequence[OutputHandle]) -> _Outputs:
        made = super().__new__(cls, handles)
        made._names = tuple(names)
        return made

    def __getattr__(self, name: str) -> OutputHandle:
        if name.startswith("_") or name not in self._names:
            raise AttributeError(name)
        return self[self._names.index(name)]  # type: ignore[no-any-return]

    def _asdict(self) -> dict[str, OutputHandle]:
        return dict(zip(self._names, self, strict=True))


@dataclass
class PendingNode:
    """``op.alias("name")`` / ``op.tag({...})``: the op, to be called in a graph body."""

    definition: Any
    name: str | None
    tags: dict[str, str] = field(default_factory=dict)
    retry_policy: Any = None

    def alias(self, name: str) -> PendingNode:
        return replace(self, name=name)

    def tag(self, tags: Mapping[str, str]) -> PendingNode:
        return replace(self, tags={**self.tags, **tags})

    def with_retry_policy(self, retry_policy: Any) -> PendingNode:
        return replace(self, retry_policy=retry_policy)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        comp = current_composition()
        if comp is None:
            msg = (
                f"{self.definition.node_type_str} {self.definition.name!r} with an alias or tags "
                "was called outside a @graph or @job body: expected it inside one"
            )
            raise InvalidInvocationError(msg, expected="a graph body", got="a direct call")
        return comp.invoke(self.definition, self.name, args, kwargs, tags=self.tags,
                           retry_policy=self.retry_policy)  # fmt: skip


class Composition:
    """The nodes recorded while one graph body runs."""

    def __init__(self, graph_name: str) -> None:
        self.graph_name = graph_name
        self.nodes: list[Node] = []
        self._names: dict[str, Node] = {}
        self._defs: dict[str, Any] = {}

    def _node_name(self, definition: Any, alias: str | None) -> str:
        known = self._defs.get(definition.name)
        if known is not None and known is not definition:
            raise duplicate_name_error(self.graph_name, definition.name)
        self._defs[definition.name] = definition
        if alias is not None:
            check_safe_name(alias, what="node alias", asset=alias)
            if alias in self._names:
                msg = (
                    f"graph {self.graph_name!r} has two nodes named {alias!r}: expected each "
                    "alias once"
                )
                raise DefinitionError(msg, asset=alias, expected="unique node names", got=alias)
            return alias
        name, n = str(definition.name), 1
        while name in self._names:
            n += 1
            name = f"{definition.name}_{n}"
        return name

    def invoke(
        self, definition: Any, alias: str | None, args: tuple[Any, ...], kwargs: dict[str, Any],
        *, tags: Mapping[str, str] | None = None, retry_policy: Any = None,
    ) -> Any:  # fmt: skip
        name = self._node_name(definition, alias)
        names = list(definition.input_names)
        what = f"{definition.node_type_str} {name!r} in graph {self.graph_name!r}"
        if len(args) > len(names):
            msg = f"{what} was called with {len(args)} inputs: expected at most {len(names)}"
            raise DefinitionError(msg, asset=name, expected=str(len(names)), got=str(len(args)))
        bound: dict[str, Any] = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names or key in bound:
                why = "twice" if key in bound else "but it has no such input"
                msg = f"{what} got input {key!r} {why}: expected inputs [{', '.join(names)}]"
                raise DefinitionError(msg, asset=name, expected=", ".join(names), got=key)
            bound[key] = value
        mapped: OutputHandle | None = None
        for key, value in bound.items():
            _check_wired(what, key, value)
            for h in _handles(value):
                if h.mapped is not None:
                    if mapped is not None and mapped is not h.mapped:
                        msg = f"{what} is mapped over two different dynamic outputs"
                        raise DefinitionError(msg, asset=name, expected="one", got="two")
                    mapped = h.mapped
        node = Node(name, definition, bound, dict(tags or {}), retry_policy)
        self.nodes.append(node)
        self._names[name] = node
        outs = definition.output_specs()
        handles = [OutputHandle(node, o, dynamic=d, mapped=mapped) for o, d in outs.items()]
        if not handles:
            return None
        if len(handles) == 1:
            return handles[0]
        return _Outputs(list(outs), handles)


def duplicate_name_error(graph_name: str, name: str) -> DefinitionError:
    msg = (
        f"graph {graph_name!r} uses two different definitions named {name!r}: expected each "
        "op or graph name once in a job (rename one, e.g. @op(name=...))"
    )
    return DefinitionError(msg, asset=name, expected="unique definition names", got=name)


def _handles(value: Any) -> list[OutputHandle]:
    if isinstance(value, OutputHandle):
        return [value]
    if isinstance(value, CollectHandle):
        return []
    if isinstance(value, list | tuple):
        return [h for h in value if isinstance(h, OutputHandle)]
    return []


def _check_wired(what: str, key: str, value: Any) -> None:
    """An input is fed by a handle, a list of handles (fan-in) or a ``.collect()``."""
    items = list(value) if isinstance(value, list | tuple) else [value]
    for item in items:
        if isinstance(item, CollectHandle) and len(items) == 1:
            continue
        if not isinstance(item, OutputHandle):
            msg = (
                f"{what} got {item!r} for input {key!r}: inside a graph body an input is the "
                "output of another op (or a list of them), not a value; give values through "
                "run config (ops: {op: {inputs: ...}}) or In(default_value=)"
            )
            raise DefinitionError(msg, asset=what, expected="an op output", got=repr(item))
        if item.dynamic:
            msg = (
                f"{what} got the DynamicOut {item._label()} for input {key!r}: expected "
                ".map(fn) to run once per value, or .collect() for all of them"
            )
            raise DefinitionError(msg, asset=what, expected=".map() or .collect()",
                                  got="a DynamicOut")  # fmt: skip


@dataclass(frozen=True)
class GraphIn:
    """A graph input's description (Dagster's ``GraphIn``)."""

    description: str | None = None


@dataclass(frozen=True)
class GraphOut:
    """A graph output's description (Dagster's ``GraphOut``)."""

    description: str | None = None


@dataclass(frozen=True)
class DependencyDefinition:
    """``GraphDefinition(dependencies=)``: an input fed by ``node``'s output ``output``."""

    node: str
    output: str = DEFAULT_OUTPUT
    description: str | None = None


@dataclass(frozen=True)
class MultiDependencyDefinition:
    """A fan-in input: fed by each of ``dependencies``, as a list."""

    dependencies: Sequence[DependencyDefinition]


@dataclass(frozen=True)
class NodeInvocation:
    """A key of ``dependencies=``: the definition ``name`` under ``alias``."""

    name: str
    alias: str | None = None
    tags: Mapping[str, str] | None = None


class GraphDefinition:
    """Ops (and graphs) wired together; ``to_job()`` makes it runnable.

    Examples:
        >>> import wharf as dg
        >>> @dg.op
        ... def one() -> int:
        ...     return 1
        >>> @dg.op
        ... def plus(n: int) -> int:
        ...     return n + 1
        >>> @dg.graph
        ... def two():
        ...     return plus(one())
        >>> [n.name for n in two.nodes], two.output_names
        (['one', 'plus'], ['result'])
    """

    def __init__(
        self,
        name: str,
        *,
        description: str | None = None,
        node_defs: Sequence[Any] | None = None,
        dependencies: Mapping[Any, Mapping[str, Any]] | None = None,
        tags: Mapping[str, str] | None = None,
        config: Any = None,
        **_: Any,
    ) -> None:
        self.name = check_safe_name(name, what="graph name", asset=name)
        self.description = description
        self.tags = dict(tags or {})
        self.config = config
        self.nodes: list[Node] = []
        self.inputs: list[str] = []
        self.outputs: dict[str, OutputHandle] = {}
        if node_defs is not None or dependencies is not None:
            self.nodes = _nodes_from_dependencies(name, node_defs or (), dependencies or {})

    @classmethod
    def _traced(cls, fn: Callable[..., Any], name: str, **kwargs: Any) -> GraphDefinition:
        """The graph a body wires: ``fn`` is called once with a handle per parameter."""
        made = cls(name, description=kwargs.get("description") or inspect.getdoc(fn),
                   tags=kwargs.get("tags"), config=kwargs.get("config"))  # fmt: skip
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]  # fmt: skip
        made.inputs = params
        comp = Composition(name)
        _STACK.append(comp)
        try:
            returned = fn(*[OutputHandle(None, p) for p in params])
        finally:
            _STACK.pop()
        made.nodes = comp.nodes
        made.outputs = _graph_outputs(name, returned, kwargs.get("out"))
        return made

    # -- what a node of another graph sees -----------------------------------------------
    @property
    def node_type_str(self) -> str:
        return "graph"

    @property
    def input_names(self) -> list[str]:
        return list(self.inputs)

    @property
    def output_names(self) -> list[str]:
        return list(self.outputs)

    def output_specs(self) -> dict[str, bool]:
        """Output name -> whether it is dynamic (a mapped value left uncollected)."""
        return {n: h.dynamic for n, h in self.outputs.items()}

    @property
    def node_defs(self) -> list[Any]:
        seen: dict[int, Any] = {}
        for node in self.nodes:
            seen.setdefault(id(node.definition), node.definition)
        return list(seen.values())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        comp = current_composition()
        if comp is None:
            msg = (
                f"graph {self.name!r} was called outside a @graph or @job body: call "
                f"{self.name}.execute_in_process() or {self.name}.to_job() to run it"
            )
            raise InvalidInvocationError(msg, expected="a graph body", got="a direct call")
        return comp.invoke(self, None, args, kwargs)

    def alias(self, name: str) -> PendingNode:
        return PendingNode(self, name)

    def to_job(self, name: str | None = None, **kwargs: Any) -> Any:
        """A job that runs this graph (``resource_defs``, ``config``, ``executor_def``,
        ``tags``, ``partitions_def``, ``op_retry_policy``, ``description``)."""
        from wharf._core.op_jobs import OpJobDefinition

        return OpJobDefinition(self, name=name or self.name, **kwargs)

    def execute_in_process(self, run_config: Any = None, **kwargs: Any) -> Any:
        """Run this graph once in this process (I/O in memory unless ``resources`` say)."""
        from wharf._core.io_managers import built_in

        resources = {"io_manager": built_in("memory"), **dict(kwargs.pop("resources", None) or {})}
        job = self.to_job(op_retry_policy=kwargs.pop("op_retry_policy", None))
        return job.execute_in_process(run_config, resources=resources, **kwargs)

    def __repr__(self) -> str:
        return f"GraphDefinition(name={self.name!r}, nodes={[n.name for n in self.nodes]})"


def _graph_outputs(name: str, returned: Any, out: Any) -> dict[str, OutputHandle]:
    """The graph's outputs from what its body returned (a handle, a dict, a tuple, None)."""
    names = list(out) if isinstance(out, Mapping) else None
    if returned is None:
        return {}
    if isinstance(returned, OutputHandle):
        return {(names[0] if names else DEFAULT_OUTPUT): returned}
    if isinstance(returned, Mapping):
        found = dict(returned)
    elif isinstance(returned, tuple) and names is not None and len(names) == len(returned):
        found = dict(zip(names, returned, strict=True))
    else:
        msg = (
            f"graph {name!r} returned {returned!r}: expected the output of an op, a dict of "
            "them (out={name: GraphOut()}), or a tuple matching out="
        )
        raise DefinitionError(msg, asset=name, expected="op outputs", got=type(returned).__name__)
    for key, handle in found.items():
        if not isinstance(handle, OutputHandle):
            msg = f"graph {name!r} output {key!r} is {handle!r}: expected the output of an op"
            raise DefinitionError(msg, asset=name, expected="an op output", got=repr(handle))
    return found


def _nodes_from_dependencies(
    graph_name: str, node_defs: Iterable[Any], dependencies: Mapping[Any, Mapping[str, Any]]
) -> list[Node]:
    """The nodes of ``GraphDefinition(node_defs=, dependencies=)``, upstream first; a cycle
    is an error naming it."""
    by_name: dict[str, Any] = {}
    for d in node_defs:
        if d.name in by_name and by_name[d.name] is not d:
            raise duplicate_name_error(graph_name, d.name)
        by_name[d.name] = d
    nodes: dict[str, Node] = {}
    for d in by_name.values():
        nodes[d.name] = Node(d.name, d, {})
    for key in dependencies:
        inv = key if isinstance(key, NodeInvocation) else NodeInvocation(str(key))
        if inv.name not in by_name:
            msg = (
                f"graph {graph_name!r}: dependencies names {inv.name!r}, which is not in node_defs"
            )
            raise DefinitionError(msg, asset=inv.name, expected=", ".join(by_name), got=inv.name)
        alias = inv.alias or inv.name
        nodes.setdefault(alias, Node(alias, by_name[inv.name], {}, dict(inv.tags or {})))
    for key, inputs in dependencies.items():
        inv = key if isinstance(key, NodeInvocation) else NodeInvocation(str(key))
        node = nodes[inv.alias or inv.name]
        for input_name, dep in inputs.items():
            deps = dep.dependencies if isinstance(dep, MultiDependencyDefinition) else [dep]
            handles = []
            for one in deps:
                if one.node not in nodes:
                    msg = (
                        f"graph {graph_name!r}: node {node.name!r} depends on unknown {one.node!r}"
                    )
                    raise DefinitionError(msg, asset=node.name, expected=", ".join(nodes),
                                          got=one.node)  # fmt: skip
                handles.append(OutputHandle(nodes[one.node], one.output))
            node.inputs[input_name] = handles if isinstance(dep, MultiDependencyDefinition) else (
                handles[0]
            )  # fmt: skip
    return _ordered(graph_name, nodes)


def _ordered(graph_name: str, nodes: Mapping[str, Node]) -> list[Node]:
    """``nodes`` each after the nodes that feed it (ties by name)."""
    ups = {n: sorted({h.node.name for h in _all_handles(node) if h.node is not None})
           for n, node in nodes.items()}  # fmt: skip
    indegree = {n: len(u) for n, u in ups.items()}
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for n, u in ups.items():
        for up in u:
            children[up].append(n)
    ready = [n for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[Node] = []
    while ready:
        n = heapq.heappop(ready)
        order.append(nodes[n])
        for c in children[n]:
            indegree[c] -= 1
            if indegree[c] == 0:
                heapq.heappush(ready, c)
    if len(order) != len(nodes):
        stuck = {n for n, d in indegree.items() if d > 0}
        path = [min(stuck)]
        while True:
            nxt = min(u for u in ups[path[-1]] if u in stuck)
            if nxt in path:
                loop = [*path[path.index(nxt) :], nxt][::-1]
                break
            path.append(nxt)
        shown = " -> ".join(loop)
        msg = (
            f"graph {graph_name!r}: nodes depend on each other in a cycle: {shown}: expected a "
            "graph without cycles"
        )
        raise CycleError(msg, asset=loop[0], expected="no cycle", got=shown)
    return order


def _all_handles(node: Node) -> list[OutputHandle]:
    out: list[OutputHandle] = []
    for value in node.inputs.values():
        if isinstance(value, CollectHandle):
            out.append(value.handle)
        else:
            out.extend(_handles(value))
    return out


def graph(fn: Callable[..., Any] | None = None, /, **kwargs: Any) -> Any:
    """Declare a graph: its body calls ops (and graphs) to wire them; nothing runs.

    ``name``, ``description``, ``tags``, ``config``, ``ins`` (``GraphIn``), ``out`` (a dict of
    ``GraphOut`` when the body returns several outputs).
    """

    def wrap(f: Callable[..., Any]) -> GraphDefinition:
        name = str(kwargs.get("name") or getattr(f, "__name__", "graph"))
        return GraphDefinition._traced(f, name, **kwargs)

    return wrap(fn) if fn is not None else wrap
