"""``InMemoryIOManager``: values kept in a dict for the life of the manager (for tests).

A partitioned asset keeps one value per partition; an input of several partitions gets a dict
or one frame, as with the path I/O managers (:mod:`wharf._io.partitioned`).
"""

from __future__ import annotations

from typing import Any

from wharf._core.contexts import InputContext, OutputContext
from wharf._io import partitioned
from wharf._io.base import IOManager
from wharf.errors import StorageError, StoredValueNotFoundError


class InMemoryIOManager(IOManager):
    """Keeps values in memory, keyed by asset key (and partition). Not shared across processes.

    Examples:
        >>> from wharf import build_input_context, build_output_context
        >>> m = InMemoryIOManager()
        >>> m.handle_output(build_output_context(asset_key="a"), [1, 2])
        >>> m.load_input(build_input_context(asset_key="a"))
        [1, 2]
    """

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], Any] = {}
        #: the adapter of a lazy value, kept computed as a table, that an unannotated input
        #: gets back (a stream, a LazyFrame, a relation)
        self._lazy: dict[tuple[str, ...], Any] = {}

    def is_process_local(self) -> bool:
        """Values live in this process only: executors that use workers refuse it."""
        return True

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        from wharf._frames import adapter_for_value
        from wharf._io.table_options import refuse_write_modes

        refuse_write_modes(context, self)
        if partitioned.store_each_partition(context, obj, self.handle_output, "InMemoryIOManager"):
            return

        ident = tuple(context.get_identifier())
        adapter = adapter_for_value(obj)
        lazy = adapter is not None and adapter.lazy
        if lazy:  # computed now: a failure is this asset's, and the stored value stays
            obj = self._computed(context, adapter, obj)
        self.values[ident] = obj
        if lazy:
            self._lazy[ident] = adapter
        else:
            self._lazy.pop(ident, None)

    @staticmethod
    def _computed(context: OutputContext, adapter: Any, obj: Any) -> Any:
        """A lazy value (a one-shot stream, a query) as an Arrow table."""
        try:
            return adapter.to_arrow(obj).read_all()
        except Exception as exc:
            name = context.asset_key.to_user_string() if context.has_asset_key else "output"
            msg = (
                f"InMemoryIOManager could not store asset {name!r}: computing its lazy value "
                f"({adapter.name}) failed: {type(exc).__name__}: {exc}; the previously stored "
                "value is unchanged"
            )
            raise StorageError(
                msg, asset=name, io_manager="InMemoryIOManager", expected=f"a {adapter.name} "
                "that computes", got=type(exc).__name__,
            ) from exc  # fmt: skip

    def load_input(self, context: InputContext) -> Any:
        if not context.has_asset_key or not context.has_asset_partitions:
            return self._load_one(context)
        loaded: dict[str, Any] = {}
        missing: dict[str, Any] = {}
        for key in context.asset_partition_keys:
            one = partitioned.for_partition(context, key)
            try:
                loaded[key] = self._load_one(one)
            except StoredValueNotFoundError:
                missing[key] = "/".join(one.get_asset_identifier())
        if missing and not partitioned.allow_missing(context):
            raise partitioned.missing_error(context, missing, "InMemoryIOManager")
        return partitioned.combine(context, loaded, "InMemoryIOManager")

    def _load_one(self, context: InputContext) -> Any:
        ident = tuple(context.get_identifier())
        try:
            value = self.values[ident]
        except KeyError:
            name = "/".join(ident)
            msg = (
                f"asset {name!r} has no value in InMemoryIOManager: expected it to be "
                "materialized earlier in the same process, got nothing stored"
            )
            raise StoredValueNotFoundError(
                msg,
                asset=name,
                io_manager="InMemoryIOManager",
                expected="a stored value",
                got="nothing",
            ) from None
        return self._as_requested(context, value, self._lazy.get(ident))

    def _as_requested(self, context: InputContext, value: Any, lazy: Any) -> Any:
        """A table converted to the annotated frame type (unannotated: the type it was stored
        as) and projected to ``columns``."""
        from wharf._core.typecheck import strip_optional
        from wharf._frames import adapter_for_load, adapter_for_value

        source = adapter_for_value(value)
        if source is None:
            return value
        annotation = context.dagster_type.typing_type
        columns = context.definition_metadata.get("columns")
        # an annotation that is no frame type gets the value as it was stored (memory keeps
        # Python objects, it refuses nothing)
        stored = lazy.name if lazy is not None else source.name
        target = adapter_for_load(annotation, stored=stored) or lazy or source
        if target is source and not columns:
            return value
        reader = source.to_arrow(value)
        if columns:
            reader = _project(reader, list(columns))
        return target.from_arrow(reader, strip_optional(annotation))


def _project(reader: Any, columns: list[str]) -> Any:
    from wharf._deps import require

    pa = require("pyarrow")
    schema = pa.schema([reader.schema.field(c) for c in columns], reader.schema.metadata)
    return pa.RecordBatchReader.from_batches(schema, (b.select(columns) for b in reader))
