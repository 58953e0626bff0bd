"""Keeping the written Arrow schema beside data whose store would lose part of it.

A SQL table knows column types but not Arrow's: pandas metadata, time zone names, the values of
a categorical column (its dictionary), list and struct types. A Parquet file keeps all of those
in its footer, except a dictionary when no row was written. Both stores therefore keep the
written schema in a small text: an Arrow IPC stream of one row of nulls, which carries the
schema and, for each dictionary column, its values. SQL stores put it in the table comment,
Parquet files (only when they hold no rows) in their key-value metadata.

On read, :func:`restore` casts each fetched batch back to the written types and dictionaries,
and :func:`empty_batch` stands in for a stream with no batches, so a zero-row categorical
column still comes back with its declared categories.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from typing import Any

from wharf._deps import require
from wharf.errors import StorageError

__all__ = [
    "OWNED",
    "PARQUET_KEY",
    "DictionaryNotes",
    "decode_schema",
    "empty_batch",
    "encode_schema",
    "is_ours",
    "kept_dictionaries",
    "lowered_names",
    "renamed_names",
    "pandas_needs",
    "restorable",
    "restore",
    "to_storage",
    "zip_schema",
]

_PREFIX = "wharf.arrow-schema.v1:"
_ZIPPED_PREFIX = "wharf.arrow-schema.v1z:"  # the same, zlib-compressed (for short comments)

#: What a SQL table's comment says when wharf wrote the table but its schema did not fit there:
#: the table is still wharf's (its column names load as written), with the database's types.
OWNED = "wharf.table.v1"

#: The Parquet key-value metadata key of the dictionaries of a file that holds no rows.
PARQUET_KEY = b"wharf.empty-dictionaries"

#: A written schema with its dictionaries and the dictionaries alone, as :func:`decode_schema`
#: returns them.
Stored = tuple[Any, dict[str, Any]]


class DictionaryNotes:
    """The dictionary of each categorical column of a stream, noted batch by batch.

    A column whose batches carry different dictionaries keeps the longest one if it extends the
    others (a grown dictionary), else none (the reader then rebuilds one from the values).
    """

    def __init__(self, schema: Any) -> None:
        pa = require("pyarrow")
        self._columns = [
            (i, f.name) for i, f in enumerate(schema) if pa.types.is_dictionary(f.type)
        ]
        self.dictionaries: dict[str, Any] = {}

    def see(self, batch: Any) -> None:
        for i, name in self._columns:
            new = batch.column(i).dictionary
            old = self.dictionaries.setdefault(name, new)
            if old is None or old is new:
                continue
            short, long = sorted((old, new), key=len)
            self.dictionaries[name] = long if long[: len(short)].equals(short) else None

    def __bool__(self) -> bool:
        return any(d is not None and len(d) for d in self.dictionaries.values())

    def keep_in(self, writer: Any) -> None:
        """Add the noted dictionaries to a ``pyarrow.parquet.ParquetWriter`` that wrote no rows
        (Parquet keeps a dictionary only with the rows that use it)."""
        if self:
            text = encode_schema(writer.schema, self.dictionaries)
            writer.add_key_value_metadata({PARQUET_KEY: text.encode("ascii")})


def kept_dictionaries(parquet: Any) -> dict[str, Any]:
    """The dictionaries a ``pyarrow.parquet.ParquetFile`` of no rows kept
    (:meth:`DictionaryNotes.keep_in`); none for any other file."""
    if parquet.metadata.num_rows:
        return {}
    kept = decode_schema((parquet.metadata.metadata or {}).get(PARQUET_KEY))
    return {} if kept is None else kept[1]


def encode_schema(schema: Any, dictionaries: dict[str, Any]) -> str:
    """``schema`` and ``dictionaries`` as ASCII text (one row of nulls in an IPC stream)."""
    pa = require("pyarrow")
    columns = [pa.nulls(1, f.type) for f in schema]
    for i, f in enumerate(schema):
        if pa.types.is_dictionary(f.type) and dictionaries.get(f.name) is not None:
            index = pa.nulls(1, f.type.index_type)
            columns[i] = pa.DictionaryArray.from_arrays(index, dictionaries[f.name])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
    return _PREFIX + base64.b64encode(sink.getvalue().to_pybytes()).decode("ascii")


def zip_schema(text: str) -> str:
    """The text of :func:`encode_schema`, compressed (it still decodes)."""
    if not text.startswith(_PREFIX):
        return text
    raw = base64.b64decode(text[len(_PREFIX) :])
    return _ZIPPED_PREFIX + base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_schema(text: object, columns: list[str] | None = None) -> Stored | None:
    """The schema and dictionaries ``text`` holds, if it is one of ours (and, when ``columns``
    is given, names exactly those columns: else the data was changed by someone else)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str) or not text.startswith((_PREFIX, _ZIPPED_PREFIX)):
        return None
    pa = require("pyarrow")
    zipped = text.startswith(_ZIPPED_PREFIX)
    try:
        raw = base64.b64decode(text.split(":", 1)[1], validate=True)
        table = pa.ipc.open_stream(zlib.decompress(raw) if zipped else raw).read_all()
    except (ValueError, zlib.error, pa.ArrowException):
        return None
    if columns is not None and table.schema.names != columns:
        return None
    dictionaries = {
        f.name: table.column(i).chunks[0].dictionary
        for i, f in enumerate(table.schema)
        if pa.types.is_dictionary(f.type) and table.column(i).num_chunks
    }
    return table.schema, dictionaries


def is_ours(text: object) -> bool:
    """Whether ``text`` (a table comment) says wharf wrote the table: a written schema, or
    :data:`OWNED` where the schema did not fit.

    Examples:
        >>> is_ours(OWNED), is_ours("sales by day"), is_ours(None)
        (True, False, False)
    """
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    return isinstance(text, str) and text.startswith((_PREFIX, _ZIPPED_PREFIX, OWNED))


def lowered_names(stored: Stored) -> Stored:
    """A written schema (and its dictionaries) with lower-cased column names, its pandas
    metadata (labels, index columns) lowered to match, for tables that load lower-cased."""
    return renamed_names(stored, str.lower)


def renamed_names(stored: Stored, rename: Callable[[str], str]) -> Stored:
    """A written schema (and its dictionaries) with each column name ``rename``d, its pandas
    metadata (labels, index columns) renamed to match.

    Examples:
        >>> import pandas as pd, pyarrow as pa
        >>> schema = pa.Table.from_pandas(pd.DataFrame({"v": [1]}, index=[5])).schema
        >>> renamed_names((schema, {}), str.upper)[0].names
        ['V', '__INDEX_LEVEL_0__']
        >>> pandas_needs(renamed_names((schema, {}), str.upper)[0])
        "the pandas index (column(s) ['__INDEX_LEVEL_0__'])"
    """
    pa = require("pyarrow")
    schema, dictionaries = stored
    metadata = dict(schema.metadata or {})
    if b"pandas" in metadata:
        try:
            meta = json.loads(metadata[b"pandas"])
        except ValueError:
            meta = None
        if isinstance(meta, dict):
            for entry in meta.get("columns", []):
                for key in ("name", "field_name"):
                    if isinstance(entry.get(key), str):
                        entry[key] = rename(entry[key])
            meta["index_columns"] = [
                rename(c) if isinstance(c, str) else c for c in meta.get("index_columns", [])
            ]
            metadata[b"pandas"] = json.dumps(meta).encode()
    fields = [f.with_name(rename(f.name)) for f in schema]
    renamed = {rename(name): values for name, values in dictionaries.items()}
    return pa.schema(fields, metadata=metadata or None), renamed


def empty_batch(schema: Any, dictionaries: dict[str, Any]) -> Any:
    """A batch of no rows whose dictionary columns carry their ``dictionaries``."""
    pa = require("pyarrow")
    arrays = []
    for f in schema:
        values = dictionaries.get(f.name)
        if pa.types.is_dictionary(f.type) and values is not None:
            empty, values = pa.array([], f.type.index_type), values.cast(f.type.value_type)
            arrays.append(pa.DictionaryArray.from_arrays(empty, values, ordered=f.type.ordered))
        else:
            arrays.append(pa.array([], f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def to_storage(batch: Any, storage: Any) -> Any:
    """``batch`` in the database's ``storage`` schema: each column cast to its storage type, or,
    for a list or struct column stored as text (PostgreSQL), written as JSON.

    Raises:
        StorageError: a nested value has no JSON form (a timestamp, a date, a decimal, bytes).
    """
    pa = require("pyarrow")
    arrays = []
    for f, column in zip(storage, batch.columns, strict=True):
        if column.type == f.type:
            arrays.append(column)
        elif _json_text(f.type, column.type):
            arrays.append(pa.array(_json_values(column, f.name), type=f.type))
        else:
            arrays.append(_cast(column, f))
    return pa.RecordBatch.from_arrays(arrays, schema=storage)


def _cast(column: Any, target: Any) -> Any:
    """``column`` cast (safely) to its storage type; a time with nanoseconds that the database
    would cut to microseconds is a :class:`StorageError`, not a silent truncation."""
    pa = require("pyarrow")
    zoned = pa.types.is_timestamp(column.type) and column.type.tz
    if zoned and (pa.types.is_string(target.type) or pa.types.is_large_string(target.type)):
        column = column.cast(pa.timestamp(column.type.unit, "UTC"))  # as text: in UTC, with Z
    try:
        return column.cast(target.type)
    except pa.ArrowInvalid as exc:
        cut = (
            getattr(column.type, "unit", None) == "ns" and getattr(target.type, "unit", "") == "us"
        )
        if not cut:
            raise
        msg = (
            f"column {target.name!r} ({column.type}) holds values with nanoseconds, and the "
            "database keeps timestamps and times to the microsecond: refused rather than cut "
            "(round them first, e.g. series.dt.floor('us'), or store them as int64)"
        )
        raise StorageError(
            msg, expected="timestamps in whole microseconds", got=f"nanoseconds in {column.type}"
        ) from exc


def _json_values(column: Any, name: str) -> list[str | None]:
    try:
        return [None if v is None else json.dumps(v) for v in column.to_pylist()]
    except TypeError as exc:
        msg = (
            f"column {name!r} of Arrow type {column.type} is stored as JSON text, and JSON has "
            f"no form for a value in it ({exc}); convert such fields (e.g. to strings) first"
        )
        raise StorageError(
            msg, expected="lists/structs of JSON values", got=str(column.type)
        ) from exc


def _json_text(got: Any, target: Any) -> bool:
    """Whether a written list or struct column came back as JSON text (Snowflake's ARRAY and
    OBJECT columns do, PostgreSQL keeps nested ones as text); :func:`restore` parses it back."""
    pa = require("pyarrow")
    nested = pa.types.is_list(target) or pa.types.is_large_list(target)
    nested = nested or pa.types.is_struct(target)
    return bool(nested and (pa.types.is_string(got) or pa.types.is_large_string(got)))


def restorable(got: Any, written: Any) -> Any:
    """The written field if Arrow can cast the fetched type to it, else the fetched field."""
    pa = require("pyarrow")
    target = written.type
    if pa.types.is_dictionary(target):
        target = target.value_type
    if pa.types.is_null(target):  # a column of nulls kept in some SQL type (restore checks)
        return written
    if _json_text(got.type, target):  # lists/structs a database keeps as JSON (Snowflake)
        return written
    try:
        pa.nulls(0, got.type).cast(target)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        return got.with_metadata(written.metadata)
    return written


def restore(batch: Any, schema: Any, dictionaries: dict[str, Any]) -> Any:
    """Cast a fetched batch back to the written schema, re-using the written dictionaries."""
    pa, pc = require("pyarrow"), require("pyarrow.compute")
    arrays = []
    for f, column in zip(schema, batch.columns, strict=True):
        if pa.types.is_null(f.type) and column.null_count == len(column):
            arrays.append(pa.nulls(len(column)))
            continue
        if _json_text(column.type, f.type):
            values = [None if v is None else json.loads(v) for v in column.to_pylist()]
            arrays.append(pa.array(values, type=f.type))
            continue
        if not pa.types.is_dictionary(f.type):
            arrays.append(column if column.type == f.type else column.cast(f.type))
            continue
        values = column.cast(f.type.value_type)
        known = dictionaries.get(f.name)
        if known is None:
            known = pc.unique(values.drop_null())
        unseen = pc.and_(pc.is_null(pc.index_in(values, value_set=known)), pc.is_valid(values))
        if pc.any(unseen).as_py():  # e.g. a later partition brought new categories
            known = pa.concat_arrays([known, pc.unique(values.filter(unseen))])
        index = pc.index_in(values, value_set=known).cast(f.type.index_type)
        arrays.append(pa.DictionaryArray.from_arrays(index, known, ordered=f.type.ordered))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def pandas_needs(schema: Any) -> str | None:
    """What of a pandas frame only the ``pandas`` metadata of ``schema`` keeps, beyond dtypes:
    its index (stored as columns that would read back as plain ones) or its column labels
    (integers, several levels); None when there is nothing such.

    Examples:
        >>> import pandas as pd, pyarrow as pa
        >>> pandas_needs(pa.Table.from_pandas(pd.DataFrame({"v": [1]}, index=[5])).schema)
        "the pandas index (column(s) ['__index_level_0__'])"
        >>> pandas_needs(pa.Table.from_pandas(pd.DataFrame({"v": [1]})).schema) is None
        True
    """
    raw = (schema.metadata or {}).get(b"pandas")
    try:
        meta = json.loads(raw) if raw else {}
    except ValueError:
        return None
    if not isinstance(meta, dict):
        return None
    entries = meta.get("index_columns", [])
    index = [c for c in entries if isinstance(c, str)]
    if index:
        return f"the pandas index (column(s) {index})"
    ranges = [c for c in entries if isinstance(c, dict)]
    if any(r.get("start") or r.get("step", 1) != 1 or r.get("name") is not None for r in ranges):
        return "the pandas RangeIndex (not starting at 0, or named)"
    levels = meta.get("column_indexes", [])
    if len(levels) > 1 or any(lv.get("pandas_type") not in ("unicode", "bytes") for lv in levels):
        return "the pandas column labels (not plain strings)"
    return None
