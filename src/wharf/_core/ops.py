"""Ops: ``@op``, ``In``, ``Out``, ``DynamicOut``, ``Nothing`` and ``OpExecutionContext``.

An op is a function whose parameters are its inputs (``In``) and whose return value (or yielded
``Output`` / ``DynamicOutput`` events) are its outputs (``Out``). Ops do nothing on their own:
a graph wires them (:mod:`wharf._core.composition`) and a job runs the graph's ops as steps of
the one engine (:mod:`wharf._core.op_jobs`), each output stored by the I/O manager its
``Out(io_manager_key=)`` names.
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wharf._core.assets import (
    _checked_config_schema,
    _hints,
    _is_config_annotation,
    _is_resource_annotation,
    split_context_param,
)
from wharf._core.contexts import AssetExecutionContext
from wharf._core.keys import check_safe_name
from wharf._core.plan import DEFAULT_OUTPUT, NO_DEFAULT
from wharf.errors import DefinitionError

__all__ = [
    "DynamicOut",
    "In",
    "Nothing",
    "OpDefinition",
    "OpExecutionContext",
    "Out",
    "op",
]


class Nothing:
    """The type of an input or output that carries no value: it only orders ops.

    Examples:
        >>> Out(Nothing).is_nothing, In(Nothing).is_nothing
        (True, True)
    """


_NO_TYPE: Any = inspect.Signature.empty


@dataclass(frozen=True)
class In:
    """An op input: its type, metadata, default value and the manager that loads it.

    Examples:
        >>> In(int, default_value=3).default_value
        3
    """

    dagster_type: Any = _NO_TYPE
    description: str | None = None
    default_value: Any = NO_DEFAULT
    metadata: Mapping[str, Any] = field(default_factory=dict)
    asset_key: Any = None
    asset_partitions: Any = None
    input_manager_key: str | None = None

    @property
    def is_nothing(self) -> bool:
        return self.dagster_type is Nothing


@dataclass(frozen=True)
class Out:
    """An op output: its type, whether it is required, and the I/O manager that stores it.

    Examples:
        >>> Out(int, io_manager_key="warehouse").io_manager_key
        'warehouse'
    """

    dagster_type: Any = _NO_TYPE
    description: str | None = None
    is_required: bool = True
    io_manager_key: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    code_version: str | None = None

    @property
    def is_nothing(self) -> bool:
        return self.dagster_type is Nothing

    @property
    def is_dynamic(self) -> bool:
        return False


@dataclass(frozen=True)
class DynamicOut(Out):
    """An output with any number of values, each a ``DynamicOutput`` with a mapping key;
    downstream ops ``.map()`` over them and ``.collect()`` them.

    Examples:
        >>> DynamicOut().is_dynamic
        True
    """

    @property
    def is_dynamic(self) -> bool:
        return True


class OpExecutionContext(AssetExecutionContext):
    """What an op whose first parameter is ``context`` receives: ``op_config``, ``log``,
    ``resources``, ``run_id``, ``op_def``, ``partition_key``, ``job_name``.

    Examples:
        >>> import wharf as dg
        >>> ctx = dg.build_op_context(op_config={"n": 1})
        >>> isinstance(ctx, dg.OpExecutionContext), ctx.op_config
        (True, {'n': 1})
    """

    job_name: str | None = None
    mapping_key: str | None = None
    retry_number: int = 0

    def get_mapping_key(self) -> str | None:
        """The mapping key of this copy of a mapped op (None outside a ``.map()``)."""
        return self.mapping_key

    @property
    def op_handle(self) -> str | None:
        return self.step_key

    @property
    def node_handle(self) -> str | None:
        return self.step_key

    def _label(self) -> str:
        return f"op {self.step_key!r}" if self.step_key else "this op"


class OpDefinition:
    """An op built by ``@op``. Call it inside a ``@graph`` / ``@job`` body to wire it; call it
    anywhere else to run its function directly (a test)."""

    def __init__(
        self,
        *,
        fn: Callable[..., Any],
        name: str,
        ins: Mapping[str, In],
        outs: Mapping[str, Out],
        annotations: Mapping[str, Any],
        context_param: str | None,
        config_param: str | None,
        config_type: Any,
        config_schema: Any,
        resource_params: Mapping[str, str],
        required_resource_keys: set[str],
        description: str | None,
        tags: Mapping[str, Any],
        retry_policy: Any,
        code_version: str | None,
    ) -> None:
        self.fn = fn
        self.name = name
        self.ins = dict(ins)
        self.outs = dict(outs)
        #: input or output name -> the type the value must fit (``In``/``Out`` or annotation)
        self.annotations = dict(annotations)
        self.context_param = context_param
        self.config_param = config_param
        self.config_type = config_type
        self.config_schema = config_schema
        self.resource_params = dict(resource_params)
        self.required_resource_keys = set(required_resource_keys) | set(resource_params.values())
        self.description = description
        self.tags = dict(tags)
        self.retry_policy = retry_policy
        self.code_version = code_version

    @property
    def input_names(self) -> list[str]:
        return list(self.ins)

    @property
    def output_names(self) -> list[str]:
        return list(self.outs)

    def output_specs(self) -> dict[str, bool]:
        """Output name -> whether it is a ``DynamicOut`` (what a graph body's handles need)."""
        return {n: o.is_dynamic for n, o in self.outs.items()}

    @property
    def op_name(self) -> str:
        return self.name

    @property
    def node_type_str(self) -> str:
        return "op"

    def alias(self, name: str) -> Any:
        """This op under another node name, for the next call in a graph body."""
        from wharf._core.composition import PendingNode

        return PendingNode(self, name)

    def tag(self, tags: Mapping[str, str]) -> Any:
        from wharf._core.composition import PendingNode

        return PendingNode(self, None, dict(tags))

    def with_retry_policy(self, retry_policy: Any) -> Any:
        from wharf._core.composition import PendingNode

        return PendingNode(self, None, retry_policy=retry_policy)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from wharf._core.composition import current_composition

        composition = current_composition()
        if composition is not None:
            return composition.invoke(self, None, args, kwargs)
        return self._direct(args, kwargs)

    def _direct(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run the function itself (a test): a context is built when none is passed."""
        if self.context_param:
            given = kwargs.get(self.context_param, args[0] if args else None)
            if not isinstance(given, AssetExecutionContext):
                from wharf._core.contexts import build_op_context

                args = (build_op_context(), *args)
        return self.fn(*args, **kwargs)

    def make_context(self, run: Any, step: Any, in_parts: Mapping[str, Any]) -> Any:
        """The ``OpExecutionContext`` of one step of this op (the engine calls this)."""
        from wharf._core.execution import asset_context

        ctx = asset_context(run, step, in_parts, cls=OpExecutionContext)
        ctx.partition_key_or_none = run.partition_key
        ctx.partition_keys_or_none = run.run_partition_keys
        ctx.partitions_def = step.partitions_def
        ctx.job_name = run.job_name
        ctx.mapping_key = step.mapping_key
        return ctx

    def __repr__(self) -> str:
        return f"OpDefinition(name={self.name!r})"


def _outs(name: str, out: Any, ret: Any, is_gen: bool) -> dict[str, Out]:
    """``out=`` as name -> ``Out``; one output ``result`` when ``out`` is one ``Out`` or None."""
    if out is None:
        return {DEFAULT_OUTPUT: Out(_NO_TYPE if is_gen else ret)}
    if isinstance(out, Out):
        return {DEFAULT_OUTPUT: out}
    if isinstance(out, Mapping) and all(isinstance(o, Out) for o in out.values()):
        for key in out:
            check_safe_name(key, what="output name", asset=name)
        return dict(out)
    msg = f"op {name!r}: out={out!r} is not an Out or a dict of Out: expected Out(...) or {{...}}"
    raise DefinitionError(msg, asset=name, expected="Out or dict of Out", got=type(out).__name__)


def _output_types(outs: Mapping[str, Out], ret: Any, is_gen: bool) -> dict[str, Any]:
    """Each output's type: ``Out(dagster_type=)``, else the return annotation (one item of a
    ``tuple[...]`` annotation per output when there are several)."""
    items: tuple[Any, ...] = ()
    if len(outs) > 1 and typing.get_origin(ret) is tuple:
        items = typing.get_args(ret)
    types: dict[str, Any] = {}
    for i, (oname, o) in enumerate(outs.items()):
        tp = o.dagster_type
        if tp is _NO_TYPE and not is_gen:
            tp = items[i] if len(items) == len(outs) else (ret if len(outs) == 1 else _NO_TYPE)
        types[oname] = Any if tp is _NO_TYPE else tp
    return types


def build_op(fn: Callable[..., Any], localns: Mapping[str, Any] | None = None,
             **kw: Any) -> OpDefinition:  # fmt: skip
    """An :class:`OpDefinition` from a function's signature and ``@op``'s arguments."""
    name = str(kw.get("name") or getattr(fn, "__name__", "op"))
    check_safe_name(name, what="op name", asset=name)
    hints = _hints(fn, localns)
    context_param, params = split_context_param(fn, hints)
    ins_given = dict(kw.get("ins") or {})
    for key, spec in ins_given.items():
        if not isinstance(spec, In):
            msg = f"op {name!r}: ins[{key!r}] is {spec!r}: expected In(...)"
            raise DefinitionError(msg, asset=name, expected="In", got=type(spec).__name__)
    config_schema = _checked_config_schema(kw.get("config_schema"), name)
    ins: dict[str, In] = {}
    annotations: dict[str, Any] = {}
    resource_params: dict[str, str] = {}
    config_param, config_type = None, None
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = hints.get(p.name, p.annotation)
        if p.name not in ins_given and _is_resource_annotation(ann):
            resource_params[p.name] = p.name
            continue
        if p.name not in ins_given and _is_config_annotation(ann):
            config_param, config_type = p.name, ann
            continue
        spec = ins_given.pop(p.name, None) or In()
        if spec.default_value is NO_DEFAULT and p.default is not p.empty:
            spec = In(spec.dagster_type, spec.description, p.default, spec.metadata,
                      spec.asset_key, spec.asset_partitions, spec.input_manager_key)  # fmt: skip
        ins[p.name] = spec
        tp = spec.dagster_type if spec.dagster_type is not _NO_TYPE else ann
        annotations[p.name] = Any if tp is _NO_TYPE else tp
    for key in [k for k, v in ins_given.items() if v.is_nothing]:  # ordering only: no parameter
        ins[key] = ins_given.pop(key)
        annotations[key] = Any
    if ins_given:
        names = ", ".join(map(repr, ins_given))
        msg = (
            f"op {name!r}: ins= names {names}, which {fn.__name__}() does not take as a "
            f"parameter: expected one of [{', '.join(p.name for p in params)}]"
        )
        raise DefinitionError(msg, asset=name, expected="parameter names", got=names)
    is_gen = inspect.isgeneratorfunction(fn)
    ret = hints.get("return", _NO_TYPE)
    if ret is None or ret is type(None):
        ret = Nothing if kw.get("out") is None else _NO_TYPE
    outs = _outs(name, kw.get("out"), ret, is_gen)
    for oname, otype in _output_types(outs, ret, is_gen).items():
        annotations[f"out:{oname}"] = otype
    policy = kw.get("retry_policy")
    if policy is not None:
        from wharf._core.retries import check_retry_policy

        check_retry_policy(policy, f"op {name!r}")
    return OpDefinition(
        fn=fn, name=name, ins=ins, outs=outs, annotations=annotations,
        context_param=context_param, config_param=config_param, config_type=config_type,
        config_schema=config_schema, resource_params=resource_params,
        required_resource_keys=set(kw.get("required_resource_keys") or ()),
        description=kw.get("description") or inspect.getdoc(fn), tags=kw.get("tags") or {},
        retry_policy=policy, code_version=kw.get("code_version"),
    )  # fmt: skip


_OP_ARGS = frozenset({
    "name", "description", "ins", "out", "config_schema", "required_resource_keys", "tags",
    "retry_policy", "code_version", "pool", "version",
})  # fmt: skip


def op(fn: Callable[..., Any] | None = None, /, **kwargs: Any) -> Any:
    """Declare an op: parameters are its inputs, the return value its output (``out=``).

    Examples:
        >>> import wharf as dg
        >>> @dg.op(out={"low": dg.Out(int), "high": dg.Out(int)})
        ... def split(n: int):
        ...     return n - 1, n + 1
        >>> split.output_names, split(3)
        (['low', 'high'], (2, 4))
    """
    unknown = sorted(set(kwargs) - _OP_ARGS)
    if unknown:
        msg = f"@op got unknown argument(s) {', '.join(unknown)}: expected {sorted(_OP_ARGS)}"
        raise DefinitionError(msg, expected="@op arguments", got=unknown[0])

    def wrap(f: Callable[..., Any], depth: int = 1) -> OpDefinition:
        return build_op(f, sys._getframe(depth).f_locals, **kwargs)

    return wrap(fn, 2) if fn is not None else wrap
