"""``@multi_asset`` and ``AssetOut``: one function that materializes several assets.

A multi-asset is one node of the asset graph with one output per asset. The graph holds one
**slice** per asset (an :class:`AssetsDefinition` of its own key, I/O manager, metadata and
type, pointing back to the node with ``_node``), so everything that reads the graph sees
ordinary assets; the plan runs the node once, as one step with one output per selected asset
(:meth:`MultiAssetsDefinition.node_steps`). Each output is stored by its own I/O manager.

A subset run (a selection of some of its assets) needs ``can_subset=True``: the step then has
only the selected outputs, the body reads ``context.selected_output_names``, and a value it
gives for an unselected output is not stored.
"""

from __future__ import annotations

import copy
import sys
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from wharf._core.asset_plan import asset_step, step_inputs
from wharf._core.assets import (
    AssetIn,
    AssetsDefinition,
    AssetSpec,
    build_asset,
    inline_io_manager_key,
)
from wharf._core.keys import AssetKey, CoercibleToAssetKey, CoercibleToAssetKeyPrefix, to_asset_key
from wharf._core.plan import Step, StepOutput
from wharf.errors import DefinitionError, InvalidSubsetError

__all__ = ["AssetOut", "MultiAssetsDefinition", "multi_asset"]


@dataclass(frozen=True)
class AssetOut:
    """One asset a ``@multi_asset`` produces: its key and how it is stored.

    The key is ``key`` if given, else ``key_prefix`` + the output's name.

    Examples:
        >>> AssetOut(key_prefix="raw", io_manager_key="warehouse").io_manager_key
        'warehouse'
    """

    key_prefix: CoercibleToAssetKeyPrefix | None = None
    key: CoercibleToAssetKey | None = None
    dagster_type: Any = None
    description: str | None = None
    is_required: bool = True
    io_manager_key: str | None = None
    metadata: Mapping[str, Any] | None = None
    group_name: str | None = None
    code_version: str | None = None
    tags: Mapping[str, str] | None = None
    owners: Sequence[str] | None = None
    kinds: Iterable[str] | None = None
    #: an I/O manager given inline, bound under a key made from the asset's key
    io_manager_def: Any = None
    automation_condition: Any = None
    freshness_policy: Any = None
    backfill_policy: Any = None

    def asset_key(self, output_name: str) -> AssetKey:
        if self.key is not None:
            return to_asset_key(self.key)
        prefix = self.key_prefix
        parts = [prefix] if isinstance(prefix, str) else list(prefix or [])
        return AssetKey([*parts, output_name])

    @staticmethod
    def from_spec(spec: AssetSpec, **kwargs: Any) -> AssetOut:
        """An ``AssetOut`` with the key, description, metadata, group and code version of
        ``spec``."""
        return AssetOut(
            key=spec.key, description=spec.description, metadata=spec.metadata,
            group_name=spec.group_name, code_version=spec.code_version, tags=spec.tags,
            owners=spec.owners, kinds=spec.kinds, **kwargs,
        )  # fmt: skip


@dataclass(frozen=True)
class _Out:
    """One output of a multi-asset, resolved."""

    name: str
    key: AssetKey
    io_manager_key: str
    annotation: Any
    metadata: Mapping[str, Any]
    is_required: bool
    group_name: str | None
    code_version: str | None
    description: str | None
    tags: Mapping[str, str] = field(default_factory=dict)
    nothing: bool = False
    #: this asset's own upstream keys (an ``AssetSpec``'s ``deps``), besides the node's
    deps: tuple[AssetKey, ...] = ()

    def step_output(self, partitions_def: Any) -> StepOutput:
        """This output as a step's output (the step of a run that selects it)."""
        return StepOutput(
            name=self.name, asset_key=self.key, io_manager_key=self.io_manager_key,
            annotation=self.annotation, metadata=self.metadata, is_required=self.is_required,
            nothing=self.nothing, partitions_def=partitions_def, code_version=self.code_version,
        )  # fmt: skip


class MultiAssetsDefinition(AssetsDefinition):
    """The node a ``@multi_asset`` builds: one function, several assets (``keys``).

    ``key`` is the first asset's key; ``keys`` has them all.
    """

    outs: dict[str, _Out]
    can_subset: bool
    node_name: str
    #: output name -> the keys that asset depends on (Dagster's ``internal_asset_deps``)
    internal_asset_deps: dict[str, set[AssetKey]]

    @property
    def keys(self) -> set[AssetKey]:
        return {o.key for o in self.outs.values()}

    @property
    def keys_by_output_name(self) -> dict[str, AssetKey]:
        return {n: o.key for n, o in self.outs.items()}

    @property
    def asset_keys(self) -> list[AssetKey]:
        return [o.key for o in self.outs.values()]

    @property
    def op_name(self) -> str:
        return self.node_name

    def step_key_for(self, key: AssetKey) -> str:
        """The key of the step that stores ``key`` (the node's one step)."""
        return self.node_name

    @property
    def code_versions_by_key(self) -> dict[AssetKey, str | None]:
        return {o.key: o.code_version for o in self.outs.values()}

    @property
    def slices(self) -> list[AssetsDefinition]:
        """One :class:`AssetsDefinition` per asset, as the asset graph holds them."""
        found: list[AssetsDefinition] = []
        for out in self.outs.values():
            one: AssetsDefinition = copy.copy(self)
            one.__class__ = AssetsDefinition
            one.key = out.key
            one.io_manager_key = out.io_manager_key
            one.return_annotation = out.annotation
            one.metadata = dict(out.metadata)
            one.group_name = out.group_name or self.group_name
            one.code_version = out.code_version or self.code_version
            one.description = out.description or self.description
            one.tags = {**self.tags, **out.tags}
            one.output_required = out.is_required
            one.deps = tuple(dict.fromkeys([*self.deps, *out.deps]))
            internal = getattr(self, "internal_asset_deps", {}).get(out.name)
            if internal is not None:
                one.internal_upstream = tuple(sorted(internal))  # type: ignore[attr-defined]
            one.output_name = out.name  # type: ignore[attr-defined]
            one._node = self  # type: ignore[attr-defined]
            found.append(one)
        return found

    def regrouped(
        self,
        group: str | None,
        prefix: Sequence[str] | None,
        loaded: Iterable[AssetKey] = (),
    ) -> MultiAssetsDefinition:
        """A copy in ``group`` with ``prefix`` before every asset key (for
        ``load_assets_from_modules(group_name=, key_prefix=)``): its assets' keys, its check
        specs' assets, and, as Dagster does, its inputs and deps on assets among ``loaded``
        (the assets loaded with it, its own included)."""
        out = copy.copy(self)
        if group is not None:
            out.group_name = group
            out.outs = {n: replace(o, group_name=None) for n, o in self.outs.items()}
        if not prefix:
            return out
        own = {*loaded, *self.keys}

        def moved(key: AssetKey) -> AssetKey:
            return AssetKey([*prefix, *key.path]) if key in own else key

        out.outs = {n: replace(o, key=moved(o.key), deps=tuple(map(moved, o.deps)))
                    for n, o in out.outs.items()}  # fmt: skip
        out.key = next(iter(out.outs.values())).key
        out.inputs = tuple(replace(i, key=moved(i.key)) for i in self.inputs)
        out.deps = tuple(map(moved, self.deps))
        if hasattr(self, "internal_asset_deps"):
            out.internal_asset_deps = {
                n: set(map(moved, keys)) for n, keys in self.internal_asset_deps.items()
            }
        out.check_specs = [
            replace(s, asset=moved(s.asset_key),
                    additional_deps=tuple(moved(to_asset_key(d)) for d in s.additional_deps))
            for s in self.check_specs
        ]  # fmt: skip
        return out

    def _whole_unless_subsettable(
        self, keys: Sequence[AssetKey], kind: str, fix: str
    ) -> set[AssetKey]:
        """``keys`` as a set; refused unless they are all of the node's or it ``can_subset``."""
        wanted = set(keys)
        if wanted != self.keys and not self.can_subset:
            picked = ", ".join(sorted(k.to_user_string() for k in wanted))
            every = ", ".join(sorted(k.to_user_string() for k in self.keys))
            msg = (
                f"{kind} {self.node_name!r} produces the assets [{every}] together, but the "
                f"selection has only [{picked}]: expected all of them, or {fix}"
            )
            raise InvalidSubsetError(msg, asset=self.node_name, expected=every, got=picked)
        return wanted

    def node_steps(self, graph: Any, keys: Sequence[AssetKey]) -> list[Step]:
        """The one step that materializes ``keys`` of this node (all of them unless the node
        ``can_subset``)."""
        wanted = self._whole_unless_subsettable(
            keys, "multi-asset",
            "@multi_asset(can_subset=True) (its body reads context.selected_output_names)",
        )  # fmt: skip
        outputs = {
            o.name: o.step_output(self.partitions_def)
            for o in self.outs.values()
            if o.key in wanted
        }
        by_key = {k: graph.by_key[k] for k in wanted if k in graph.by_key}
        inputs = next(iter(by_key.values())).inputs if by_key else self.inputs
        deps = [d for s in by_key.values() for d in s.deps]
        step = replace(
            asset_step(self), key=self.node_name, label=f"multi-asset {self.node_name!r}",
            inputs=step_inputs(inputs), outputs=outputs, asset_deps=_upstream(inputs, deps),
            unselected_outputs=frozenset(n for n in self.outs if n not in outputs),
        )  # fmt: skip
        return [step]

    def __repr__(self) -> str:
        keys = ", ".join(o.key.to_user_string() for o in self.outs.values())
        return f"MultiAssetsDefinition(name={self.node_name!r}, keys=[{keys}])"


def _internal_deps(
    node: MultiAssetsDefinition, given: Mapping[str, Iterable[Any]] | None
) -> dict[str, set[AssetKey]]:
    """``internal_asset_deps`` checked: each names an output, and keys among the node's inputs,
    deps and other assets."""
    found: dict[str, set[AssetKey]] = {}
    allowed = {*node.upstream_keys, *(o.key for o in node.outs.values())}
    for name, keys in (given or {}).items():
        if name not in node.outs:
            known = ", ".join(node.outs)
            msg = (
                f"multi-asset {node.node_name!r}: internal_asset_deps names output {name!r}, "
                f"which it does not have: expected one of [{known}]"
            )
            raise DefinitionError(msg, asset=node.node_name, expected=known, got=name)
        wanted = {to_asset_key(k) for k in keys}
        extra = sorted(k.to_user_string() for k in wanted - allowed)
        if extra:
            every = ", ".join(sorted(k.to_user_string() for k in allowed))
            msg = (
                f"multi-asset {node.node_name!r}: internal_asset_deps of output {name!r} names "
                f"[{', '.join(extra)}], which are not its inputs, deps or assets: expected keys "
                f"among [{every}]"
            )
            raise DefinitionError(msg, asset=node.node_name, expected=every, got=extra[0])
        found[name] = wanted - {node.outs[name].key}
    return found


def _upstream(inputs: Iterable[Any], deps: Iterable[AssetKey]) -> tuple[AssetKey, ...]:
    seen: dict[AssetKey, None] = {i.key: None for i in inputs}
    seen.update((d, None) for d in deps)
    return tuple(seen)


def _tuple_types(annotation: Any, n: int) -> list[Any] | None:
    """The item types of ``-> tuple[A, B]`` when it has ``n`` items."""
    if typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if len(args) == n and Ellipsis not in args:
            return list(args)
    return None


def _spec_outs(specs: Sequence[AssetSpec], can_subset: bool) -> dict[str, tuple[AssetOut, bool]]:
    """Outputs from ``specs``: named by their key, without a value to store (the body yields
    ``MaterializeResult(asset_key=...)``), unless the spec names an I/O manager."""
    found: dict[str, tuple[AssetOut, bool]] = {}
    for spec in specs:
        im = spec.metadata.get("dagster/io_manager_key")
        out = AssetOut.from_spec(spec, is_required=not (can_subset or spec.skippable),
                                 io_manager_key=im)  # fmt: skip
        found[spec.key.to_python_identifier()] = (out, im is None)
    return found


def build_multi_asset(
    fn: Callable[..., Any],
    *,
    outs: Mapping[str, AssetOut] | None = None,
    specs: Sequence[AssetSpec] | None = None,
    name: str | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    description: str | None = None,
    required_resource_keys: set[str] | None = None,
    partitions_def: Any = None,
    can_subset: bool = False,
    group_name: str | None = None,
    code_version: str | None = None,
    config_schema: Any = None,
    internal_asset_deps: Mapping[str, Iterable[Any]] | None = None,
    localns: Mapping[str, Any] | None = None,
) -> MultiAssetsDefinition:
    """Build the node of a ``@multi_asset`` from ``fn`` and its outputs."""
    node_name = str(name or getattr(fn, "__name__", "multi_asset"))
    if not outs and not specs:
        msg = f"multi-asset {node_name!r} has no outputs: expected outs= or specs="
        raise DefinitionError(msg, asset=node_name, expected="outs= or specs=", got="none")
    if outs and specs:
        msg = f"multi-asset {node_name!r}: give outs= or specs=, not both"
        raise DefinitionError(msg, asset=node_name, expected="outs= or specs=", got="both")
    base = build_asset(
        fn, name=node_name, ins=ins, deps=deps, description=description,
        required_resource_keys=required_resource_keys, partitions_def=partitions_def,
        group_name=group_name, code_version=code_version, config_schema=config_schema,
        localns=localns,
    )  # fmt: skip
    given: dict[str, tuple[AssetOut, bool]] = (
        {n: (o, False) for n, o in (outs or {}).items()}
        if outs
        else _spec_outs(specs or (), can_subset)
    )
    for out_name, (out, _) in given.items():
        if not isinstance(out, AssetOut):
            msg = (
                f"multi-asset {node_name!r}: outs[{out_name!r}] is {type(out).__name__}: "
                "expected an AssetOut"
            )
            raise DefinitionError(msg, asset=node_name, expected="AssetOut",
                                  got=type(out).__name__)  # fmt: skip
    spec_deps = {s.key.to_python_identifier(): tuple(s.deps) for s in specs or ()}
    types = _tuple_types(base.return_annotation, len(given)) or [Any] * len(given)
    resolved: dict[str, _Out] = {}
    inline: dict[str, Any] = {}
    seen: dict[AssetKey, str] = {}
    for (out_name, (out, nothing)), ann in zip(given.items(), types, strict=True):
        key = out.asset_key(out_name)
        if key in seen:
            msg = (
                f"multi-asset {node_name!r}: outputs {seen[key]!r} and {out_name!r} both have "
                f"the asset key {key.to_user_string()!r}: expected each key once"
            )
            raise DefinitionError(msg, asset=node_name, expected="unique keys", got=out_name)
        seen[key] = out_name
        im = out.io_manager_key
        if out.io_manager_def is not None:
            im = inline_io_manager_key(key)
            inline[im] = out.io_manager_def
        resolved[out_name] = _Out(
            out_name, key, im or "io_manager",
            out.dagster_type if out.dagster_type is not None else ann,
            dict(out.metadata or {}), out.is_required, out.group_name, out.code_version,
            out.description, dict(out.tags or {}), nothing, spec_deps.get(out_name, ()),
        )  # fmt: skip
    node = copy.copy(base)
    node.__class__ = MultiAssetsDefinition
    assert isinstance(node, MultiAssetsDefinition)
    node.node_name = node_name
    node.outs = resolved
    node.can_subset = can_subset
    node.internal_asset_deps = _internal_deps(node, internal_asset_deps)
    node.key = next(iter(resolved.values())).key
    node.io_manager_key = next(iter(resolved.values())).io_manager_key
    node.resource_defs = {**node.resource_defs, **inline}
    return node


_KNOWN = {
    "outs", "specs", "name", "ins", "deps", "description", "required_resource_keys",
    "partitions_def", "can_subset", "group_name", "code_version", "config_schema",
    "internal_asset_deps",
}  # fmt: skip
#: accepted and recorded as on ``@asset`` (see ``asset_args``)
_RECORDED = {"compute_kind", "op_tags", "retry_policy", "pool", "check_specs", "backfill_policy",
             "tags", "kinds", "owners"}  # fmt: skip


def _own_check_specs(node: MultiAssetsDefinition, value: Any) -> list[Any]:
    """``check_specs=`` of a multi-asset: AssetCheckSpecs, each of one of its assets."""
    from wharf._core.asset_args import _check_specs

    specs = _check_specs(node.node_name, value)
    for spec in specs:
        if spec.asset_key not in node.keys:
            keys = sorted(k.to_user_string() for k in node.keys)
            msg = (
                f"multi-asset {node.node_name!r}: check_specs has check {spec.name!r} of asset "
                f"{spec.asset_key.to_user_string()!r}: expected checks of its assets {keys}"
            )
            raise DefinitionError(
                msg, asset=node.node_name, expected=str(keys), got=spec.asset_key.to_user_string()
            )
    return specs


def multi_asset(**kwargs: Any) -> Callable[[Callable[..., Any]], MultiAssetsDefinition]:
    """Declare several assets computed by one function.

    ``outs`` maps each output name to an :class:`AssetOut` (the asset's key is the name unless
    ``key=``/``key_prefix=`` say otherwise), or ``specs`` lists :class:`AssetSpec`\\ s (the body
    then yields ``MaterializeResult(asset_key=...)`` for each). The body returns a tuple with
    one value per output, in order, or yields ``Output(value, output_name=...)``. Each output
    is stored by the I/O manager of its ``AssetOut(io_manager_key=)``.

    Examples:
        >>> import wharf as dg
        >>> @multi_asset(outs={"a": AssetOut(), "b": AssetOut(key_prefix="p")})
        ... def two():
        ...     return 1, 2
        >>> sorted(k.to_user_string() for k in two.keys)
        ['a', 'p/b']
        >>> dg.materialize_to_memory([two]).output_for_node("two", "b")
        2
    """
    unknown = sorted(set(kwargs) - _KNOWN - _RECORDED)
    if unknown:
        name = str(kwargs.get("name") or "multi_asset")
        msg = (
            f"multi-asset {name!r}: @multi_asset got unknown argument"
            f"{'s' * (len(unknown) > 1)} {', '.join(unknown)}: expected "
            f"{', '.join(sorted(_KNOWN | _RECORDED))}"
        )
        raise DefinitionError(msg, asset=name, expected="@multi_asset arguments", got=unknown[0])
    used = {k: v for k, v in kwargs.items() if k in _KNOWN}
    recorded = {k: v for k, v in kwargs.items() if k in _RECORDED}
    localns = sys._getframe(1).f_locals

    def wrap(fn: Callable[..., Any]) -> MultiAssetsDefinition:
        node = build_multi_asset(fn, **used, localns=localns)
        for arg, value in recorded.items():
            if arg == "tags":
                node.tags = dict(value or {})
            elif arg == "kinds":
                node.kinds = set(value or ())
            elif arg == "owners":
                node.owners = list(value or ())
            elif arg == "check_specs":
                node.check_specs = _own_check_specs(node, value)
            else:
                setattr(node, arg, value)
        return node

    return wrap
