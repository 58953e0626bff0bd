"""Resources for one run: check keys, resolve ``EnvVar``s, set up, build I/O managers, tear down."""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Mapping
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any

from wharf._core.assets import AssetsDefinition
from wharf._core.graph import AssetGraph
from wharf._core.io_managers import IOManager, StoreCapabilities, built_in
from wharf._core.keys import AssetKey
from wharf._core.resource_defs import ResourceDefinition
from wharf.errors import MissingResourceError

if TYPE_CHECKING:
    from wharf._core.execution import RunContext
    from wharf._core.plan import Step

DEFAULT_IO_MANAGER_KEY = "io_manager"


def io_manager_key_of(graph: AssetGraph, key: AssetKey) -> str:
    return str(getattr(graph.by_key[key], "io_manager_key", DEFAULT_IO_MANAGER_KEY))


def needed_resource_keys(graph: AssetGraph, selected: Iterable[AssetKey]) -> dict[str, str]:
    """Resource key -> the first asset that needs it (for error messages)."""
    needed: dict[str, str] = {}
    for key in selected:
        item = graph.by_key[key]
        if not isinstance(item, AssetsDefinition):
            for rk in sorted(getattr(item, "required_resource_keys", ())):  # an observation
                needed.setdefault(rk, key.to_user_string())
            continue
        name = key.to_user_string()
        needed.setdefault(item.io_manager_key, name)
        for rk in sorted(item.required_resource_keys):
            needed.setdefault(rk, name)
        for inp in item.inputs:  # an input manager loads instead of the upstream's manager
            needed.setdefault(inp.input_manager_key or io_manager_key_of(graph, inp.key), name)
    chosen = set(selected) if getattr(graph, "checks", None) else set()
    for check in getattr(graph, "checks", ()):
        if check.asset_key in chosen:  # the check runs after its asset: its resources too
            for rk in sorted(check.required_resource_keys):
                needed.setdefault(rk, check.check_key)
            for key in check.upstream_keys:
                needed.setdefault(io_manager_key_of(graph, key), check.check_key)
    return needed


def plan_resource_keys(graph: AssetGraph, steps: Iterable[Step]) -> dict[str, str]:
    """Resource key -> the first step that needs it: the managers of its outputs, of the
    upstream values it loads (or its input managers), and its other resources."""
    by_key: dict[str, Step] = {}
    steps = list(steps)
    for step in steps:
        by_key[step.key] = step
    needed: dict[str, str] = {}
    for step in steps:
        for out in step.outputs.values():
            if not out.nothing:
                needed.setdefault(out.io_manager_key, step.label)
        for rk in sorted(step.required_resource_keys | set(step.resource_params.values())):
            needed.setdefault(rk, step.label)
        for inp in step.inputs:
            if inp.input_manager_key is not None:
                needed.setdefault(inp.input_manager_key, step.label)
            elif inp.asset_key is not None and inp.asset_key in graph.by_key:
                needed.setdefault(io_manager_key_of(graph, inp.asset_key), step.label)
    return needed


def step_resource_keys(run: RunContext, steps: Iterable[Step]) -> dict[str, str]:
    """The resources a worker must set up to run ``steps``: :func:`plan_resource_keys`, plus
    the managers of the upstream op outputs they read."""
    steps = list(steps)
    needed = plan_resource_keys(run.graph, steps)
    for step in steps:
        for inp in step.inputs:
            for src in inp.sources:
                if inp.input_manager_key is None and run.plan is not None:
                    up = run.plan.steps[src.step].outputs[src.output]
                    needed.setdefault(up.io_manager_key, step.label)
    return needed


def check_outputs(
    graph: AssetGraph, selected: Iterable[AssetKey], resources: Mapping[str, Any]
) -> None:
    """Before a run, let each I/O manager that can (``check_outputs(outputs, partitions)``:
    ``(key, metadata)`` pairs and each key's partitions definition) refuse the outputs it is
    given, e.g. two assets that it would store in the same table or file."""
    by_manager: dict[str, list[tuple[AssetKey, Mapping[str, Any]]]] = {}
    partitions: dict[AssetKey, Any] = {}
    for key in selected:
        item = graph.by_key[key]
        if isinstance(item, AssetsDefinition):
            by_manager.setdefault(item.io_manager_key, []).append((key, item.metadata))
            partitions[key] = item.partitions_def
    for im_key, outputs in by_manager.items():
        manager = resources.get(im_key)
        if isinstance(manager, StoreCapabilities):
            manager.check_outputs(outputs, partitions)


def with_default_io_manager(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    """The resources, with the default ``FilesystemIOManager`` under ``io_manager`` if absent."""
    out = dict(resources or {})
    if DEFAULT_IO_MANAGER_KEY not in out:
        out[DEFAULT_IO_MANAGER_KEY] = built_in("default")
    return out


def check_resource_keys(graph: AssetGraph, resources: Collection[str]) -> None:
    """Every io_manager_key, required resource and resource parameter has a resource."""
    for key, asset_name in needed_resource_keys(graph, graph.by_key).items():
        if key not in resources and "#" in asset_name:  # an asset check (asset#check)
            known = ", ".join(sorted(resources)) or "none"
            msg = (
                f"asset check {asset_name!r} needs the resource {key!r}, but no resource has "
                f"that key: expected one of [{known}]"
            )
            raise MissingResourceError(msg, asset=asset_name, io_manager=key, expected=known)
        if key not in resources:
            item = graph.by_key[AssetKey.from_user_string(asset_name)]
            assert isinstance(item, AssetsDefinition)
            role = "io_manager_key" if key == item.io_manager_key else "resource"
            if role == "resource" and key in item.resource_params:
                role = "resource parameter"
            elif role == "resource" and any(i.input_manager_key == key for i in item.inputs):
                role = "input_manager_key"
            elif role == "resource" and key not in item.required_resource_keys:
                role = "io_manager_key of an upstream input"
            known = ", ".join(sorted(resources)) or "none"
            msg = (
                f"asset {asset_name!r} needs the {role} {key!r}, but no resource has that key: "
                f"expected one of [{known}]. Add resources={{{key!r}: ...}} to the definitions"
            )
            raise MissingResourceError(
                msg, asset=asset_name, io_manager=key, expected=known, got=key
            )


def _is_configurable(obj: Any) -> bool:
    config = sys.modules.get("wharf._core.config")
    return config is not None and isinstance(obj, config.ConfigurableResource)


class RunResources:
    """Resolve and set up the resources a run needs; a context manager that tears them down."""

    def __init__(
        self, resources: Mapping[str, Any], keys: Iterable[str], run_id: str, instance: Any = None
    ) -> None:
        self.definitions = dict(resources)
        self.instance = instance
        self.keys = self._setup_order(sorted(set(keys) & set(resources)))
        self.run_id = run_id
        self.instances: dict[str, Any] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self._stack = ExitStack()
        self._live: dict[int, Any] = {}  # id of a set-up resource -> what its setup yielded
        #: values read from EnvVars, masked wherever a step's logs are kept or shown
        self.secret_values: tuple[str, ...] = ()

    def resolve_env(self) -> dict[str, Any]:
        """Every needed resource with its ``EnvVar``s read; a missing variable raises."""
        return {
            k: (v.resolve_env(k) if _is_configurable(v) else v)
            for k, v in ((k, self.definitions[k]) for k in self.keys)
        }

    def __enter__(self) -> RunResources:
        # Resolve every EnvVar first, so a missing variable fails before anything is set up.
        resolved = self.resolve_env()
        from wharf._core.logs import secret_values

        self.secret_values = secret_values(resolved.values())
        try:
            for key, res in resolved.items():
                self.instances[key] = self._set_up(key, res)
        except BaseException:
            self._stack.close()
            raise
        return self

    def _setup_order(self, keys: list[str]) -> list[str]:
        """``keys`` plus the resources their I/O manager factories require, dependencies first."""
        order: list[str] = []

        def visit(key: str, chain: tuple[str, ...]) -> None:
            if key in order or key in chain:
                return
            res = self.definitions[key]
            required = res.required_resource_keys if isinstance(res, ResourceDefinition) else ()
            for dep in sorted(required):
                if dep not in self.definitions:
                    known = ", ".join(sorted(self.definitions)) or "none"
                    msg = (
                        f"I/O manager {key!r} requires the resource {dep!r}, but no resource has "
                        f"that key: expected one of [{known}]"
                    )
                    raise MissingResourceError(msg, io_manager=key, expected=known, got=dep)
                visit(dep, (*chain, key))
            order.append(key)

        for key in keys:
            visit(key, ())
        return order

    def _set_up(self, key: str, res: Any) -> Any:
        from wharf._core.contexts import Resources

        config = res.resource_config if _is_configurable(res) else getattr(res, "config", {})
        self.configs[key] = dict(config or {})
        if _is_configurable(res):
            from wharf._core.config import InitResourceContext
            from wharf._core.config_io import ConfigurableIOManagerFactory

            self._set_up_nested(key, res)
            ctx = InitResourceContext(
                resource_config=self.configs[key], resources=Resources(self.instances),
                run_id=self.run_id, resource_key=key, instance=self.instance,
            )  # fmt: skip
            if isinstance(res, ConfigurableIOManagerFactory):
                return res.get_io_manager(ctx)
            return self._entered(res, ctx)
        if isinstance(res, ResourceDefinition):  # @resource, @io_manager, @input_manager
            from wharf._core.config import InitResourceContext

            self.configs[key] = res.run_config(key=key)
            ctx = InitResourceContext(
                resource_config=self.configs[key], resources=Resources(self.instances),
                run_id=self.run_id, resource_key=key, instance=self.instance,
            )  # fmt: skip
            return self._stack.enter_context(res.open(ctx))
        return res

    def _set_up_nested(self, key: str, res: Any) -> None:
        """Set up the resources held in ``res``'s fields before ``res`` itself (innermost
        first, as Dagster does), each once per run even when several resources share it."""
        from wharf._core.config import InitResourceContext
        from wharf._core.config_io import ConfigurableIOManagerFactory
        from wharf._core.contexts import Resources

        for name in type(res).model_fields:
            inner = res.__dict__.get(name)
            if not _is_configurable(inner) or isinstance(inner, ConfigurableIOManagerFactory):
                continue
            self._set_up_nested(f"{key}.{name}", inner)
            ctx = InitResourceContext(
                resource_config=inner.resource_config, resources=Resources(self.instances),
                run_id=self.run_id, resource_key=f"{key}.{name}", instance=self.instance,
            )  # fmt: skip
            self._entered(inner, ctx)

    def _entered(self, res: Any, ctx: Any) -> Any:
        """``res`` set up for the run (its teardown registered), unless it already is."""
        if id(res) not in self._live:
            self._live[id(res)] = self._stack.enter_context(res.yield_for_execution(ctx))
        return self._live[id(res)]

    def io_manager(self, key: str, *, asset: str) -> IOManager:
        manager = self.instances.get(key)
        if not isinstance(manager, IOManager):
            got = type(manager).__name__ if key in self.instances else "nothing"
            msg = (
                f"asset {asset!r} uses io_manager_key {key!r}, but that resource is not an I/O "
                f"manager: expected an IOManager (e.g. FilesystemIOManager), got {got}"
            )
            raise MissingResourceError(
                msg, asset=asset, io_manager=key, expected="IOManager", got=got
            )
        return manager

    def input_manager(self, key: str, *, asset: str) -> Any:
        """The input manager (or I/O manager) under ``key``: anything with ``load_input``."""
        manager = self.instances.get(key)
        if not callable(getattr(manager, "load_input", None)):
            got = type(manager).__name__ if key in self.instances else "nothing"
            msg = (
                f"{asset} loads an input with input_manager_key {key!r}, but that resource is "
                f"not an input manager: expected an InputManager or IOManager, got {got}"
            )
            raise MissingResourceError(
                msg, asset=asset, io_manager=key, expected="InputManager", got=got
            )
        return manager

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()
