"""What an asset function may return besides a plain value, and metadata values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from wharf._core.keys import AssetKey, CoercibleToAssetKey, to_asset_key


@dataclass(frozen=True, eq=False)
class MetadataValue:
    """A typed metadata entry, as Dagster's ``MetadataValue.text(...)`` and friends build them.

    Every entry has ``.value``; each kind is also its Dagster class (``TextMetadataValue`` with
    ``.text``, ``UrlMetadataValue`` with ``.url``, ``JsonMetadataValue`` with ``.data``, ...).

    Examples:
        >>> MetadataValue.int(3).value
        3
        >>> MetadataValue.url("https://example.com").kind
        'url'
        >>> MetadataValue.text("ok").text
        'ok'
    """

    value: Any
    kind: str = "json"

    def __eq__(self, other: object) -> bool:  # a TextMetadataValue equals MetadataValue(v, "text")
        if not isinstance(other, MetadataValue):
            return NotImplemented
        return (self.kind, self.value) == (other.kind, other.value)

    def __hash__(self) -> int:
        return hash((self.kind, repr(self.value)))

    @staticmethod
    def text(value: str) -> TextMetadataValue:
        return TextMetadataValue(value)

    @staticmethod
    def int(value: int) -> IntMetadataValue:
        return IntMetadataValue(value)

    @staticmethod
    def float(value: float) -> FloatMetadataValue:
        return FloatMetadataValue(value)

    @staticmethod
    def bool(value: bool) -> BoolMetadataValue:
        return BoolMetadataValue(value)

    @staticmethod
    def json(value: Any) -> JsonMetadataValue:
        return JsonMetadataValue(value)

    @staticmethod
    def md(value: str) -> MarkdownMetadataValue:
        return MarkdownMetadataValue(value)

    @staticmethod
    def url(value: str) -> UrlMetadataValue:
        return UrlMetadataValue(value)

    @staticmethod
    def path(value: Any) -> PathMetadataValue:
        return PathMetadataValue(value)

    @staticmethod
    def null() -> NullMetadataValue:
        return NullMetadataValue()

    @staticmethod
    def table_schema(schema: Any) -> TableSchemaMetadataValue:
        """A ``TableSchema`` (Dagster's form), or a column -> type mapping (wharf's ``schema``)."""
        return TableSchemaMetadataValue(schema)

    @staticmethod
    def table(records: Any, schema: Any = None) -> TableMetadataValue:
        """Rows (``TableRecord``s) of a small table, with an optional ``TableSchema``."""
        return TableMetadataValue(records, schema)

    @staticmethod
    def timestamp(value: Any) -> TimestampMetadataValue:
        return TimestampMetadataValue(value)

    @staticmethod
    def asset(value: Any) -> AssetMetadataValue:
        return AssetMetadataValue(value)


class TextMetadataValue(MetadataValue):
    """A text entry; ``.text`` (and ``.value``) is the string."""

    def __init__(self, text: str) -> None:
        super().__init__(text, "text")

    @property
    def text(self) -> str:  # type: ignore[override]
        return str(self.value)


class IntMetadataValue(MetadataValue):
    """An integer entry (``.value``)."""

    def __init__(self, value: int) -> None:
        super().__init__(value, "int")


class FloatMetadataValue(MetadataValue):
    """A float entry (``.value``)."""

    def __init__(self, value: float) -> None:
        super().__init__(value, "float")


class BoolMetadataValue(MetadataValue):
    """A boolean entry (``.value``)."""

    def __init__(self, value: bool) -> None:
        super().__init__(value, "bool")


class JsonMetadataValue(MetadataValue):
    """A JSON-able entry; ``.data`` (and ``.value``) is the dict or list."""

    def __init__(self, data: Any) -> None:
        super().__init__(data, "json")

    @property
    def data(self) -> Any:
        return self.value


class MarkdownMetadataValue(MetadataValue):
    """A Markdown entry; ``.md_str`` (and ``.value``) is the text."""

    def __init__(self, md_str: str) -> None:
        super().__init__(md_str, "md")

    @property
    def md_str(self) -> str:
        return str(self.value)


class UrlMetadataValue(MetadataValue):
    """A URL entry; ``.url`` (and ``.value``) is the address."""

    def __init__(self, url: str) -> None:
        super().__init__(url, "url")

    @property
    def url(self) -> str:  # type: ignore[override]
        return str(self.value)


class PathMetadataValue(MetadataValue):
    """A path entry; ``.path`` (and ``.value``) is the path as text."""

    def __init__(self, path: Any) -> None:
        super().__init__(str(path), "path")

    @property
    def path(self) -> str:  # type: ignore[override]
        return str(self.value)


class NullMetadataValue(MetadataValue):
    """An empty entry (``.value`` is None)."""

    def __init__(self) -> None:
        super().__init__(None, "null")


class TableSchemaMetadataValue(MetadataValue):
    """Column names and types; ``.schema`` (and ``.value``) is the ``TableSchema`` given, or
    wharf's column -> type mapping."""

    def __init__(self, schema: Any) -> None:
        super().__init__(dict(schema) if isinstance(schema, Mapping) else schema, "table_schema")

    @property
    def schema(self) -> Any:
        return self.value


class TableMetadataValue(MetadataValue):
    """A small table: ``.records`` (``TableRecord``s) and ``.schema`` (a ``TableSchema`` or
    None); ``.value`` holds both."""

    def __init__(self, records: Any, schema: Any = None) -> None:
        super().__init__({"records": list(records), "schema": schema}, "table")

    @property
    def records(self) -> list[Any]:
        return list(self.value["records"])

    @property
    def schema(self) -> Any:
        return self.value["schema"]


class TimestampMetadataValue(MetadataValue):
    """A point in time (``.value``: what was given, a datetime or seconds since the epoch)."""

    def __init__(self, value: Any) -> None:
        super().__init__(value, "timestamp")


class AssetMetadataValue(MetadataValue):
    """A reference to an asset; ``.asset_key`` (and ``.value``) is its key."""

    def __init__(self, asset_key: Any) -> None:
        super().__init__(to_asset_key(asset_key), "asset")

    @property
    def asset_key(self) -> AssetKey:
        return self.value  # type: ignore[no-any-return]


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


#: kinds the JSON value of an entry already tells (a string is text, a number int or float)
_PLAIN_KINDS = frozenset({"text", "int", "float", "bool", "null"})


def metadata_kinds(metadata: Mapping[str, MetadataValue]) -> dict[str, str]:
    """The kind of each entry whose JSON value does not tell it (``md``, ``url``, ``table``,
    ...), kept beside the values so a reader (the web UI) can render each by its type.

    Examples:
        >>> metadata_kinds({"n": MetadataValue.int(3), "doc": MetadataValue.md("# Hi")})
        {'doc': 'md'}
    """
    return {k: v.kind for k, v in metadata.items() if v.kind not in _PLAIN_KINDS}


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
