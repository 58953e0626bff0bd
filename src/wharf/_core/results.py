"""What an asset function may return besides a plain value, and metadata values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from wharf._core.keys import AssetKey, CoercibleToAssetKey, to_asset_key


@dataclass(frozen=True)
class MetadataValue:
    """A typed metadata entry, as Dagster's ``MetadataValue.text(...)`` and friends build them.

    Examples:
        >>> MetadataValue.int(3).value
        3
        >>> MetadataValue.url("https://example.com").kind
        'url'
    """

    value: Any
    kind: str = "json"

    @staticmethod
    def text(value: str) -> MetadataValue:
        return MetadataValue(value, "text")

    @staticmethod
    def int(value: int) -> MetadataValue:
        return MetadataValue(value, "int")

    @staticmethod
    def float(value: float) -> MetadataValue:
        return MetadataValue(value, "float")

    @staticmethod
    def bool(value: bool) -> MetadataValue:
        return MetadataValue(value, "bool")

    @staticmethod
    def json(value: Any) -> MetadataValue:
        return MetadataValue(value, "json")

    @staticmethod
    def md(value: str) -> MetadataValue:
        return MetadataValue(value, "md")

    @staticmethod
    def url(value: str) -> MetadataValue:
        return MetadataValue(value, "url")

    @staticmethod
    def path(value: str) -> MetadataValue:
        return MetadataValue(str(value), "path")

    @staticmethod
    def null() -> MetadataValue:
        return MetadataValue(None, "null")

    @staticmethod
    def table_schema(schema: Any) -> MetadataValue:
        """A ``TableSchema`` (Dagster's form), or a column -> type mapping (wharf's ``schema``)."""
        if isinstance(schema, Mapping):
            return MetadataValue(dict(schema), "table_schema")
        return MetadataValue(schema, "table_schema")

    @staticmethod
    def table(records: Any, schema: Any = None) -> MetadataValue:
        """Rows (``TableRecord``s) of a small table, with an optional ``TableSchema``."""
        return MetadataValue({"records": list(records), "schema": schema}, "table")

    @staticmethod
    def timestamp(value: Any) -> MetadataValue:
        return MetadataValue(value, "timestamp")

    @staticmethod
    def asset(value: Any) -> MetadataValue:
        return MetadataValue(to_asset_key(value), "asset")


def normalize_metadata(metadata: Mapping[str, Any] | None) -> dict[str, MetadataValue]:
    """Wrap raw values (str, int, dict, ...) as :class:`MetadataValue`."""
    out: dict[str, MetadataValue] = {}
    for k, v in (metadata or {}).items():
        if isinstance(v, MetadataValue):
            out[k] = v
        elif isinstance(v, bool):
            out[k] = MetadataValue.bool(v)
        elif isinstance(v, int):
            out[k] = MetadataValue.int(v)
        elif isinstance(v, float):
            out[k] = MetadataValue.float(v)
        elif isinstance(v, str):
            out[k] = MetadataValue.text(v)
        elif v is None:
            out[k] = MetadataValue.null()
        else:
            out[k] = MetadataValue.json(v)
    return out


def metadata_to_json(metadata: Mapping[str, MetadataValue]) -> str:
    """Serialize metadata values for the run history (non-JSON values become strings)."""
    return json.dumps({k: v.value for k, v in metadata.items()}, default=_json_default)


def _json_default(value: Any) -> Any:
    """TableSchema / TableRecord / AssetKey and the like as JSON; anything else as text."""
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if isinstance(value, AssetKey):
        return value.to_user_string()
    return str(value)


_UNSET: Any = object()
T = TypeVar("T")


@dataclass
class Output(Generic[T]):
    """A returned value with metadata for the I/O manager and the materialization event.

    Annotate the asset ``-> Output[list[int]]`` to have the value checked against ``list[int]``.

    Examples:
        >>> Output([1, 2], metadata={"n": 2}).value
        [1, 2]
    """

    value: T
    output_name: str = "result"
    metadata: Mapping[str, Any] | None = None
    data_version: Any = None
    tags: Mapping[str, str] | None = None


@dataclass
class MaterializeResult(Generic[T]):
    """Report a materialization without (or with) a value for the I/O manager.

    Without ``value``, the I/O manager is not called: the asset stored its data itself.

    Examples:
        >>> MaterializeResult(metadata={"rows": 10}).value is None
        True
    """

    asset_key: CoercibleToAssetKey | None = None
    metadata: Mapping[str, Any] | None = None
    check_results: Any = None
    data_version: Any = None
    tags: Mapping[str, str] | None = None
    value: Any = field(default=_UNSET)

    def __post_init__(self) -> None:
        if self.asset_key is not None:
            self.asset_key = to_asset_key(self.asset_key)
        self._has_value = self.value is not _UNSET
        if not self._has_value:
            self.value = None

    @property
    def has_value(self) -> bool:
        return self._has_value

    @property
    def key(self) -> AssetKey | None:
        return self.asset_key if isinstance(self.asset_key, AssetKey) else None


@dataclass
class DynamicOutput(Generic[T]):
    """One value of a ``DynamicOut``: downstream ops ``.map()`` over every mapping key.

    Examples:
        >>> DynamicOutput(3, mapping_key="three").mapping_key
        'three'
    """

    value: T
    mapping_key: str
    output_name: str = "result"
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        from wharf._core.keys import check_safe_name

        check_safe_name(self.mapping_key, what="DynamicOutput mapping_key")
