"""Check a returned value against its annotation, as far as a runtime check can."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any


def matches_annotation(value: Any, annotation: Any) -> bool:
    """True when ``value`` fits ``annotation``, or when the annotation cannot be checked.

    Examples:
        >>> matches_annotation([1], list[int]), matches_annotation(None, int | None)
        (True, True)
        >>> matches_annotation("x", int)
        False
    """
    if annotation in (inspect.Signature.empty, Any, object) or isinstance(annotation, str):
        return True
    if annotation is None or annotation is type(None):
        return value is None
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return matches_annotation(value, typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return any(matches_annotation(value, a) for a in typing.get_args(annotation))
    if origin is not None:
        return not isinstance(origin, type) or isinstance(value, origin)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True  # TypeVar, NewType, Protocol without runtime_checkable, ...


def type_name(tp: Any) -> str:
    """A readable name for a type or annotation: ``pandas.DataFrame``, ``int | None``."""
    if isinstance(tp, type) and not typing.get_args(tp):
        module = tp.__module__.split(".")[0]
        return tp.__qualname__ if module == "builtins" else f"{module}.{tp.__qualname__}"
    return str(tp).replace("typing.", "")


def value_annotation(annotation: Any) -> Any:
    """The annotation the stored value must fit: ``X`` for ``Output[X]``, ``Any`` for ``Output``.

    Examples:
        >>> from wharf._core.results import Output
        >>> value_annotation(Output[int]), value_annotation(Output), value_annotation(str)
        (<class 'int'>, typing.Any, <class 'str'>)
    """
    from wharf._core.results import MaterializeResult, Output

    if annotation in (Output, MaterializeResult):
        return Any
    if typing.get_origin(annotation) in (Output, MaterializeResult):
        return typing.get_args(annotation)[0]
    return annotation


def is_unannotated(annotation: Any) -> bool:
    """True for an input that names no type: no annotation, ``Any``, ``object`` or ``None``."""
    return annotation in (Any, inspect.Parameter.empty, object, None)


def strip_optional(annotation: Any) -> Any:
    """``X`` for ``Optional[X]``, ``X | None`` and ``Annotated[X, ...]``; else unchanged.

    Examples:
        >>> strip_optional(int | None), strip_optional(typing.Annotated[str, "x"])
        (<class 'int'>, <class 'str'>)
        >>> strip_optional(int | str)
        int | str
    """
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    if typing.get_origin(annotation) is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation
