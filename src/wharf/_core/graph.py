"""The asset graph: keys to definitions, upstream edges, validation and order."""

from __future__ import annotations

import copy
import heapq
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from wharf._core.assets import AssetsDefinition, AssetSpec
from wharf._core.keys import AssetKey
from wharf._core.partitioning.mappings import infer_partition_mapping
from wharf.errors import CycleError, DuplicateKeyError, UnknownAssetError, WharfError

AnyAsset = AssetsDefinition | AssetSpec


class AssetGraph:
    """Validated assets: no duplicate keys, every loaded input exists, no cycles.

    Examples:
        >>> from wharf._core.assets import asset
        >>> @asset
        ... def a() -> int:
        ...     return 1
        >>> @asset
        ... def b(a: int) -> int:
        ...     return a + 1
        >>> [k.to_user_string() for k in AssetGraph([b, a]).toposort()]
        ['a', 'b']
    """

    def __init__(self, assets: Iterable[Any]) -> None:
        from wharf._core.checks import AssetChecksDefinition

        self.by_key: dict[AssetKey, AnyAsset] = {}
        #: the asset checks given with the assets (``@asset_check``)
        self.checks: list[AssetChecksDefinition] = []
        for item in _expanded(assets):
            if isinstance(item, AssetChecksDefinition):
                self.checks.append(item)
                continue
            if not isinstance(item, AssetsDefinition | AssetSpec):
                msg = (
                    "expected an asset (from @asset) or an AssetSpec, "
                    f"got {type(item).__name__}: {item!r}"
                )
                raise TypeError(msg)
            if item.key in self.by_key:
                other = self.by_key[item.key]
                msg = (
                    f"two assets have the key {item.key.to_user_string()!r} "
                    f"({_describe(other)} and {_describe(item)}): expected each key once"
                )
                raise DuplicateKeyError(
                    msg, asset=item.key.to_user_string(), expected="unique keys"
                )
            self.by_key[item.key] = item
        _resolve_by_group(self.by_key)
        self._check_inputs()
        self._check_checks()
        self._order = self._toposort()

    def _check_checks(self) -> None:
        """Every check names an asset of the graph, and each (asset, name) is there once."""
        seen: set[str] = set()
        for check in self.checks:
            for key in check.upstream_keys:
                if key not in self.by_key:
                    known = ", ".join(sorted(k.to_user_string() for k in self.by_key))
                    msg = (
                        f"asset check {check.name!r} needs asset {key.to_user_string()!r}, "
                        f"which is not in these definitions: expected one of [{known}]"
                    )
                    raise UnknownAssetError(msg, asset=key.to_user_string(), expected=known)
            if check.check_key in seen:
                msg = f"two asset checks are named {check.check_key!r}: expected each name once"
                raise DuplicateKeyError(msg, asset=check.asset_key.to_user_string())
            seen.add(check.check_key)

    @property
    def executable(self) -> list[AssetsDefinition]:
        return [a for a in self.by_key.values() if isinstance(a, AssetsDefinition)]

    def upstream(self, key: AssetKey) -> tuple[AssetKey, ...]:
        item = self.by_key[key]
        ups = item.upstream_keys if isinstance(item, AssetsDefinition) else tuple(item.deps)
        return tuple(k for k in ups if k in self.by_key)

    def _check_inputs(self) -> None:
        for item in self.executable:
            for inp in item.inputs:
                if inp.key not in self.by_key:
                    name = item.key.to_user_string()
                    known = ", ".join(sorted(k.to_user_string() for k in self.by_key))
                    msg = (
                        f"asset {name!r} has a parameter {inp.param!r} that names no asset: "
                        f"expected an asset with key {inp.key.to_user_string()!r} among "
                        f"[{known}]. Add that asset to the definitions, or use deps= for an "
                        "ordering-only dependency"
                    )
                    raise UnknownAssetError(
                        msg, asset=name, expected=inp.key.to_user_string(), got="no such asset"
                    )
                self._check_mapping(item, inp.key, inp.partition_mapping, inp.param)

    def _check_mapping(
        self, item: AssetsDefinition, key: AssetKey, mapping: Any, param: str
    ) -> None:
        """The input's partition mapping can join the two assets' partitions definitions."""
        upstream = self.by_key[key].partitions_def
        try:
            found = infer_partition_mapping(mapping, item.partitions_def, upstream)
            if found is not None:
                found.check_definitions(item.partitions_def, upstream)
        except WharfError as exc:
            name = item.key.to_user_string()
            exc.add_note(
                f"in input {param!r} of asset {name!r} (upstream {key.to_user_string()!r})"
            )
            exc.asset = exc.asset or name
            raise

    def _toposort(self) -> list[AssetKey]:
        indegree = dict.fromkeys(self.by_key, 0)
        children: dict[AssetKey, list[AssetKey]] = {k: [] for k in self.by_key}
        for key in self.by_key:
            for up in self.upstream(key):
                indegree[key] += 1
                children[up].append(key)
        ready = [k for k, n in indegree.items() if n == 0]
        heapq.heapify(ready)
        order: list[AssetKey] = []
        while ready:
            key = heapq.heappop(ready)
            order.append(key)
            for child in children[key]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    heapq.heappush(ready, child)
        if len(order) != len(self.by_key):
            cycle = self._find_cycle({k for k, n in indegree.items() if n > 0})
            path = " -> ".join(k.to_user_string() for k in cycle)
            msg = f"assets depend on each other in a cycle: {path}: expected a graph without cycles"
            raise CycleError(msg, asset=cycle[0].to_user_string(), expected="no cycle", got=path)
        return order

    def _find_cycle(self, stuck: set[AssetKey]) -> list[AssetKey]:
        start = min(stuck)
        path, seen = [start], {start}
        while True:
            nxt = min(k for k in self.upstream(path[-1]) if k in stuck)
            if nxt in seen:
                loop = path[path.index(nxt) :]
                return [*loop, nxt][::-1]  # walked upstream; print in data-flow order
            path.append(nxt)
            seen.add(nxt)

    def toposort(self) -> list[AssetKey]:
        """Every key, upstream before downstream (ties broken by key, so runs are repeatable)."""
        return list(self._order)

    def resolve_selection(self, selection: Any) -> list[AssetKey]:
        """The executable keys a selection names (an ``AssetSelection``, a string in the
        selection syntax, or keys and assets), in dependency order; all of them if None."""
        from wharf._core.selection import resolve_keys

        return resolve_keys(self, selection)


def _expanded(assets: Iterable[Any]) -> Iterable[Any]:
    """The items, a multi-asset as its slices (one asset each, see ``multi_assets``)."""
    for item in assets:
        slices = getattr(item, "slices", None)
        if isinstance(item, AssetsDefinition) and slices is not None:
            yield from slices
        else:
            yield item


def _describe(item: AnyAsset) -> str:
    node = getattr(item, "_node", None)
    if node is not None:
        return f"@multi_asset {getattr(node.fn, '__module__', '?')}.{node.node_name}"
    if isinstance(item, AssetsDefinition):
        fn = item.fn
        return f"@asset {getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
    return "AssetSpec"


def _resolve_by_group(by_key: dict[AssetKey, AnyAsset]) -> None:
    """A one-part input or dep key that names no asset resolves to the one asset of the same
    group with that last name part, as Dagster resolves it: ``AssetIn("b_df")`` inside an asset
    with ``key_prefix=["my_schema"]`` loads ``my_schema/b_df``. The asset that needs it is
    replaced by a copy with the resolved keys; the user's definition is left as it was."""
    by_group_name: dict[tuple[str, str], list[AssetKey]] = {}
    for key, item in by_key.items():
        by_group_name.setdefault((item.group_name or "default", key.path[-1]), []).append(key)
    seen: set[int] = set()
    for item in list(by_key.values()):
        if not isinstance(item, AssetsDefinition) or id(item) in seen:
            continue
        seen.add(id(item))
        found: dict[AssetKey, AssetKey] = {}
        for key in item.upstream_keys:
            if key in by_key or len(key.path) != 1:
                continue
            matches = by_group_name.get((item.group_name or "default", key.path[0]), [])
            if len(matches) == 1 and matches[0] not in item.keys:
                found[key] = matches[0]
        if not found:
            continue
        resolved = copy.copy(item)
        resolved.inputs = tuple(replace(i, key=found.get(i.key, i.key)) for i in item.inputs)
        resolved.deps = tuple(found.get(d, d) for d in item.deps)
        internal = getattr(item, "internal_upstream", None)
        if internal is not None:
            resolved.internal_upstream = tuple(found.get(k, k) for k in internal)  # type: ignore[attr-defined]
        for key, value in list(by_key.items()):
            if value is item:
                by_key[key] = resolved
