"""Run config: ``RunConfig(ops=, resources=)`` or its dict form, checked against the selected
assets and the resources before anything runs.

``resolve_run_config`` turns it into one :class:`StepConfig` per configured asset (what its
``config`` parameter receives and what ``context.op_config`` shows) and the run's resources
(``configure_at_launch()`` resources built, resources given in the run config swapped in).
Every error names its path in the dict form: ``ops.raw.config.limit``, ``resources.api.config``.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wharf._core.assets import AssetsDefinition
from wharf._core.config_schema import validate
from wharf.errors import ConfigError

if TYPE_CHECKING:
    from wharf._core.graph import AssetGraph
    from wharf._core.keys import AssetKey

_TOP_KEYS = ("ops", "resources", "loggers", "execution")


class RunConfig:
    """The configuration of one run: per-op (asset) config and per-resource config.

    Examples:
        >>> RunConfig(ops={"raw": {"limit": 3}}).to_config_dict()
        {'ops': {'raw': {'config': {'limit': 3}}}}
    """

    def __init__(
        self,
        ops: Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        loggers: Mapping[str, Any] | None = None,
        execution: Mapping[str, Any] | None = None,
    ) -> None:
        self.ops = dict(ops or {})
        self.resources = dict(resources or {})
        self.loggers = dict(loggers or {})
        self.execution = dict(execution or {})

    def to_config_dict(self) -> dict[str, Any]:
        """The dict form (``{"ops": {name: {"config": {...}}}, ...}``)."""
        out: dict[str, Any] = {}
        if self.ops:
            out["ops"] = {name: {"config": _plain(v)} for name, v in self.ops.items()}
        if self.resources:
            out["resources"] = {name: {"config": _plain(v)} for name, v in self.resources.items()}
        if self.loggers:
            out["loggers"] = dict(self.loggers)
        if self.execution:
            out["execution"] = dict(self.execution)
        return out

    def __repr__(self) -> str:
        return f"RunConfig(ops={sorted(self.ops)}, resources={sorted(self.resources)})"


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump() if callable(dump) else value


@dataclass(frozen=True)
class StepConfig:
    """One asset's config for a run: ``value`` for its ``config`` parameter (a ``Config``
    instance, or the checked dict of a ``config_schema``) and ``as_dict`` for ``op_config``."""

    value: Any
    as_dict: Any


def _bad(path: str, message: str, expected: str, got: Any) -> ConfigError:
    msg = f"run config at {path!r}: {message}"
    return ConfigError(msg, expected=expected, got=repr(got))


def _mapping(value: Any, path: str, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _bad(path, f"expected {what}, got {value!r}", what, value)
    return value


@dataclass(frozen=True)
class NestedOps:
    """The ``ops:`` entry a graph asset gets in the run config: its inner ops' entries."""

    entries: Any


def _split(run_config: Any) -> tuple[dict[str, tuple[Any, bool]], dict[str, tuple[Any, bool]]]:
    """(ops, resources) as name -> (value, is it the dict form's inner config?); a graph
    asset's ``{"ops": {...}}`` entry is a :class:`NestedOps`."""
    if run_config is None:
        return {}, {}
    if isinstance(run_config, RunConfig):
        ops = {k: (v, False) for k, v in run_config.ops.items()}
        return ops, {k: (v, False) for k, v in run_config.resources.items()}
    top = _mapping(run_config, "(run config)", "a RunConfig or a dict with ops/resources")
    unknown = [k for k in top if k not in _TOP_KEYS]
    if unknown:
        raise _bad(
            str(unknown[0]), f"unknown key: expected only {', '.join(_TOP_KEYS)}",
            ", ".join(_TOP_KEYS), unknown[0],
        )  # fmt: skip
    sections: list[dict[str, tuple[Any, bool]]] = []
    for section in ("ops", "resources"):
        found: dict[str, tuple[Any, bool]] = {}
        for name, entry in _mapping(top.get(section), section, "a dict").items():
            path = f"{section}.{name}"
            body = _mapping(entry, path, 'a dict with a "config" key')
            allowed = ("config", "ops") if section == "ops" else ("config",)
            extra = [k for k in body if k not in allowed]
            if extra:
                keys = " or ".join(f'"{k}"' for k in allowed)
                raise _bad(f"{path}.{extra[0]}", f"unknown key: expected only {keys}",
                           "/".join(allowed), extra[0])  # fmt: skip
            if "ops" in body and "config" not in body:
                found[name] = (NestedOps(body["ops"]), True)
            else:
                found[name] = (body.get("config"), True)
        sections.append(found)
    return sections[0], sections[1]


def split_resources(run_config: Any) -> dict[str, tuple[Any, bool]]:
    """The ``resources:`` part of a run config whose ``ops:`` part is read elsewhere (a job of
    ops, whose entries have ``inputs`` and ``outputs`` too)."""
    if isinstance(run_config, Mapping):
        return _split({k: v for k, v in run_config.items() if k != "ops"})[1]
    return _split(run_config)[1]


def _config_class() -> Any:
    module = sys.modules.get("wharf._core.config_class")
    return None if module is None else module.Config


def step_config(asset: AssetsDefinition, given: Any, path: str) -> StepConfig:
    """``asset``'s config from ``given`` (a ``Config``, a dict, or None for the defaults)."""
    cls = asset.config_type
    if cls is not None:
        if isinstance(given, cls):
            value = given
        elif isinstance(given, Mapping) or given is None:
            value = cls.from_run_config(given, path)
        else:
            expected = f"a {cls.__name__} or a dict of its fields"
            raise _bad(path, f"expected {expected}, got {given!r}", expected, given)
        return StepConfig(value, value.model_dump())
    checked = validate(asset.config_schema, _plain(given), path)
    return StepConfig(checked, checked)


def _op_names(graph: AssetGraph) -> dict[str, Any]:
    """Op name -> the node that computes it: an ``@asset``, a multi-asset or a graph asset
    (the run config names a node by its op name, once for all its assets)."""
    nodes = (getattr(a, "_node", None) or a for a in graph.executable)
    return {node.op_name: node for node in nodes}


def _with_config_dicts(entries: Any) -> Any:
    """A graph's ``ops`` entries with each ``Config`` instance (at any depth) as its
    ``{"config": {...}}`` entry, as Dagster's ``RunConfig`` turns them."""
    cls = _config_class()
    if cls is not None and isinstance(entries, cls):
        return {"config": entries.model_dump()}
    if isinstance(entries, Mapping):
        return {k: _with_config_dicts(v) for k, v in entries.items()}
    return entries


def _graph_ops(name: str, given: Any) -> Any:
    """The inner ops' entries given to graph asset ``name`` (its run config ``ops.NAME``)."""
    path = f"ops.{name}"
    if isinstance(given, NestedOps):
        return _with_config_dicts(given.entries)
    if isinstance(given, Mapping) and set(given) == {"ops"}:  # RunConfig(ops={NAME: {"ops":}})
        return _with_config_dicts(given["ops"])
    why = (
        f"graph asset {name!r} takes no config of its own: expected its ops' entries, "
        f"{{'ops': {{OP: {{'config': {{...}}}}}}}} at {path!r}"
    )
    raise _bad(f"{path}.config" if given is not None else path, why, f"{path}.ops", given)


def resolve_run_config(
    graph: AssetGraph,
    selected: Sequence[AssetKey],
    run_config: Any,
    resources: Mapping[str, Any],
    needed: Collection[str] | None = None,
) -> tuple[dict[str, StepConfig], dict[str, Any], dict[str, Any]]:
    """Each selected configured node's :class:`StepConfig` (by op name: its step's key), the
    inner ops' entries of each selected graph asset given some (by node name; its steps are
    planned with them, see ``GraphAssetsDefinition.node_steps``), and the run's resources.

    Raises:
        ConfigError: an op or resource the run config names does not exist or takes no config,
            or a field is missing, unknown or of the wrong type; the message names its path.
    """
    ops, res_config = _split(run_config)
    by_name = _op_names(graph) if ops else {}
    for name in ops:
        if name not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise _bad(
                f"ops.{name}",
                f"no asset or op is named {name!r}: expected one of [{known}]",
                known,
                name,
            )
    configs: dict[str, StepConfig] = {}
    nested: dict[str, Any] = {}
    chosen = set(selected)
    for name, (given, _) in ops.items():
        found = by_name[name]
        if not chosen & set(found.keys):
            continue  # config for an asset this run does not materialize (a job's subset)
        if hasattr(found, "graph_def"):  # a graph asset: its ops have the config
            nested[name] = _graph_ops(name, given)
            continue
        if isinstance(given, NestedOps):
            why = f'{name!r} is not a graph asset: expected only "config", not "ops"'
            raise _bad(f"ops.{name}.ops", why, "config", "ops")
        path = f"ops.{name}.config"
        if found.config_type is None and found.config_schema is None:
            why = f"asset {name!r} takes no config (no Config parameter, no config_schema)"
            raise _bad(path, why, "no config", given)
        configs[name] = step_config(found, given, path)
    for key in selected:
        item = graph.by_key[key]
        if not isinstance(item, AssetsDefinition):
            continue
        node: AssetsDefinition = getattr(item, "_node", None) or item
        if node.op_name in configs:
            continue
        if node.config_type is not None or node.config_schema is not None:
            configs[node.op_name] = step_config(node, None, f"ops.{node.op_name}.config")
    return configs, nested, resolve_resources(resources, res_config, needed)


def resolve_resources(
    resources: Mapping[str, Any],
    res_config: Mapping[str, tuple[Any, bool]],
    needed: Collection[str] | None = None,
) -> dict[str, Any]:
    """``resources`` with the run config's resources applied and the launch-time resources the
    run ``needed`` built (all of them if None)."""
    if not res_config and "wharf._core.config" not in sys.modules:
        return dict(resources)  # no ConfigurableResource exists: nothing to build
    from wharf._core.config import ConfigurableResource, PartialResource
    from wharf._core.resource_defs import ResourceDefinition

    out = dict(resources)
    for key, (given, is_dict_form) in res_config.items():
        path = f"resources.{key}" + (".config" if is_dict_form else "")
        if key not in out:
            known = ", ".join(sorted(out)) or "none"
            raise _bad(
                f"resources.{key}",
                f"no resource has the key {key!r}: expected one of [{known}]",
                known,
                key,
            )
        if not is_dict_form and not isinstance(given, Mapping):
            out[key] = given  # RunConfig(resources={"api": Api(...)}): this instance, this run
            continue
        base = out[key]
        if isinstance(base, ResourceDefinition):  # @resource / @io_manager: its config_schema
            out[key] = base.configured(base.checked_config(given, key))
            continue
        fields = _mapping(given, path, "a dict of the resource's fields")
        if isinstance(base, PartialResource):
            out[key] = base.build(fields, path)
        elif isinstance(base, ConfigurableResource):
            current = {n: base.__dict__[n] for n in base.model_fields_set}
            out[key] = PartialResource(type(base), current).build(fields, path)
        else:
            got = type(base).__name__
            why = f"resource {key!r} ({got}) is not configurable: expected a ConfigurableResource"
            raise _bad(path, why, "a ConfigurableResource", got)
    for key, res in out.items():
        if isinstance(res, PartialResource) and (needed is None or key in needed):
            out[key] = res.build({}, f"resources.{key}.config")
    return out
