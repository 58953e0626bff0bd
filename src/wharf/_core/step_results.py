"""What a step's body produced: its return value or the items it yielded, as named outputs.

A body may return a plain value (its one output), ``Output``, ``MaterializeResult``, a tuple
with one item per output (several outputs), a list of ``DynamicOutput``; or ``yield``
``Output`` / ``DynamicOutput`` / ``MaterializeResult`` / ``AssetMaterialization`` /
``AssetObservation``. Everything is collected and checked before the first output is stored,
so a step that fails stores nothing.

Other modules may register more yieldable event types in :data:`REPORTABLE` (they are kept on
the outcome as ``reported``).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from wharf._core.events import AssetMaterialization, AssetObservation
from wharf._core.plan import Step, StepInput, StepOutput
from wharf._core.results import (
    DynamicOutput,
    MaterializeResult,
    MetadataValue,
    Output,
    normalize_metadata,
)
from wharf._core.typecheck import matches_annotation, type_name, value_annotation
from wharf.errors import AssetTypeError, StepOutputError

#: types a body may yield or return besides outputs; kept as the outcome's ``reported`` events
REPORTABLE: list[type] = [AssetMaterialization, AssetObservation]


@dataclass
class Emitted:
    """One value for one output (``store`` False: reported without a value to store)."""

    output: str
    value: Any
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    mapping_key: str | None = None
    store: bool = True
    data_version: Any = None


@dataclass
class Produced:
    """Everything a step produced, checked."""

    emitted: list[Emitted]
    reported: list[Any]


def collect(step: Step, result: Any) -> Produced:
    """Turn what ``step``'s body returned (or yielded) into checked outputs and events."""
    emitted: list[Emitted] = []
    reported: list[Any] = []
    if inspect.isgenerator(result):
        for item in result:
            _take(step, item, emitted, reported, yielded=True)
    else:
        _take_returned(step, result, emitted, reported)
    _check(step, emitted)
    return Produced([e for e in emitted if e.output not in step.unselected_outputs], reported)


def _take_returned(step: Step, result: Any, emitted: list[Emitted], reported: list[Any]) -> None:
    outs = list(step.outputs.values())
    every = _every_output(step)
    if isinstance(result, tuple) and len(result) == len(every) > len(outs):
        outs = every  # a subset run of a node that returns every output: keep the selected
    if any(isinstance(result, t) for t in REPORTABLE):
        reported.append(result)
        return
    if len(outs) == 1 and outs[0].dynamic and isinstance(result, list):
        for item in result:
            _take(step, item, emitted, reported, yielded=False)
        return
    if len(outs) == 1:
        out = outs[0]
        if isinstance(result, DynamicOutput | Output | MaterializeResult):
            _take(step, result, emitted, reported, yielded=False)
        elif out.nothing or (result is None and out.annotation in (None, type(None))):
            emitted.append(Emitted(out.name, None, store=False))
        else:
            emitted.append(Emitted(out.name, result))
        return
    if result is None and not any(o.is_required and not o.nothing for o in outs):
        return
    if isinstance(result, tuple) and len(result) == len(outs):
        for out, item in zip(outs, result, strict=True):
            if isinstance(item, Output | MaterializeResult | DynamicOutput):
                _take(step, item, emitted, reported, yielded=False, default=out.name)
            elif any(isinstance(item, t) for t in REPORTABLE):
                reported.append(item)
            elif out.nothing:
                emitted.append(Emitted(out.name, None, store=False))
            else:
                emitted.append(Emitted(out.name, item))
        return
    if isinstance(result, Output | MaterializeResult):
        _take(step, result, emitted, reported, yielded=False)
        return
    names = ", ".join(repr(o.name) for o in outs)
    got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type_name(type(result))
    msg = (
        f"{step.label} returned {got}, but it declares {len(outs)} outputs ({names}): expected "
        f"a tuple of {len(outs)} values in that order, or to yield Output(value, "
        "output_name=...) for each; nothing was stored"
    )
    raise StepOutputError(msg, asset=step.key, expected=f"{len(outs)} outputs", got=got)


def _take(
    step: Step, item: Any, emitted: list[Emitted], reported: list[Any], *, yielded: bool,
    default: str | None = None,
) -> None:  # fmt: skip
    verb = "yielded" if yielded else "returned"
    if isinstance(item, DynamicOutput):
        out = _named(step, item.output_name, verb)
        if not out.dynamic:
            msg = (
                f"{step.label} {verb} DynamicOutput(mapping_key={item.mapping_key!r}) for output "
                f"{out.name!r}, which is not a DynamicOut: expected Output(...) for it"
            )
            raise StepOutputError(msg, asset=step.key, expected="Output", got="DynamicOutput")
        meta = normalize_metadata(item.metadata)
        emitted.append(Emitted(out.name, item.value, meta, mapping_key=item.mapping_key))
        return
    if isinstance(item, Output):
        name = item.output_name
        if name == "result" and default is not None:
            name = default
        out = _named(step, name, verb)
        if out.dynamic:
            msg = (
                f"{step.label} {verb} Output(...) for output {out.name!r}, which is a DynamicOut: "
                "expected DynamicOutput(value, mapping_key=...) for each value"
            )
            raise StepOutputError(msg, asset=step.key, expected="DynamicOutput", got="Output")
        meta = normalize_metadata(item.metadata)
        emitted.append(Emitted(out.name, item.value, meta, data_version=item.data_version))
        return
    if isinstance(item, MaterializeResult):
        out = _for_asset(step, item, verb, default)
        meta = normalize_metadata(item.metadata)
        emitted.append(Emitted(out.name, item.value, meta, store=item.has_value,
                               data_version=item.data_version))  # fmt: skip
        reported.extend(item.check_results or ())  # AssetCheckResults of its check_specs
        return
    if any(isinstance(item, t) for t in REPORTABLE):
        reported.append(item)
        return
    if item is None and yielded:
        return
    msg = (
        f"{step.label} yielded {type_name(type(item))}: expected Output, DynamicOutput, "
        "MaterializeResult, AssetMaterialization or AssetObservation"
    )
    raise StepOutputError(msg, asset=step.key, expected="an output event",
                          got=type_name(type(item)))  # fmt: skip


def _every_output(step: Step) -> list[StepOutput]:
    """Every output of the node, selected or not (unselected ones as placeholders)."""
    if not step.unselected_outputs:
        return list(step.outputs.values())
    names = list(getattr(step.node, "outs", {})) or [*step.outputs, *step.unselected_outputs]
    return [step.outputs.get(n) or StepOutput(n, is_required=False) for n in names]


def _named(step: Step, name: str, verb: str) -> StepOutput:
    out = step.outputs.get(name)
    if out is None and name in step.unselected_outputs:
        return StepOutput(name, is_required=False)  # not selected: dropped after the checks
    if out is None:
        if name == "result" and len(step.outputs) == 1:
            return next(iter(step.outputs.values()))
        known = ", ".join(repr(n) for n in step.outputs) or "none"
        managers = ", ".join(f"{n!r} (I/O manager {o.io_manager_key!r})"
                             for n, o in step.outputs.items())  # fmt: skip
        msg = (
            f"{step.label} {verb} a value for output {name!r}, which it does not declare: "
            f"expected one of [{managers or 'none'}]; no I/O manager was called and nothing "
            "was stored"
        )
        raise StepOutputError(msg, asset=step.key, expected=known, got=name)
    return out


def _for_asset(
    step: Step, item: MaterializeResult[Any], verb: str, default: str | None
) -> StepOutput:
    key = item.key
    if key is None:
        if default is not None:
            return step.outputs[default]
        assets = [o for o in step.outputs.values() if o.asset_key is not None]
        if len(assets) == 1:
            return assets[0]
        known = ", ".join(repr(o.asset_key.to_user_string()) for o in assets if o.asset_key)
        msg = (
            f"{step.label} {verb} MaterializeResult without asset_key, but it materializes "
            f"several assets: expected MaterializeResult(asset_key=...) naming one of [{known}]"
        )
        raise StepOutputError(msg, asset=step.key, expected=known, got="no asset_key")
    for out in step.outputs.values():
        if out.asset_key == key:
            return out
    for name, node_out in getattr(step.node, "outs", {}).items():
        if name in step.unselected_outputs and getattr(node_out, "key", None) == key:
            return StepOutput(name, is_required=False)  # not selected: dropped
    known = ", ".join(repr(o.asset_key.to_user_string()) for o in step.outputs.values()
                      if o.asset_key)  # fmt: skip
    msg = (
        f"{step.label} {verb} MaterializeResult(asset_key={key.to_user_string()!r}), an asset it "
        f"does not materialize: expected one of [{known}]"
    )
    raise StepOutputError(msg, asset=step.key, expected=known, got=key.to_user_string())


def _check(step: Step, emitted: Iterable[Emitted]) -> None:
    """Each output at most once (each mapping key once), required ones present, types fit."""
    seen: dict[str, set[str | None]] = {}
    for e in emitted:
        keys = seen.setdefault(e.output, set())
        if e.mapping_key in keys:
            if e.mapping_key is None:
                msg = (
                    f"{step.label} produced output {e.output!r} twice: expected each output once; "
                    "nothing was stored"
                )
                raise StepOutputError(msg, asset=step.key, expected="once", got="twice")
            msg = (
                f"{step.label} yielded two DynamicOutputs with mapping_key {e.mapping_key!r} for "
                f"output {e.output!r}: expected each mapping key once; nothing was stored"
            )
            raise StepOutputError(msg, asset=step.key, expected="unique mapping keys",
                                  got=e.mapping_key)  # fmt: skip
        keys.add(e.mapping_key)
    for out in step.outputs.values():
        if out.is_required and not out.dynamic and out.name not in seen:
            what = f"asset {out.asset_key.to_user_string()!r}, " if out.asset_key else ""
            got = ", ".join(repr(n) for n in seen) or "none"
            msg = (
                f"{step.label} did not produce its required output {out.name!r} ({what}I/O "
                f"manager {out.io_manager_key!r}): expected a value for it (return it, or yield "
                f"Output(value, output_name={out.name!r})), got outputs [{got}]; nothing was "
                "stored"
            )
            raise StepOutputError(msg, asset=step.key, io_manager=out.io_manager_key,
                                  expected=out.name, got=got)  # fmt: skip
    for e in emitted:
        if e.output in step.unselected_outputs:
            continue
        out = step.outputs[e.output]
        if not e.store and not out.nothing:
            _check_valueless(step, out)
        if not e.store or out.nothing:
            continue
        ann = value_annotation(out.annotation)
        if not matches_annotation(e.value, ann):
            im = out.io_manager_key
            by_name = out.name != "result" or step.kind != "asset"
            what = f"output {out.name!r}" if by_name else "return annotation"
            msg = (
                f"{step.label} returned {type_name(type(e.value))} for {what}, which expects "
                f"{type_name(ann)}: I/O manager {im!r} was not called and the stored value is "
                "unchanged"
            )
            if out.name == "result" and step.kind == "asset":
                msg = (
                    f"{step.label} returned {type_name(type(e.value))}, but its return annotation "
                    f"expects {type_name(ann)}: I/O manager {im!r} was not called and the stored "
                    "value is unchanged"
                )
            raise AssetTypeError(
                msg, asset=step.key if out.asset_key is None else out.asset_key.to_user_string(),
                io_manager=im, expected=type_name(ann), got=type_name(type(e.value)),
            )  # fmt: skip


def _check_valueless(step: Step, out: StepOutput) -> None:
    """``-> MaterializeResult[X]`` promises a value of type ``X``: a ``MaterializeResult()``
    without one fails the type check, as Dagster's does (a bare ``MaterializeResult`` does not)."""
    if typing.get_origin(out.annotation) is not MaterializeResult:
        return
    ann = value_annotation(out.annotation)
    if ann in (Any, None, type(None)) or matches_annotation(None, ann):
        return
    im = out.io_manager_key
    msg = (
        f"{step.label} returned MaterializeResult without a value, but its annotation "
        f"MaterializeResult[{type_name(ann)}] expects a value of type {type_name(ann)}: I/O "
        f"manager {im!r} was not called and the stored value is unchanged"
    )
    raise AssetTypeError(
        msg, asset=step.key if out.asset_key is None else out.asset_key.to_user_string(),
        io_manager=im, expected=type_name(ann), got="no value",
    )  # fmt: skip


def check_input(step: Step, inp: StepInput, value: Any) -> None:
    """An op input's value fits its type (``In(dagster_type=)`` or the annotation), as Dagster
    checks it before the body runs."""
    ann = value_annotation(inp.annotation)
    if matches_annotation(value, ann):
        return
    src = inp.sources[0]
    msg = (
        f"{step.label} got {type_name(type(value))} for its input {inp.name!r} (output "
        f"{src.output!r} of op {src.step!r}), which expects {type_name(ann)}: the op did not run"
    )
    raise AssetTypeError(msg, asset=step.key, expected=type_name(ann),
                         got=type_name(type(value)))  # fmt: skip
