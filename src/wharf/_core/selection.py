"""``AssetSelection``: which assets a run or a job covers, as an algebra over the asset graph.

A selection is a small tree of frozen nodes (keys, groups, tags, upstream of, ``|``, ``&``,
``-``...) resolved against an :class:`~wharf._core.graph.AssetGraph` into a set of keys.
Strings in Dagster's selection syntax (``"*raw"``, ``"raw+2"``, ``'group:"sales" and
tag:"tier"="gold"'``) parse into the same tree (:mod:`wharf._core.selection_syntax`).
"""

from __future__ import annotations

import fnmatch
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING, Any

from wharf._core.keys import AssetKey, to_asset_key
from wharf.errors import DefinitionError, UnknownAssetError

if TYPE_CHECKING:
    from wharf._core.graph import AnyAsset, AssetGraph

__all__ = ["AssetSelection", "resolve_keys"]

# graph -> key -> the keys that depend on it (built once per graph)
_CHILDREN: weakref.WeakKeyDictionary[AssetGraph, dict[AssetKey, list[AssetKey]]] = (
    weakref.WeakKeyDictionary()
)


def _children(graph: AssetGraph) -> dict[AssetKey, list[AssetKey]]:
    found = _CHILDREN.get(graph)
    if found is None:
        found = {k: [] for k in graph.by_key}
        for key in graph.by_key:
            for up in graph.upstream(key):
                found[up].append(key)
        _CHILDREN[graph] = found
    return found


def _is_executable(item: AnyAsset) -> bool:
    from wharf._core.assets import AssetsDefinition

    return isinstance(item, AssetsDefinition)


def _as_graph(all_assets: Any) -> AssetGraph:
    from wharf._core.graph import AssetGraph

    return all_assets if isinstance(all_assets, AssetGraph) else AssetGraph(all_assets)


class AssetSelection:
    """A selection of assets, combined with ``|`` (union), ``&`` (intersection) and ``-``.

    Build one with the static methods, widen it with :meth:`upstream` / :meth:`downstream`,
    and resolve it with :meth:`resolve`. Wherever a selection is accepted, a string in
    Dagster's selection syntax is too (:meth:`from_string`).

    Examples:
        >>> import wharf as dg
        >>> @dg.asset
        ... def raw() -> int:
        ...     return 1
        >>> @dg.asset(group_name="marts")
        ... def report(raw: int) -> int:
        ...     return raw
        >>> sel = dg.AssetSelection.groups("marts").upstream()
        >>> sorted(k.to_user_string() for k in sel.resolve([raw, report]))
        ['raw', 'report']
        >>> sorted(k.to_user_string() for k in dg.AssetSelection.from_string("raw+").resolve(
        ...     [raw, report]))
        ['raw', 'report']
    """

    # -- building ------------------------------------------------------------------------
    @staticmethod
    def all(include_sources: bool = False) -> AssetSelection:
        """Every asset (and external ``AssetSpec`` with ``include_sources``)."""
        return _All(include_sources)

    @staticmethod
    def assets(*assets_defs: Any) -> AssetSelection:
        """The given assets (``@asset`` definitions, specs or keys)."""
        return _Keys(tuple(k for a in assets_defs for k in _keys_of(a)))

    @staticmethod
    def keys(*asset_keys: Any) -> AssetSelection:
        """The assets with these keys (``AssetKey``, a list of parts, or ``"a/b"`` text)."""
        return _Keys(tuple(_key_of(k) for k in asset_keys))

    @staticmethod
    def key_prefixes(*key_prefixes: Any, include_sources: bool = False) -> AssetSelection:
        """Assets whose key starts with one of these prefixes (``"p"`` or ``["p", "q"]``)."""
        prefixes = tuple(
            tuple(p.split("/")) if isinstance(p, str) else tuple(p) for p in key_prefixes
        )
        return _Where(
            f"key_prefixes{prefixes}",
            lambda k, _: any(k.path[: len(p)] == p for p in prefixes),
            include_sources,
        )

    @staticmethod
    def groups(*group_strs: str, include_sources: bool = False) -> AssetSelection:
        """Assets in one of these groups."""
        names = frozenset(group_strs)
        return _Where(
            f"groups{tuple(sorted(names))}",
            lambda _, a: (a.group_name or "default") in names,
            include_sources,
        )

    @staticmethod
    def tag(key: str, value: str | None = None, include_sources: bool = False) -> AssetSelection:
        """Assets with the tag ``key`` (set to ``value``, when given)."""

        def has(_: AssetKey, a: AnyAsset) -> bool:
            tags = a.tags or {}
            return key in tags and (value is None or tags[key] == value)

        return _Where(f"tag({key!r}, {value!r})", has, include_sources)

    @staticmethod
    def tag_string(string: str, include_sources: bool = False) -> AssetSelection:
        """``"k"`` or ``"k=v"`` as :meth:`tag`."""
        key, sep, value = string.partition("=")
        return AssetSelection.tag(key, value if sep else None, include_sources)

    @staticmethod
    def owner(owner: str) -> AssetSelection:
        """Assets owned by ``owner`` (an email or ``team:name``)."""
        return _Where(f"owner({owner!r})", lambda _, a: owner in (getattr(a, "owners", ()) or ()))

    @staticmethod
    def kind(kind: str) -> AssetSelection:
        """Assets of this kind (``kinds=`` or ``compute_kind=``)."""
        return _Where(f"kind({kind!r})", lambda _, a: kind in _kinds(a))

    @staticmethod
    def key_wildcard(pattern: str) -> AssetSelection:
        """Assets whose ``a/b`` key matches ``pattern``, where ``*`` matches any text."""
        return _Where(
            f"key({pattern!r})",
            lambda k, _: fnmatch.fnmatchcase(k.to_user_string(), pattern),
            include_sources=True,
        )

    @staticmethod
    def from_string(string: str) -> AssetSelection:
        """Parse Dagster's selection syntax, e.g. ``"*raw"``, ``"+report+2"``,
        ``'group:"marts" and not tag:"tier"="bronze"'``."""
        from wharf._core.selection_syntax import parse_selection

        return parse_selection(string)

    @staticmethod
    def from_coercible(selection: Any) -> AssetSelection:
        """A selection from what ``materialize(selection=)`` accepts: a selection, a string in
        the selection syntax, or a sequence of keys, key strings or assets."""
        if isinstance(selection, AssetSelection):
            return selection
        if isinstance(selection, str):
            return AssetSelection.from_string(selection)
        if isinstance(selection, AssetKey) or not isinstance(selection, Iterable):
            return AssetSelection.assets(selection)
        items = list(selection)
        parts: list[AssetSelection] = []
        plain = [i for i in items if not isinstance(i, str | AssetSelection)]
        if plain:
            parts.append(AssetSelection.assets(*plain))
        parts.extend(AssetSelection.from_coercible(i) for i in items if isinstance(i, str))
        parts.extend(i for i in items if isinstance(i, AssetSelection))
        return reduce(lambda a, b: a | b, parts) if parts else _Keys(())

    # -- combining -----------------------------------------------------------------------
    def __or__(self, other: AssetSelection) -> AssetSelection:
        return _Or(self, _check(other, "|"))

    def __and__(self, other: AssetSelection) -> AssetSelection:
        return _And(self, _check(other, "&"))

    def __sub__(self, other: AssetSelection) -> AssetSelection:
        return _Sub(self, _check(other, "-"))

    def upstream(self, depth: int | None = None, include_self: bool = True) -> AssetSelection:
        """This selection and the assets it depends on, ``depth`` levels up (all if None)."""
        return _Walk(self, "up", _depth(depth), include_self)

    def downstream(self, depth: int | None = None, include_self: bool = True) -> AssetSelection:
        """This selection and the assets that depend on it, ``depth`` levels down."""
        return _Walk(self, "down", _depth(depth), include_self)

    def roots(self) -> AssetSelection:
        """The assets of this selection that depend on no other asset of it."""
        return _Ends(self, "up")

    def sinks(self) -> AssetSelection:
        """The assets of this selection that no other asset of it depends on."""
        return _Ends(self, "down")

    def required_multi_asset_neighbors(self) -> AssetSelection:
        """This selection (each wharf asset is its own step, so none are required)."""
        return self

    # -- resolving -----------------------------------------------------------------------
    def resolve(self, all_assets: Any) -> set[AssetKey]:
        """The keys this selection names among ``all_assets`` (assets or an asset graph).

        Raises:
            UnknownAssetError: an explicitly named key is no asset.
        """
        return self._resolve(_as_graph(all_assets))

    def _resolve(self, graph: AssetGraph) -> set[AssetKey]:
        raise NotImplementedError


def _check(other: Any, op: str) -> AssetSelection:
    if isinstance(other, AssetSelection):
        return other
    got = type(other).__name__
    msg = f"AssetSelection {op} {other!r}: expected another AssetSelection, got {got}"
    raise DefinitionError(msg, expected="an AssetSelection", got=type(other).__name__)


def _depth(depth: int | None) -> int | None:
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        msg = f"selection depth must be a non-negative int or None, got {depth!r}"
        raise DefinitionError(msg, expected="int >= 0 or None", got=repr(depth))
    return depth


def _keys_of(value: Any) -> list[AssetKey]:
    """The keys an item names: every asset of a multi-asset, else its one key."""
    if getattr(value, "slices", None) is not None:
        return sorted(value.keys)
    return [_key_of(value)]


def _key_of(value: Any) -> AssetKey:
    if isinstance(value, str):
        return AssetKey.from_user_string(value)
    return to_asset_key(value)


def _kinds(item: AnyAsset) -> set[str]:
    kinds = set(getattr(item, "kinds", ()) or ())
    compute_kind = getattr(item, "compute_kind", None)
    if compute_kind:
        kinds.add(compute_kind)
    kinds.update(
        k.removeprefix("dagster/kind/") for k in (item.tags or {}) if k.startswith("dagster/kind/")
    )
    return kinds


@dataclass(frozen=True)
class _All(AssetSelection):
    include_sources: bool = False

    def _resolve(self, graph: AssetGraph) -> set[AssetKey]:
        return {k for k, a in graph.by_key.items() if self.include_sources or _is_executable(a)}


@dataclass(frozen=True)
class _Keys(AssetSelection):
    keys_: tuple[AssetKey, ...]

    def _resolve(self, graph: AssetGraph) -> set[AssetKey]:
        for key in self.keys_:
            if key not in graph.by_key:
                raise unknown_key(graph, key)
        return set(self.keys_)


def unknown_key(graph: AssetGraph, key: AssetKey) -> UnknownAssetError:
    """The error for a selection naming ``key``, which is no asset of ``graph``."""
    known = sorted(k.to_user_string() for k in graph.by_key)
    shown = ", ".join(known[:20]) + (f", ... ({len(known)} in all)" if len(known) > 20 else "")
    msg = f"selection names {key.to_user_string()!r}, which is no asset: expected one of [{shown}]"
    return UnknownAssetError(msg, asset=key.to_user_string(), expected=shown, got="no such asset")


@dataclass(frozen=True)
class _Where(AssetSelection):
    label: str
    test: Callable[[AssetKey, AnyAsset], bool]
    include_sources: bool = False

    def _resolve(self, graph: AssetGraph) -> set[AssetKey]:
        return {
            k
            for k, a in graph.by_key.items()
            if (self.include_sources or _is_executable(a)) and self.test(k, a)
        }


@dataclass(frozen=True)
class _Or(AssetSelection):
    left: AssetSelection
    right: AssetSelection

    def _resolve(self, graph: AssetGraph) -> set[AssetKey]:
        return self.left._resolve(graph) | self.right._resolve(graph)


@dataclass(frozen=True)
class _And(AssetSelection):
    left: AssetSelection
    right: AssetSelection

    def _resolve(self, graph: AssetGraph) -> set[AssetKey]:
        return self.left._resolve(graph) & self.right._resolve(graph)


@dataclass(frozen=True)
class _Sub(AssetSelection):
    left: AssetSelection
    right: AssetSelection

    def _resolve(self, graph: AssetGraph) -> set[AssetKey]:
        return self.left._resolve(graph) - self.right._resolve(graph)


@dataclass(frozen=True)
class _Walk(AssetSelection):
    start: AssetSelection
    direction: str  # "up" or "down"
    depth: int | None
    include_self: bool = True

    def _resolve(self, graph: AssetGraph) -> set[AssetKey]:
        begin = self.start._resolve(graph)
        children = _children(graph)

        def step(k: AssetKey) -> Sequence[AssetKey]:
            return graph.upstream(k) if self.direction == "up" else children[k]

        seen, frontier, level = set(begin), list(begin), 0
        while frontier and (self.depth is None or level < self.depth):
            nxt = [n for k in frontier for n in step(k) if n not in seen]
            seen.update(nxt)
            frontier, level = nxt, level + 1
        return seen if self.include_self else seen - begin


@dataclass(frozen=True)
class _Ends(AssetSelection):
    start: AssetSelection
    direction: str

    def _resolve(self, graph: AssetGraph) -> set[AssetKey]:
        chosen = self.start._resolve(graph)
        children = _children(graph)

        def others(k: AssetKey) -> Iterable[AssetKey]:
            return graph.upstream(k) if self.direction == "up" else children[k]

        return {k for k in chosen if not any(n in chosen for n in others(k))}


def resolve_keys(graph: AssetGraph, selection: Any) -> list[AssetKey]:
    """The executable keys ``selection`` names, in dependency order (all if None)."""
    order = graph.toposort()
    if selection is None:
        return [k for k in order if _is_executable(graph.by_key[k])]
    wanted = AssetSelection.from_coercible(selection)._resolve(graph)
    # an observable source asset runs (is observed) only when a selection names it
    return [
        k
        for k in order
        if k in wanted
        and (_is_executable(graph.by_key[k]) or getattr(graph.by_key[k], "observe_fn", None))
    ]
