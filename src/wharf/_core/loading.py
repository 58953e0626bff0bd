"""Collect assets from modules (``load_assets_from_modules`` and co.), bind resources to assets
(``with_resources``) and find files next to code (``file_relative_path``)."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import os
import pkgutil
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

from wharf._core.assets import AssetsDefinition, AssetSpec
from wharf._core.keys import AssetKey
from wharf.errors import DefinitionError


def file_relative_path(dunderfile: str, relative_path: str) -> str:
    """``relative_path`` next to the file ``dunderfile`` (pass ``__file__``).

    Examples:
        >>> file_relative_path("/repo/pipeline/defs.py", "data/raw.csv")
        '/repo/pipeline/data/raw.csv'
    """
    return os.path.join(os.path.dirname(dunderfile), relative_path)


def _assets_in(module: ModuleType) -> list[Any]:
    found: list[Any] = []
    for value in vars(module).values():
        if isinstance(value, AssetsDefinition | AssetSpec):
            found.append(value)
        elif (
            isinstance(value, list | tuple)
            and value
            and all(isinstance(v, AssetsDefinition | AssetSpec) for v in value)
        ):
            found.extend(value)
    return found


def _finish(
    found: Iterable[Any],
    group_name: str | None,
    key_prefix: str | Sequence[str] | None,
) -> list[Any]:
    unique: dict[int, Any] = {}
    for item in found:
        unique.setdefault(id(item), item)
    items = list(unique.values())
    if group_name is not None or key_prefix is not None:
        items = [_regroup(i, group_name, key_prefix, items) for i in items]
    return items


def _regroup(item: Any, group: str | None, prefix: Any, all_items: list[Any]) -> Any:
    own = {k for i in all_items for k in getattr(i, "keys", {i.key})}
    if hasattr(item, "regrouped"):  # a multi-asset: every asset key gets the prefix
        parts = [prefix] if isinstance(prefix, str) else list(prefix or [])
        return item.regrouped(group, parts, own)
    out = copy.copy(item)
    if group is not None:
        out.group_name = group
    if prefix is not None and isinstance(item, AssetsDefinition):
        parts = [prefix] if isinstance(prefix, str) else list(prefix)
        out.key = AssetKey([*parts, *item.key.path])
        # inputs on assets loaded together get the prefix too, as Dagster does
        out.inputs = tuple(
            dataclasses.replace(i, key=AssetKey([*parts, *i.key.path])) if i.key in own else i
            for i in item.inputs
        )
        out.deps = tuple(AssetKey([*parts, *d.path]) if d in own else d for d in item.deps)
    return out


def load_assets_from_modules(
    modules: Iterable[ModuleType],
    group_name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    **_: Any,
) -> list[Any]:
    """Every asset and ``AssetSpec`` defined at the top level of ``modules`` (each once)."""
    found: list[Any] = []
    for module in modules:
        if not isinstance(module, ModuleType):
            msg = f"load_assets_from_modules: {module!r} is not a module: expected imported modules"
            raise DefinitionError(msg, expected="a module", got=type(module).__name__)
        found.extend(_assets_in(module))
    return _finish(found, group_name, key_prefix)


def load_assets_from_current_module(
    group_name: str | None = None, key_prefix: str | Sequence[str] | None = None, **_: Any
) -> list[Any]:
    """The assets of the module that calls this."""
    frame = inspect.stack()[1]
    module = inspect.getmodule(frame[0])
    if module is None:
        msg = "load_assets_from_current_module: the calling module could not be found"
        raise DefinitionError(msg, expected="a module", got="none")
    return load_assets_from_modules([module], group_name, key_prefix)


def load_assets_from_package_module(
    package_module: ModuleType,
    group_name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    **_: Any,
) -> list[Any]:
    """The assets of a package and every module under it."""
    modules = [package_module]
    path = getattr(package_module, "__path__", None)
    if path is not None:
        prefix = package_module.__name__ + "."
        modules.extend(
            importlib.import_module(info.name) for info in pkgutil.walk_packages(path, prefix)
        )
    return load_assets_from_modules(modules, group_name, key_prefix)


def load_assets_from_package_name(
    package_name: str, group_name: str | None = None, key_prefix: Any = None, **_: Any
) -> list[Any]:
    """:func:`load_assets_from_package_module` of the package imported by name."""
    return load_assets_from_package_module(
        importlib.import_module(package_name), group_name, key_prefix
    )


def with_resources(
    definitions: Iterable[Any],
    resource_defs: Mapping[str, Any],
    resource_config_by_key: Mapping[str, Any] | None = None,
) -> list[Any]:
    """Copies of the assets that carry ``resource_defs``; a run of them uses those resources."""
    if not isinstance(resource_defs, Mapping) or not all(isinstance(k, str) for k in resource_defs):
        msg = f"with_resources: resource_defs must map str keys to resources, got {resource_defs!r}"
        raise DefinitionError(
            msg, expected="a mapping of str keys", got=type(resource_defs).__name__
        )
    out = []
    for item in definitions:
        bound = item
        if isinstance(item, AssetsDefinition):
            bound = copy.copy(item)
            bound.resource_defs = {**item.resource_defs, **resource_defs}
        out.append(bound)
    return out


def bound_resources(assets: Iterable[Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """``given`` plus the resources bound to ``assets`` by :func:`with_resources`.

    Raises:
        DefinitionError: two different resources under one key.
    """
    out = dict(given or {})
    for item in assets:
        for key, res in getattr(item, "resource_defs", {}).items():
            if key in out and out[key] is not res:
                name = item.key.to_user_string()
                msg = (
                    f"asset {name!r} is bound (with_resources) to a resource {key!r} "
                    f"({type(res).__name__}) other than the one given to the run "
                    f"({type(out[key]).__name__}): expected one resource per key"
                )
                raise DefinitionError(msg, asset=name, io_manager=key, expected="one resource")
            out[key] = res
    return out
