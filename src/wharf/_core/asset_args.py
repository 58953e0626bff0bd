"""The ``@asset`` arguments wharf records rather than computes with (``kinds``, ``owners``,
``automation_condition``, ...): each checked against Dagster's type, so a wrong one is an error
naming the asset, and kept on the ``AssetsDefinition`` (``wharf list`` shows them)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from wharf._core.partitioning.backfill import check_backfill_policy
from wharf._core.retries import check_retry_policy
from wharf.errors import DefinitionError

#: arguments kept as they are once checked (their name on the AssetsDefinition is the same)
RECORDED = (
    "owners", "kinds", "compute_kind", "automation_condition", "freshness_policy",
    "backfill_policy", "op_tags", "pool", "check_specs", "output_required", "dagster_type",
    "retry_policy",
)  # fmt: skip
_OWNER = re.compile(r"^(team:[\w.\-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")


def _bad(asset: str, arg: str, expected: str, value: Any) -> DefinitionError:
    msg = f"asset {asset!r}: {arg}={value!r} is not valid: expected {expected}"
    return DefinitionError(msg, asset=asset, expected=expected, got=type(value).__name__)


def _strings(asset: str, arg: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise _bad(asset, arg, "a list of str", value)
    items = list(value)
    if not all(isinstance(v, str) for v in items):
        raise _bad(asset, arg, "a list of str", value)
    return items


def check_tags(asset: str, tags: Any, arg: str = "tags") -> dict[str, str]:
    """``tags`` as a dict of str to str (Dagster's rule for asset tags)."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise _bad(asset, arg, "a dict of str to str", tags)
    for k, v in tags.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise _bad(asset, arg, "str keys and str values", {k: v})
    return dict(tags)


def _owners(asset: str, value: Any) -> list[str]:
    owners = _strings(asset, "owners", value)
    for owner in owners:
        if not _OWNER.match(owner):
            raise _bad(asset, "owners", "an email or 'team:name' for each owner", owner)
    return owners


def _object(kind: str) -> Callable[[str, Any], Any]:
    """A policy or condition object: any object of a class (never a plain value)."""

    def check(asset: str, value: Any) -> Any:
        if isinstance(value, str | int | float | bool | bytes | list | dict | tuple | set):
            raise _bad(asset, kind, f"a {kind} object (e.g. from Dagster's API)", value)
        return value

    return check


def _check_specs(asset: str, value: Any) -> list[Any]:
    from wharf._core.checks import AssetCheckSpec

    if isinstance(value, str) or not isinstance(value, Iterable):
        raise _bad(asset, "check_specs", "a list of AssetCheckSpec", value)
    specs = list(value)
    for spec in specs:
        if not isinstance(spec, AssetCheckSpec):
            raise _bad(asset, "check_specs", "a list of AssetCheckSpec", spec)
    return specs


def _bool(arg: str) -> Callable[[str, Any], bool]:
    def check(asset: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise _bad(asset, arg, "True or False", value)
        return value

    return check


def _str(arg: str) -> Callable[[str, Any], str]:
    def check(asset: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise _bad(asset, arg, "a non-empty str", value)
        return value

    return check


def _op_tags(asset: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _bad(asset, "op_tags", "a dict with str keys", value)
    return dict(value)


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "owners": _owners,
    "kinds": lambda a, v: set(_strings(a, "kinds", v)),
    "compute_kind": _str("compute_kind"),
    "automation_condition": _object("automation_condition"),
    "freshness_policy": _object("freshness_policy"),
    "backfill_policy": check_backfill_policy,
    "op_tags": _op_tags,
    "pool": _str("pool"),
    "check_specs": _check_specs,
    "output_required": _bool("output_required"),
    "dagster_type": lambda a, v: v,
    "retry_policy": lambda a, v: check_retry_policy(v, f"asset {a!r}"),
}


def recorded_args(asset: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded arguments among ``kwargs``, each checked (None means not given)."""
    return {k: _CHECKS[k](asset, v) for k, v in kwargs.items() if k in _CHECKS and v is not None}


def describe(item: Any) -> str:
    """What ``wharf list`` shows of an asset's recorded arguments: kinds, owners, tags, ...

    Examples:
        >>> class A: kinds = {"pandas"}; owners = ["team:data"]; tags = {"tier": "gold"}
        >>> describe(A())
        'kinds=pandas owners=team:data tier=gold'
    """
    parts = []
    kinds = sorted(getattr(item, "kinds", ()) or ())
    if getattr(item, "compute_kind", None):
        kinds = sorted({*kinds, item.compute_kind})
    if kinds:
        parts.append("kinds=" + ",".join(kinds))
    if getattr(item, "owners", None):
        parts.append("owners=" + ",".join(item.owners))
    parts.extend(f"{k}={v}" for k, v in sorted((getattr(item, "tags", None) or {}).items()))
    if getattr(item, "pool", None):
        parts.append(f"pool={item.pool}")
    policies = ("automation_condition", "freshness_policy", "backfill_policy", "retry_policy")
    parts.extend(name for name in policies if getattr(item, name, None) is not None)
    return " ".join(parts)
