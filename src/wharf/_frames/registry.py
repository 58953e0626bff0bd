"""The one place that maps a value or an annotation to its frame adapter.

:data:`ADAPTERS` is a plain tuple, one row per dataframe type; supporting a new library is one
more row (as pyspark's ``SparkAdapter()`` is). Building it imports no dataframe library: each
adapter recognises classes by their dotted names and imports its library on first conversion.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Annotated, Any, Union

from wharf._frames.arrow import ArrowReaderAdapter, ArrowTableAdapter
from wharf._frames.base import FrameAdapter
from wharf._frames.duckdb import DuckDBRelationAdapter
from wharf._frames.pandas import PandasAdapter
from wharf._frames.polars import PolarsAdapter, PolarsLazyAdapter
from wharf._frames.pyspark import SparkAdapter
from wharf.errors import AssetTypeError

__all__ = [
    "ADAPTERS",
    "adapter_for_annotation",
    "adapter_for_load",
    "adapter_named",
    "adapter_for_value",
    "is_table_like",
    "supported_type_names",
]

ADAPTERS: tuple[FrameAdapter, ...] = (
    PandasAdapter(),
    PolarsAdapter(),
    PolarsLazyAdapter(),
    ArrowTableAdapter(),
    ArrowReaderAdapter(),
    DuckDBRelationAdapter(),
    SparkAdapter(),
)


def adapter_for_value(value: object) -> FrameAdapter | None:
    """The adapter for ``type(value)``, or None when the value is not table-like.

    Examples:
        >>> adapter_for_value({"a": [1]}) is None
        True
        >>> import pandas as pd
        >>> adapter_for_value(pd.DataFrame()).name
        'pandas'
    """
    return _adapter_for_class(type(value))


def adapter_for_annotation(annotation: object) -> FrameAdapter | None:
    """The adapter that builds values of ``annotation``, or None for a non-frame annotation.

    ``Optional[X]``, ``X | None`` and ``Annotated[X, ...]`` are unwrapped to ``X``. ``Any``,
    ``None``, a missing annotation (``inspect.Parameter.empty``), a union of several frame types
    and a string (resolve it first with ``typing.get_type_hints``) all give None.

    Examples:
        >>> adapter_for_annotation(int) is None, adapter_for_annotation(typing.Any) is None
        (True, True)
        >>> import polars as pl
        >>> adapter_for_annotation(pl.LazyFrame | None).name
        'polars-lazy'
    """
    if annotation is None or annotation is inspect.Parameter.empty or annotation is Any:
        return None
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return adapter_for_annotation(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) != 1:
            return None
        return adapter_for_annotation(members[0])
    if not isinstance(annotation, type):
        return None
    return _adapter_for_class(annotation)


#: what an input that names no type is annotated with (no annotation, Any, object, None)
_UNANNOTATED = (Any, inspect.Parameter.empty, object, None)


def adapter_named(name: str) -> FrameAdapter:
    """The adapter called ``name`` (as a store recorded it, or a manager's default load type).

    Examples:
        >>> adapter_named("polars-lazy").name
        'polars-lazy'
        >>> adapter_named("koalas")
        Traceback (most recent call last):
        ...
        wharf.errors.AssetTypeError: no frame adapter is named 'koalas' (the name the value was \
stored or configured as): the installed adapters are pandas, polars, polars-lazy, arrow-table, \
arrow-reader, duckdb, pyspark
    """
    for adapter in ADAPTERS:
        if adapter.name == name:
            return adapter
    known = ", ".join(a.name for a in ADAPTERS)
    msg = (
        f"no frame adapter is named {name!r} (the name the value was stored or configured as): "
        f"the installed adapters are {known}"
    )
    raise AssetTypeError(msg, expected=f"one of {known}", got=repr(name))


def adapter_for_load(
    annotation: object, *, default: str | None = None, stored: str | None = None
) -> FrameAdapter | None:
    """The adapter an input loads a table with: its annotation's; for an unannotated input
    (none, ``Any``) the one the value was ``stored`` as, else the manager's ``default``. None
    when the input is annotated with a type that is no frame (each manager says what then), or
    is unannotated and neither name is given.

    Examples:
        >>> import polars as pl
        >>> adapter_for_load(pl.DataFrame, default="pandas").name
        'polars'
        >>> adapter_for_load(typing.Any, default="pandas", stored="arrow-table").name
        'arrow-table'
        >>> adapter_for_load(inspect.Parameter.empty, default="pandas").name
        'pandas'
        >>> adapter_for_load(int, default="pandas") is None
        True
    """
    adapter = adapter_for_annotation(annotation)
    if adapter is not None:
        return adapter
    name = stored or default
    if name is None or annotation not in _UNANNOTATED:
        return None
    return adapter_named(name)


def is_table_like(value: object) -> bool:
    """Whether some adapter converts ``value`` (a dataframe, Arrow table or stream, relation).

    Examples:
        >>> is_table_like([1, 2, 3])
        False
        >>> import pyarrow as pa
        >>> is_table_like(pa.table({"a": [1]}))
        True
    """
    return adapter_for_value(value) is not None


def supported_type_names() -> list[str]:
    """Names of every supported frame type, in registry order, for error messages.

    Examples:
        >>> ", ".join(supported_type_names()[:3])
        'pandas.DataFrame, polars.DataFrame, polars.LazyFrame'
    """
    return [name for adapter in ADAPTERS for name in adapter.type_names()]


def _adapter_for_class(tp: type) -> FrameAdapter | None:
    for adapter in ADAPTERS:
        if adapter.matches_type(tp):
            return adapter
    return None
