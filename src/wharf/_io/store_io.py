"""The generic table I/O manager: a table store plus the frame adapter a value or annotation picks.

Every table store (DuckDB, Postgres, Snowflake, BigQuery, ...) reuses this class: a store-specific
I/O manager only says how to build its :class:`~wharf._stores.base.TableStore` and which frame
type an unannotated input loads as. Storing dispatches on the value's type; loading on the
input's annotation, so pandas written upstream can be read as polars downstream.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from wharf._core.contexts import InputContext, OutputContext
from wharf._core.keys import AssetKey
from wharf._core.results import MetadataValue
from wharf._core.typecheck import type_name
from wharf._frames import adapter_for_annotation, adapter_for_value, supported_type_names
from wharf._io.configurable import ConfigurableIOManager
from wharf._stores.base import TableRef
from wharf.errors import AssetTypeError

if TYPE_CHECKING:
    from wharf._frames.base import FrameAdapter
    from wharf._stores.base import TableStore, WriteResult


def table_ref(
    key: AssetKey, definition_metadata: dict[str, Any], default_schema: str | None
) -> TableRef:
    """Where an asset's table lives.

    The table is the key's last part. The schema comes from the asset's ``schema`` metadata,
    then the I/O manager's ``schema``, then the key prefix (parts joined by ``_``), then ``public``.

    Examples:
        >>> table_ref(AssetKey(["sales", "daily"]), {}, None)
        TableRef(schema='sales', table='daily')
        >>> table_ref(AssetKey("daily"), {"schema": "raw"}, "public")
        TableRef(schema='raw', table='daily')
    """
    schema = definition_metadata.get("schema") or default_schema
    if not schema:
        schema = "_".join(key.path[:-1]) if len(key.path) > 1 else "public"
    return TableRef(str(schema), key.path[-1])


class TableIOManager(ConfigurableIOManager):
    """Stores table-like values in a table store and loads them as the annotation asks."""

    #: the adapter name an input without a frame annotation loads as ("pandas", "polars", ...)
    default_load_type: ClassVar[str] = "arrow-table"

    @abstractmethod
    def table_store(self) -> TableStore:
        """The store this manager reads and writes."""

    @abstractmethod
    def default_schema(self) -> str | None:
        """The schema configured on the manager, if any."""

    # -- storing ----------------------------------------------------------------------
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        label = context.asset_key.to_user_string()
        adapter = adapter_for_value(obj)
        if adapter is None:
            expected = ", ".join(supported_type_names())
            msg = (
                f"asset {label!r} returned {type_name(type(obj))}, which {type(self).__name__} "
                f"cannot store as a table: expected one of {expected}; "
                "the stored table is unchanged"
            )
            raise AssetTypeError(
                msg, asset=label, io_manager=type(self).__name__, expected=expected,
                got=type_name(type(obj)),
            )  # fmt: skip
        ref = table_ref(context.asset_key, context.definition_metadata, self.default_schema())
        start = time.perf_counter()
        # a DuckDB relation goes as itself: a store on the same database copies it natively
        source = obj if adapter.name == "duckdb" else adapter.to_arrow(obj)
        result = self.table_store().write(ref, source)
        context.add_output_metadata(_metadata(result, time.perf_counter() - start))

    # -- loading ----------------------------------------------------------------------
    def load_input(self, context: InputContext) -> Any:
        annotation = context.dagster_type.typing_type
        adapter = self._load_adapter(context, annotation)
        upstream_meta = (
            context.upstream_output.definition_metadata if context.upstream_output else {}
        )
        ref = table_ref(context.asset_key, upstream_meta, self.default_schema())
        columns = context.definition_metadata.get("columns")
        wanted = list(columns) if columns else None
        return self.read_table(ref, adapter, _unwrap_optional(annotation), wanted)

    def read_table(
        self, ref: TableRef, adapter: FrameAdapter, annotation: Any, columns: list[str] | None
    ) -> Any:
        """Load ``ref`` as ``annotation`` through Arrow; a store with native lazy values (a
        DuckDB relation) overrides this."""
        reader = self.table_store().read(ref, columns=columns)
        return adapter.from_arrow(reader, annotation)

    def _load_adapter(self, context: InputContext, annotation: Any) -> FrameAdapter:
        adapter = adapter_for_annotation(annotation)
        if adapter is not None:
            return adapter
        if _is_unspecified(annotation):
            from wharf._frames.registry import ADAPTERS

            return next(a for a in ADAPTERS if a.name == self.default_load_type)
        label = context.asset_key.to_user_string()
        expected = ", ".join(supported_type_names())
        msg = (
            f"input {context.name!r} (asset {label!r}) is annotated {type_name(annotation)}, which "
            f"{type(self).__name__} cannot load a table as: expected one of {expected}"
        )
        raise AssetTypeError(
            msg, asset=label, io_manager=type(self).__name__, expected=expected,
            got=type_name(annotation),
        )  # fmt: skip


def _is_unspecified(annotation: Any) -> bool:
    import inspect

    return annotation in (Any, inspect.Parameter.empty, object, None)


def _unwrap_optional(annotation: Any) -> Any:
    import types
    import typing

    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    if typing.get_origin(annotation) is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation


def _metadata(result: WriteResult, seconds: float) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "row_count": MetadataValue.int(result.row_count),
        "schema": MetadataValue.table_schema(result.schema),
        "table": MetadataValue.text(result.location),
        "duration_s": MetadataValue.float(round(seconds, 6)),
    }
    if result.bytes is not None:
        meta["bytes"] = MetadataValue.int(result.bytes)
    return meta
