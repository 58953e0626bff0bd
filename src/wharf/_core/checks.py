"""Asset checks: ``@asset_check`` functions that judge an asset's stored value.

Each check is a step of the run, right after its asset's step; it loads the asset (and any
``additional_ins``) through their I/O managers and returns an ``AssetCheckResult``. A check that
does not pass with ``blocking=True`` (and severity ``ERROR``) fails its step, so the assets
downstream of the checked asset are skipped, as after a failure. Evaluations are on the run
result (``get_asset_check_evaluations()``), in run history (under ``ASSET#CHECK``), in the CLI
summary and in ``wharf show KEY``.
"""

from __future__ import annotations

import enum
import functools
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wharf._core.keys import AssetKey, to_asset_key
from wharf._core.plan import Step, StepInput
from wharf._core.results import MetadataValue, normalize_metadata
from wharf._core.step_results import REPORTABLE
from wharf.errors import AssetExecutionError, DefinitionError


class AssetCheckSeverity(enum.Enum):
    """How serious a failed check is: ``ERROR`` blocks downstream assets of a blocking check."""

    WARN = "WARN"
    ERROR = "ERROR"


@dataclass(frozen=True)
class AssetCheckSpec:
    """A check's name, asset and whether it blocks (declared on an asset with ``check_specs=``)."""

    name: str
    asset: Any
    description: str | None = None
    blocking: bool = False
    additional_deps: tuple[Any, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def asset_key(self) -> AssetKey:
        return to_asset_key(self.asset)


@dataclass
class AssetCheckResult:
    """What a check found: ``passed``, with metadata and a severity for a failure."""

    passed: bool
    asset_key: Any = None
    check_name: str | None = None
    metadata: Mapping[str, Any] | None = None
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.passed, bool):
            msg = f"AssetCheckResult(passed={self.passed!r}): expected True or False"
            raise DefinitionError(msg, expected="a bool", got=type(self.passed).__name__)
        if not isinstance(self.severity, AssetCheckSeverity):
            msg = f"AssetCheckResult(severity={self.severity!r}): expected an AssetCheckSeverity"
            raise DefinitionError(msg, expected="AssetCheckSeverity", got=repr(self.severity))


REPORTABLE.append(AssetCheckResult)


@dataclass(frozen=True)
class AssetCheckEvaluation:
    """One check's evaluation in a run."""

    asset_key: AssetKey
    check_name: str
    passed: bool
    severity: AssetCheckSeverity
    metadata: dict[str, MetadataValue]
    description: str | None = None
    blocking: bool = False


class AssetCheckFailedError(AssetExecutionError):
    """A blocking check did not pass: its step fails, and the checked asset's dependants skip.

    ``evaluation`` is the failed one; ``evaluations`` every evaluation of the step (an asset's
    or multi-asset's other ``check_specs`` too), in the order they were given.
    """

    def __init__(
        self,
        message: str,
        evaluation: AssetCheckEvaluation,
        evaluations: Sequence[AssetCheckEvaluation] = (),
    ) -> None:
        super().__init__(message, asset=evaluation.asset_key.to_user_string())
        self.evaluation = evaluation
        self.evaluations = list(evaluations) or [evaluation]

    def __reduce__(self) -> tuple[Any, ...]:  # crosses to the parent from a worker process
        return (
            type(self),
            (self.message, self.evaluation, self.evaluations),
            {"__notes__": getattr(self, "__notes__", [])},
        )


class AssetChecksDefinition:
    """A check function bound to the asset it checks (from ``@asset_check``)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        asset_key: AssetKey,
        name: str,
        description: str | None,
        blocking: bool,
        asset_param: str | None,
        additional_ins: Mapping[str, Any],
        context_param: str | None,
        resource_params: Mapping[str, str],
        required_resource_keys: set[str],
    ) -> None:
        self.fn = fn
        self.asset_key = asset_key
        self.name = name
        self.description = description
        self.blocking = blocking
        self.asset_param = asset_param
        self.additional_ins = dict(additional_ins)
        self.context_param = context_param
        self.resource_params = dict(resource_params)
        self.required_resource_keys = set(required_resource_keys) | set(resource_params.values())

    @functools.cached_property
    def check_key(self) -> str:
        """``asset#check``: the name run history keeps the evaluations under."""
        return f"{self.asset_key.to_user_string()}#{self.name}"

    @functools.cached_property
    def step_key(self) -> str:
        return f"{self.asset_key.to_python_identifier()}__check__{self.name}"

    @functools.cached_property
    def upstream_keys(self) -> tuple[AssetKey, ...]:
        return (self.asset_key, *self.additional_ins.values())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"AssetChecksDefinition({self.check_key!r})"

    def evaluate(self, result: Any) -> AssetCheckResult:
        """The body's return value as a result of this check (or an error naming it)."""
        if not isinstance(result, AssetCheckResult):
            msg = (
                f"asset check {self.name!r} of asset {self.asset_key.to_user_string()!r} "
                f"returned {type(result).__name__}: expected an AssetCheckResult"
            )
            raise AssetExecutionError(
                msg, asset=self.asset_key.to_user_string(), expected="AssetCheckResult",
                got=type(result).__name__,
            )  # fmt: skip
        if result.asset_key is not None and to_asset_key(result.asset_key) != self.asset_key:
            msg = (
                f"asset check {self.name!r} returned a result for asset "
                f"{to_asset_key(result.asset_key).to_user_string()!r}: expected "
                f"{self.asset_key.to_user_string()!r}"
            )
            raise AssetExecutionError(msg, asset=self.asset_key.to_user_string())
        return result

    def step(self, deps: tuple[str, ...], graph: Any) -> Step:
        """This check as a step of a plan, waiting for ``deps`` (its asset's step)."""
        inputs: list[StepInput] = []
        if self.asset_param is not None:
            inputs.append(_input(self.asset_param, self.asset_key, graph))
        for param, key in self.additional_ins.items():
            inputs.append(_input(param, key, graph))
        check = self

        def run(**kwargs: Any) -> AssetCheckResult:
            result = check.evaluate(check.fn(**kwargs))
            if not result.passed and check.blocking and result.severity is AssetCheckSeverity.ERROR:
                evaluation = check.evaluation(result)
                msg = (
                    f"blocking asset check {check.name!r} of asset "
                    f"{check.asset_key.to_user_string()!r} did not pass"
                    + (f": {result.description}" if result.description else "")
                    + "; the assets downstream of it are skipped"
                )
                raise AssetCheckFailedError(msg, evaluation)
            return result

        return Step(
            key=self.step_key,
            kind="check",
            label=f"asset check {self.name!r} of asset {self.asset_key.to_user_string()!r}",
            fn=run,
            inputs=tuple(inputs),
            outputs={},
            deps=deps,
            asset_deps=self.upstream_keys,
            context_param=self.context_param,
            resource_params=self.resource_params,
            required_resource_keys=frozenset(self.required_resource_keys),
            node=self,
        )

    def evaluation(self, result: AssetCheckResult) -> AssetCheckEvaluation:
        return AssetCheckEvaluation(
            self.asset_key, self.name, result.passed, result.severity,
            normalize_metadata(result.metadata or {}), result.description, self.blocking,
        )  # fmt: skip


def _input(param: str, key: AssetKey, graph: Any) -> StepInput:
    item = graph.by_key.get(key)
    annotation = getattr(item, "return_annotation", Any)
    return StepInput(
        param,
        asset_key=key,
        annotation=Any if annotation is inspect.Signature.empty else annotation,
    )


def asset_check(
    fn: Callable[..., Any] | None = None,
    *,
    asset: Any = None,
    name: str | None = None,
    description: str | None = None,
    blocking: bool = False,
    additional_ins: Mapping[str, Any] | None = None,
    additional_deps: Iterable[Any] | None = None,
    required_resource_keys: set[str] | None = None,
    **_: Any,
) -> Any:
    """Declare a check of ``asset``: the function gets the asset's value (as the parameter named
    like the asset, or its only parameter) and returns an :class:`AssetCheckResult`.

    Examples:
        >>> import wharf as dg
        >>> @dg.asset
        ... def orders() -> list[int]:
        ...     return [1, 2]
        >>> @dg.asset_check(asset=orders)
        ... def no_negative(orders: list[int]) -> dg.AssetCheckResult:
        ...     return dg.AssetCheckResult(passed=all(o >= 0 for o in orders))
        >>> result = dg.materialize_to_memory([orders, no_negative])
        >>> [e.passed for e in result.get_asset_check_evaluations()]
        [True]
    """

    def wrap(f: Callable[..., Any], depth: int = 1) -> AssetChecksDefinition:
        return build_check(
            f, asset=asset, name=name, description=description, blocking=blocking,
            additional_ins=additional_ins or {}, required_resource_keys=required_resource_keys,
            localns=sys._getframe(depth).f_locals,  # resolves classes defined in a function
        )  # fmt: skip

    return wrap(fn, 2) if fn is not None else wrap


def build_check(
    fn: Callable[..., Any],
    *,
    asset: Any,
    name: str | None,
    description: str | None,
    blocking: bool,
    additional_ins: Mapping[str, Any],
    required_resource_keys: set[str] | None,
    localns: Mapping[str, Any] | None = None,
) -> AssetChecksDefinition:
    """An :class:`AssetChecksDefinition` from a function's signature."""
    from wharf._core.assets import (
        AssetIn,
        _hints,
        _is_context_annotation,
        _is_resource_annotation,
    )

    check_name = name or getattr(fn, "__name__", "check")
    if asset is None:
        msg = f"@asset_check {check_name!r}: expected asset= (the asset it checks), got none"
        raise DefinitionError(msg, expected="asset=", got="none")
    key = to_asset_key(asset)
    if not isinstance(blocking, bool):
        msg = f"@asset_check {check_name!r}: blocking={blocking!r}: expected True or False"
        raise DefinitionError(
            msg, asset=key.to_user_string(), expected="a bool", got=repr(blocking)
        )
    params = list(inspect.signature(fn).parameters.values())
    hints = {p.name: p.annotation for p in params} | _hints(fn, localns)
    context_param = None
    if params and (params[0].name == "context" or _is_context_annotation(hints[params[0].name])):
        context_param = params.pop(0).name
    extra: dict[str, AssetKey] = {}
    for param, spec in additional_ins.items():
        spec_key = spec.key if isinstance(spec, AssetIn) else None
        extra[param] = spec_key or AssetKey(param)
    resource_params = {
        p.name: p.name
        for p in params
        if p.name not in extra and _is_resource_annotation(hints[p.name])
    }
    rest = [p.name for p in params if p.name not in extra and p.name not in resource_params]
    if len(rest) > 1:
        msg = (
            f"@asset_check {check_name!r} has parameters {', '.join(rest)}: expected at most one "
            f"for asset {key.to_user_string()!r} (use additional_ins= for the others)"
        )
        raise DefinitionError(msg, asset=key.to_user_string(), expected="one asset parameter")
    return AssetChecksDefinition(
        fn,
        asset_key=key,
        name=str(check_name),
        description=description or inspect.getdoc(fn),
        blocking=blocking,
        asset_param=rest[0] if rest else None,
        additional_ins=extra,
        context_param=context_param,
        resource_params=resource_params,
        required_resource_keys=set(required_resource_keys or ()),
    )


def evaluations(outcomes: Iterable[Any], graph: Any) -> list[AssetCheckEvaluation]:
    """The check evaluations among a run's step outcomes, in the order they finished."""
    found: list[AssetCheckEvaluation] = []
    checks = {c.step_key: c for c in getattr(graph, "checks", ())}
    for o in outcomes:
        check = checks.get(o.step_key)
        if check is None:
            keys = getattr(o, "asset_keys", ()) if o.kind == "asset" else ()
            asset = graph.by_key.get(keys[0]) if keys else None
            if getattr(asset, "check_specs", None):  # checks the asset evaluated itself
                if isinstance(o.error, AssetCheckFailedError):
                    found.extend(o.error.evaluations)
                elif o.status == "success":
                    found.extend(spec_evaluations(asset, o.reported, keys))
            continue
        if isinstance(o.error, AssetCheckFailedError):
            found.append(o.error.evaluation)
        found.extend(check.evaluation(r) for r in o.reported if isinstance(r, AssetCheckResult))
    return found


def check_record_metadata(outcome: Any, check: AssetChecksDefinition) -> dict[str, MetadataValue]:
    """What run history keeps of a check step: ``passed``, ``severity`` and its metadata
    (nothing when the check's body raised before it returned a result)."""
    if isinstance(outcome.error, AssetCheckFailedError):
        found = outcome.error.evaluation
    else:
        results = [r for r in outcome.reported if isinstance(r, AssetCheckResult)]
        if not results:
            return {}
        found = check.evaluation(results[-1])
    head = normalize_metadata({"passed": found.passed, "severity": found.severity.value})
    return {**head, **found.metadata}


def _spec_evaluation(key: AssetKey, spec: AssetCheckSpec, result: AssetCheckResult) -> Any:
    return AssetCheckEvaluation(
        key, spec.name, result.passed, result.severity,
        normalize_metadata(result.metadata or {}), result.description, spec.blocking,
    )  # fmt: skip


def _spec_for(
    specs: Mapping[tuple[AssetKey, str], AssetCheckSpec], result: AssetCheckResult, many: bool
) -> AssetCheckSpec | None:
    """The declared spec a result is for: by its asset key (a multi-asset's, ``many``) and
    check name, where the result leaves one out, the one spec that fits the rest."""
    key = None if result.asset_key is None or not many else to_asset_key(result.asset_key)
    fits = [
        s
        for (k, n), s in specs.items()
        if (key is None or k == key) and (result.check_name is None or n == result.check_name)
    ]
    return fits[0] if len(fits) == 1 else None


def spec_evaluations(
    asset: Any, reported: Iterable[Any], keys: Iterable[AssetKey] = ()
) -> list[AssetCheckEvaluation]:
    """The results an asset (or multi-asset) with ``check_specs=`` gave for its own checks; a
    result is due for each spec of the assets in ``keys`` (all its assets when empty: a
    multi-asset run as a subset owes only its selected assets' checks).

    Raises:
        AssetExecutionError: a result names no declared check, or a declared check got none.
    """
    specs = {(s.asset_key, s.name): s for s in getattr(asset, "check_specs", ())}
    results = [r for r in reported if isinstance(r, AssetCheckResult)]
    if not specs and not results:
        return []
    node = getattr(asset, "node_name", None)
    label = node if node is not None else asset.key.to_user_string()
    what = f"multi-asset {label!r}" if node is not None else f"asset {label!r}"

    def named(key: Any, name: str | None) -> str:  # a multi-asset's checks say their asset
        if node is None or key is None:
            return str(name or "")
        return f"{to_asset_key(key).to_user_string()}#{name or ''}"

    found: dict[tuple[AssetKey, str], AssetCheckEvaluation] = {}
    for r in results:
        spec = _spec_for(specs, r, node is not None)
        if spec is None:
            known = ", ".join(named(k, n) for k, n in specs) or "none"
            got = named(r.asset_key, r.check_name)
            msg = (
                f"{what} gave a result for check {got!r}, which is not in its check_specs: "
                f"expected one of [{known}]"
            )
            raise AssetExecutionError(msg, asset=label, expected=known, got=got)
        key = spec.asset_key if node is not None else asset.key  # the asset's, if prefixed
        found[spec.asset_key, spec.name] = _spec_evaluation(key, spec, r)
    due = set(keys)
    missing = [named(k, n) for k, n in specs if (k, n) not in found and (not due or k in due)]
    if missing:
        msg = (
            f"{what} declares check_specs {', '.join(map(repr, missing))} but gave no "
            "AssetCheckResult for them: expected one result per spec (yield it, or return "
            "MaterializeResult(check_results=[...]))"
        )
        raise AssetExecutionError(msg, asset=label, expected="a result per spec", got="none")
    return list(found.values())


def enforce_spec_checks(asset: Any, reported: Iterable[Any], keys: Iterable[AssetKey] = ()) -> None:
    """After an asset with ``check_specs=`` stored its value: every spec has a result, and a
    blocking one that failed with severity ERROR fails the step (downstream assets skip); the
    error keeps every evaluation of the step, the passed ones too."""
    found = spec_evaluations(asset, reported, keys)
    for e in found:
        if not e.passed and e.blocking and e.severity is AssetCheckSeverity.ERROR:
            msg = (
                f"blocking asset check {e.check_name!r} of asset "
                f"{e.asset_key.to_user_string()!r} did not pass; the assets downstream of it "
                "are skipped (the asset itself was stored)"
            )
            raise AssetCheckFailedError(msg, e, found)


def spec_history_rows(outcome: Any, asset: Any) -> list[tuple[str, dict[str, MetadataValue]]]:
    """``(ASSET#CHECK, metadata)`` for each check an asset with ``check_specs`` evaluated."""
    if isinstance(outcome.error, AssetCheckFailedError):
        found = outcome.error.evaluations
    elif outcome.status == "success":
        found = spec_evaluations(asset, outcome.reported, outcome.asset_keys)
    else:
        return []
    rows = []
    for e in found:
        head = normalize_metadata({"passed": e.passed, "severity": e.severity.value})
        rows.append((f"{e.asset_key.to_user_string()}#{e.check_name}", {**head, **e.metadata}))
    return rows
