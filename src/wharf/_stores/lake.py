"""What the table-format stores (Delta Lake, Iceberg) share: the Arrow types they keep, the
written schema kept beside each version, and the checks a merge or partition write makes on the
incoming rows before anything is committed.

Both formats keep fewer Arrow types than wharf stores (no dictionaries, no unsigned integers,
microsecond timestamps), so a value is written in the nearest type they keep
(:func:`to_storage`) and its exact Arrow schema goes with the version (:func:`schema_note`);
:func:`restored` gives the rows back in the written types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from wharf._deps import require
from wharf._stores.base import Partition, as_filters, describe_filters
from wharf._stores.schema_codec import (
    decode_schema,
    empty_batch,
    encode_schema,
    restore,
    zip_schema,
)
from wharf._stores.schema_codec import (
    to_storage as batch_to_storage,
)
from wharf.errors import StorageError

__all__ = [
    "arrow_filter",
    "check_inside",
    "check_merge_keys",
    "masked_options",
    "restored_scan",
    "restored",
    "schema_note",
    "to_storage",
]

_WIDER = {"uint8": "int16", "uint16": "int32", "uint32": "int64", "uint64": "int64"}


def dictionaries(table: Any) -> dict[str, Any]:
    """The dictionary (categories) of each dictionary column of ``table``."""
    import pyarrow as pa

    found = {}
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            column = table.column(i)
            if column.num_chunks:
                found[f.name] = column.chunk(0).dictionary
            else:
                found[f.name] = pa.array([], f.type.value_type)
    return found


def schema_note(table: Any) -> str:
    """``table``'s exact Arrow schema (and categories), as text kept with the version."""
    return zip_schema(encode_schema(table.schema, dictionaries(table)))


def _storage_type(t: Any, utc: bool) -> Any:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _storage_type(t.value_type, utc)
    if str(t) in _WIDER:
        return pa.type_for_alias(_WIDER[str(t)])
    if pa.types.is_timestamp(t) and (t.unit == "ns" or (utc and t.tz not in (None, "UTC"))):
        return pa.timestamp("us", tz="UTC" if utc and t.tz else t.tz)
    if utc and pa.types.is_null(t):
        return pa.string()
    if utc and (pa.types.is_string_view(t) or pa.types.is_binary_view(t)):
        return pa.large_string() if pa.types.is_string_view(t) else pa.large_binary()
    return t


def to_storage(table: Any, *, nullable: bool = False, utc: bool = False) -> Any:
    """``table`` in types the formats keep: categories as their values, unsigned integers in the
    next signed type (a uint64 above int64's range is refused), nanoseconds refused unless whole
    microseconds. Iceberg also needs (``nullable``) every column optional, so the schema takes
    any later write, and (``utc``) zoned times in UTC, all-null columns as strings, string and
    binary views as plain (large) strings and binaries.
    The written schema is kept beside it (:func:`schema_note`) and restored on read."""
    import pyarrow as pa

    storage = pa.schema(
        [pa.field(f.name, _storage_type(f.type, utc), f.nullable or nullable) for f in table.schema]
    )
    if storage.equals(table.schema):
        return table
    batches = [batch_to_storage(b, storage) for b in table.to_batches()]
    return pa.Table.from_batches(batches, schema=storage)


def restored(schema: Any, batches: Iterable[Any], note: str | None) -> Any:
    """A reader of ``batches`` (read with ``schema``) in the types ``note`` kept, or as read when
    the version has no note (written by something else); each batch is restored as it is read."""
    import pyarrow as pa

    stored = decode_schema(note)
    if stored is None:
        return pa.RecordBatchReader.from_batches(schema, iter(batches))
    kept, dicts = stored
    kept = pa.schema([kept.field(n) for n in schema.names], metadata=kept.metadata)

    def back() -> Iterator[Any]:
        empty = True
        for batch in batches:
            empty = False
            yield restore(batch, kept, dicts)
        if empty:  # a zero-row categorical keeps its declared categories
            yield empty_batch(kept, dicts)

    return pa.RecordBatchReader.from_batches(kept, back())


def restored_scan(
    scan: Any,
    note: str | None,
    columns: Sequence[str] | None,
    partition: Partition | None,
    through_arrow: Callable[[], Any],
) -> Any:
    """The format's own lazy scan ``scan`` (a ``polars.LazyFrame``) of ``partition``'s rows and
    ``columns``, in the written column order and types ``note`` kept (as an eager load gives
    them). The filter and the projection come before the casts, so polars pushes them into the
    scan (files and row groups skipped by their statistics, only those columns read); nothing is
    read until the frame is collected. When the written types have no polars dtype, the rows of
    ``through_arrow()`` (the store's Arrow read) are loaded as a LazyFrame, as they would be
    without a scan."""
    import pyarrow as pa

    pl = require("polars", purpose="a polars.LazyFrame scan")
    stored = scan.collect_schema()  # the format's metadata: no data file is opened
    target: Any = None
    kept = decode_schema(note)
    if kept is not None:
        schema, dicts = kept
        try:
            empty = pa.RecordBatchReader.from_batches(schema, [empty_batch(schema, dicts)])
            target = pl.DataFrame(empty).schema
        except Exception:  # any type polars has no dtype for
            from wharf._frames.polars import PolarsLazyAdapter

            return PolarsLazyAdapter().from_arrow(through_arrow(), pl.LazyFrame)
    names = list(columns) if columns else [n for n in (target or stored) if n in stored]
    expr = polars_filter(partition, stored)
    if expr is not None:
        scan = scan.filter(expr)
    scan = scan.select(names)
    if target is not None:
        casts = {n: target[n] for n in names if n in target and target[n] != stored[n]}
        scan = scan.cast(casts) if casts else scan
    return scan


def polars_filter(partition: Partition | None, schema: Any) -> Any:
    """The polars expression of ``partition``'s rows (None: every row), its values in the
    column's type in ``schema`` (a zoned time is compared in the column's zone).

    Examples:
        >>> import polars as pl
        >>> from wharf._stores.base import PartitionFilter
        >>> frame = pl.DataFrame({"n": [0, 1, 5]})
        >>> frame.filter(polars_filter(PartitionFilter("n", start=1, end=5), frame.schema))
        shape: (1, 1)
        ┌─────┐
        │ n   │
        │ --- │
        │ i64 │
        ╞═════╡
        │ 1   │
        └─────┘
    """
    pl = require("polars", purpose="a polars.LazyFrame scan")
    expr = None
    for f in as_filters(partition):
        column, dtype = pl.col(f.column), schema[f.column]
        terms = []
        if f.values is not None:
            present = [v for v in f.values if v is not None]
            term = column.is_in(pl.Series(present).cast(dtype).implode()) if present else None
            if len(present) < len(f.values):
                term = column.is_null() if term is None else term | column.is_null()
            terms.append(term)
        if f.start is not None:
            terms.append(column >= pl.lit(f.start).cast(dtype))
        if f.end is not None:
            terms.append(column < pl.lit(f.end).cast(dtype))
        for term in terms:
            expr = term if expr is None else expr & term
    return expr


def arrow_filter(partition: Partition | None) -> Any:
    """The pyarrow compute expression of ``partition``'s rows (None: every row)."""
    import pyarrow.compute as pc

    expr = None
    for f in as_filters(partition):
        field = pc.field(f.column)
        terms = []
        if f.values is not None:
            present = [v for v in f.values if v is not None]
            term = field.isin(present) if present else None
            if len(present) < len(f.values):
                term = field.is_null() if term is None else term | field.is_null()
            terms.append(term)
        if f.start is not None:
            terms.append(field >= f.start)
        if f.end is not None:
            terms.append(field < f.end)
        for term in terms:
            expr = term if expr is None else expr & term
    return expr


def check_inside(table: Any, partition: Partition | None, store: str, uri: str) -> None:
    """Every row of a partition write lies inside the partition, else nothing is written."""
    expr = arrow_filter(partition)
    if expr is None or table.filter(expr).num_rows == table.num_rows:
        return
    where = describe_filters(partition)
    msg = (
        f"{store} could not write {uri}: rows outside {where} came in; every row of a "
        "partition write must belong to its partition"
    )
    raise StorageError(msg, expected=where, got=f"{table.num_rows} rows, some outside")


def check_merge_keys(table: Any, keys: Sequence[str], store: str, uri: str) -> None:
    """The merge keys are columns of the new rows and identify one row each, else nothing is
    written (which row would win is not defined)."""
    if missing := [k for k in keys if k not in table.column_names]:
        msg = (
            f"{store} could not merge into table {uri}: merge key(s) {missing} are not "
            f"columns of the data, whose columns are {table.column_names}; nothing was written"
        )
        raise StorageError(msg, expected=f"columns {list(keys)}", got=str(table.column_names))
    counts = table.group_by(list(keys)).aggregate([([], "count_all")])
    repeated = counts.filter(counts.column("count_all").to_numpy() > 1).slice(0, 1)
    if repeated.num_rows:
        row = repeated.to_pylist()[0]
        key = ", ".join(f"{k}={row[k]!r}" for k in keys)
        msg = (
            f"{store} could not merge into table {uri}: merge key {key} appears "
            f"{row['count_all']} times in the new data, and a merge key must identify one "
            "row; nothing was written"
        )
        raise StorageError(msg, expected="unique merge keys in the new data", got=key)


#: parts of an option name that mark its value a credential (delta-rs / object_store keys such
#: as ``AWS_SECRET_ACCESS_KEY``, ``azure_storage_account_key``, pyiceberg's ``s3.session-token``,
#: ``adls.connection-string``)
_SECRET_PARTS = ("secret", "key", "token", "password", "credential", "connection", "sas")


def masked_options(options: Any) -> Any:
    """``options`` with the values of credential-like names masked, for reprs.

    Examples:
        >>> masked_options({"AWS_REGION": "eu", "AWS_SECRET_ACCESS_KEY": "s3cr3t"})
        {'AWS_REGION': 'eu', 'AWS_SECRET_ACCESS_KEY': '**********'}
    """
    if not isinstance(options, dict):
        return options
    return {
        k: "**********" if any(p in str(k).lower() for p in _SECRET_PARTS) and v else v
        for k, v in options.items()
    }
