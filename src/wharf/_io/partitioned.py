"""Loading several partitions of one input, shared by the path and memory I/O managers.

An input that loads several upstream partitions gets, as in Dagster, a ``dict`` of partition key
to value; when it is annotated with a frame type (``pd.DataFrame``, ``pl.LazyFrame``, ...) it gets
one frame instead: the partitions concatenated through Arrow, in partition order, with columns
unified by name (a column missing from some partitions is null there). An input annotated
``dict[str, X]`` always gets a dict, even of one partition.

A partition that was never stored is an error naming the missing partitions (the first ten and
how many in all), unless the input says ``AssetIn(metadata={"allow_missing_partitions": True})``:
then it is left out.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from wharf._core.contexts import InputContext, OutputContext, TypeInfo
from wharf._core.partitioning.backfill import run_size
from wharf._core.results import MetadataValue
from wharf._core.typecheck import strip_optional, type_name
from wharf.errors import AssetTypeError, StoredValueNotFoundError


def allow_missing(context: InputContext) -> bool:
    """Whether the input skips missing partitions (``allow_missing_partitions`` metadata)."""
    return bool(context.definition_metadata.get("allow_missing_partitions", False))


def is_dict_annotation(annotation: Any) -> bool:
    return annotation in (dict, Mapping) or typing.get_origin(annotation) in (
        dict,
        Mapping,
        typing.Mapping,
    )


def value_annotation(annotation: Any) -> Any:
    """What one partition loads as: ``X`` for ``dict[str, X]``, else the annotation itself."""
    if is_dict_annotation(annotation):
        args = typing.get_args(annotation)
        return args[1] if len(args) == 2 else Any
    return annotation


def frame_adapter(annotation: Any) -> Any:
    """The frame adapter of a frame annotation (None for anything else: the partitions are
    then a dict, or the one partition's value)."""
    if is_dict_annotation(annotation):
        return None
    from wharf._frames import adapter_for_load

    return adapter_for_load(annotation)


def for_partition(context: InputContext, key: str, annotation: Any = None) -> InputContext:
    """``context`` narrowed to one upstream partition, typed as one partition's value (or as
    ``annotation``)."""
    if annotation is None:
        annotation = value_annotation(context.dagster_type.typing_type)
    upstream = context.upstream_output
    if upstream is not None:
        upstream = dataclasses.replace(upstream, asset_partition_keys_or_none=(key,))
    return dataclasses.replace(
        context,
        asset_partition_keys_or_none=(key,),
        dagster_type=TypeInfo(annotation),
        upstream_output=upstream,
    )


def missing_error(
    context: InputContext, missing: Mapping[str, object], manager: str
) -> StoredValueNotFoundError:
    """The error for partitions that were never stored (``missing``: key -> where it was looked)."""
    name = context.asset_key.to_user_string()
    keys = list(missing)
    shown = f"{keys[:10]}" + (
        f" (and {len(keys) - 10} more, {len(keys)} in all)" * (len(keys) > 10)
    )
    where = ", ".join(str(v) for v in list(missing.values())[:3])
    more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
    msg = (
        f"asset {name!r} has no stored value for partition(s) {shown} ({manager}; looked at "
        f"{where}{more}): expected them to be materialized before they are loaded. Materialize "
        "them, or skip them with AssetIn(metadata={'allow_missing_partitions': True})"
    )
    return StoredValueNotFoundError(
        msg, asset=name, io_manager=manager, expected=shown, got="missing"
    )


def combine(context: InputContext, values: dict[str, Any], manager: str) -> Any:
    """The input's value from its loaded partitions (see the module docstring)."""
    annotation = context.dagster_type.typing_type
    adapter = frame_adapter(annotation)
    if adapter is not None:
        return concat_frames(context, values, adapter, manager)
    if is_dict_annotation(annotation) or len(context.asset_partition_keys) != 1:
        return values
    return next(iter(values.values()), None)


def concat_frames(context: InputContext, values: dict[str, Any], adapter: Any, manager: str) -> Any:
    """One frame of the annotated type from every partition's frame, via Arrow."""
    from wharf._deps import require
    from wharf._frames import adapter_for_value
    from wharf._frames.pandas_index import align_indexes

    pa = require("pyarrow", purpose="combining partitions into one frame")
    readers = []
    for key, value in values.items():
        source = adapter_for_value(value)
        if source is None:
            label = context.asset_key.to_user_string()
            msg = (
                f"partition {key!r} of asset {label!r} loaded as {type_name(type(value))}, which "
                f"{manager} cannot combine into one {type_name(context.dagster_type.typing_type)}"
                ": expected every partition to be a table"
            )
            raise AssetTypeError(
                msg, asset=label, io_manager=manager, expected="a table",
                got=type_name(type(value)),
            )  # fmt: skip
        readers.append(source.to_arrow(value))
    readers = align_indexes(readers)
    schema = unified_schema([r.schema for r in readers], pa)
    reader = pa.RecordBatchReader.from_batches(schema, _conformed(readers, schema, pa))
    return adapter.from_arrow(reader, strip_optional(context.dagster_type.typing_type))


def unified_schema(schemas: list[Any], pa: Any) -> Any:
    """Every column of every schema (first seen first), types promoted to fit them all."""
    if not schemas:
        return pa.schema([])
    if all(s.equals(schemas[0]) for s in schemas):
        return schemas[0]
    unified = pa.unify_schemas(schemas, promote_options="permissive")
    return unified.with_metadata(schemas[0].metadata)


def _conformed(readers: Iterable[Any], schema: Any, pa: Any) -> Iterator[Any]:
    for reader in readers:
        for batch in reader:
            arrays = []
            for f in schema:
                if f.name in batch.schema.names:
                    column = batch.column(f.name)
                    arrays.append(column if column.type == f.type else column.cast(f.type))
                else:
                    arrays.append(pa.nulls(batch.num_rows, f.type))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def runs_ranges(context: OutputContext) -> bool:
    """Whether the output's asset has a backfill policy that puts several partitions in a run
    (``single_run()``, ``multi_run(N > 1)``): its body returns a dict by partition key to a
    manager that keeps one object per partition, in a run of one partition too."""
    return run_size([getattr(context.op_def, "backfill_policy", None)]) != 1


def store_each_partition(
    context: OutputContext, obj: Any, store_one: Callable[[OutputContext, Any], None], manager: str
) -> bool:
    """Store a range run's value one partition at a time (managers that keep one object per
    partition); False when the output is one partition's value, stored as it is.

    The value must be a dict of partition key to that partition's value, with exactly the run's
    keys. A run of one partition of an asset whose backfill policy runs ranges
    (:func:`runs_ranges`: the last run of ``multi_run(2)`` over three days) gives such a dict
    too, and its one value is stored (a dict of exactly that key was stored whole before). The
    output's metadata is the last partition's, with ``row_count`` summed over them all and
    ``partition_count``.
    """
    keys = context.asset_partition_keys_or_none
    if not context.has_asset_key or keys is None:
        return False
    given = set(obj) if isinstance(obj, Mapping) else None
    if len(keys) == 1 and not (given == set(keys) and runs_ranges(context)):
        return False  # one partition's value, as it came
    name = context.asset_key.to_user_string()
    if given != set(keys):
        got = type_name(type(obj)) if given is None else f"a dict of {len(given)} keys"
        if given is not None and (extra := sorted(given - set(keys))[:5]):
            got += f" ({extra} not in the run)"
        msg = (
            f"asset {name!r} materializes {len(keys)} partitions in one run ({keys[0]!r} to "
            f"{keys[-1]!r}), so {manager} (one object per partition) needs a dict of partition "
            f"key to that partition's value, with every key of the run: got {got}. (Dagster's "
            "UPathIOManager refuses a run of several partitions.) Return {key: value for key in "
            "context.partition_keys}, give the asset BackfillPolicy.multi_run(1) (one partition "
            "a run), annotate it -> None and write the data in its body, or store it in a table "
            "store (partition_expr metadata), which replaces the range in one write"
        )
        raise AssetTypeError(
            msg, asset=name, io_manager=manager, expected="a dict by partition key", got=got
        )
    rows: int | None = 0
    meta: dict[str, Any] = {}
    for key in keys:
        one = dataclasses.replace(context, asset_partition_keys_or_none=(key,), _added_metadata={})
        store_one(one, obj[key])
        meta = one.consume_logged_metadata()
        count = meta.get("row_count")
        rows = rows + int(count.value) if rows is not None and count is not None else None
    if rows is not None and "row_count" in meta:
        meta["row_count"] = MetadataValue.int(rows)
    context.add_output_metadata({**meta, "partition_count": MetadataValue.int(len(keys))})
    return True
