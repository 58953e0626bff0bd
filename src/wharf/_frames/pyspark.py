"""PySpark: ``pyspark.sql.DataFrame`` to and from Arrow (pyspark >= 4.0).

**Out (storing a Spark DataFrame)** streams partition by partition, so the driver holds one
partition's rows at a time, never the whole frame: each partition's Arrow record batches are
written, on the executors, into Arrow IPC blobs (``mapInArrow``), and the driver pulls the
partitions in order with ``toLocalIterator`` and reads the blobs back as record batches. No
pandas and no row objects are involved; the schema is known before any job runs. Executors
need pyarrow, as for any Arrow UDF (in local mode: ``PYSPARK_PYTHON`` must be this Python).

**In (loading a table as a Spark DataFrame)** builds the frame from the Arrow table with the
active ``SparkSession`` (``createDataFrame(pyarrow.Table, schema)``); a table loaded into Spark
is local data, held by the JVM. The Spark schema is derived from the Arrow one: naive
timestamps become ``TimestampNTZType``, zoned ones ``TimestampType``.

Spark has no unsigned integers, no half floats, no dictionaries and no per-column time zone,
so such columns go in as the nearest Spark type (``uint8`` as ``smallint``, categoricals as
strings, ``Europe/Paris`` timestamps as instants), and the original Arrow field is kept in the
Spark field's metadata (``wharf.arrow``). Storing that DataFrame again restores the original
types, as long as the column still has the Spark type it was loaded with.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from wharf._deps import require
from wharf._frames.base import as_reader, check_value, matches_any
from wharf.errors import AssetTypeError, ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SparkAdapter"]

_META = "wharf.arrow"  # Spark field metadata: the original Arrow field (IPC schema, base64)
_BLOB_BYTES = 64 << 20  # Arrow IPC bytes per row sent from an executor to the driver


class SparkAdapter:
    """``pyspark.sql.DataFrame`` (classic or Spark Connect), streamed out by partition.

    Examples:
        >>> SparkAdapter().matches_type(int), SparkAdapter().type_names()
        (False, ('pyspark.sql.DataFrame',))
    """

    name: str = "pyspark"
    lazy: bool = True
    _paths = frozenset(
        {"pyspark.sql.dataframe.DataFrame", "pyspark.sql.connect.dataframe.DataFrame"}
    )

    def matches_type(self, tp: type) -> bool:
        """Whether ``tp`` is a Spark DataFrame class (checked by name: pyspark is not imported)."""
        return matches_any(tp, self._paths)

    def to_arrow(self, obj: Any) -> pa.RecordBatchReader:
        """A reader whose batches come partition by partition, as they are pulled."""
        check_value(self, obj)
        pa = require("pyarrow", purpose="converting a Spark DataFrame to Arrow")
        spark_schema = obj.schema
        wire = _wire_schema(spark_schema)
        schema = _restored_schema(spark_schema, wire)
        return pa.RecordBatchReader.from_batches(schema, _stream(obj, wire, schema))

    def from_arrow(self, reader: pa.RecordBatchReader, tp: type) -> Any:
        """A Spark DataFrame of the rows, on the active ``SparkSession``."""
        spark = _active_session()
        table = as_reader(reader).read_all()
        table, schema = _for_spark(table)
        return spark.createDataFrame(table, schema=schema)

    def type_names(self) -> tuple[str, ...]:
        """``("pyspark.sql.DataFrame",)``."""
        return ("pyspark.sql.DataFrame",)


def _active_session() -> Any:
    sql = require("pyspark.sql", purpose="loading a table as a Spark DataFrame")
    session = sql.SparkSession.getActiveSession()
    if session is None:  # the active session is per thread; the one built by getOrCreate()
        session = getattr(sql.SparkSession, "_instantiatedSession", None)
    if session is None:
        msg = (
            "loading a table as a pyspark.sql.DataFrame needs a running SparkSession, and there "
            "is none: create one (SparkSession.builder...getOrCreate()) before materializing"
        )
        raise ConfigError(msg, expected="an active SparkSession", got="none")
    return session


# -- Spark -> Arrow ---------------------------------------------------------------------------
def _wire_schema(spark_schema: Any) -> Any:
    """The Arrow schema Spark produces for ``spark_schema`` (timestamps in UTC)."""
    types = require("pyspark.sql.pandas.types", purpose="converting a Spark DataFrame to Arrow")
    schema = types.to_arrow_schema(spark_schema, timezone="UTC")
    return schema.remove_metadata()


def _restored_schema(spark_schema: Any, wire: Any) -> Any:
    """``wire`` with each field whose Spark metadata holds its original Arrow field restored."""
    pa = require("pyarrow")
    fields = []
    for spark_field, field in zip(spark_schema.fields, wire, strict=True):
        original = _original_field(spark_field)
        usable = original is not None and original.name == field.name and _castable(field, original)
        fields.append(original if usable else field.remove_metadata())
    return pa.schema(fields)


def _original_field(spark_field: Any) -> Any:
    meta = (spark_field.metadata or {}).get(_META)
    if not isinstance(meta, dict) or meta.get("spark") != spark_field.dataType.simpleString():
        return None  # not ours, or the column changed type since it was loaded
    pa = require("pyarrow")
    try:
        raw = base64.b64decode(meta["field"], validate=True)
        return pa.ipc.read_schema(pa.py_buffer(raw)).field(0)
    except (KeyError, ValueError, TypeError, pa.ArrowException):
        return None


def _castable(got: Any, want: Any) -> bool:
    pa = require("pyarrow")
    try:
        pa.nulls(0, got.type).cast(want.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return False
    return True


def _stream(df: Any, wire: Any, schema: Any) -> Iterator[Any]:
    """Pull the partitions in order; each row holds Arrow IPC bytes made on an executor."""
    pa = require("pyarrow")
    limit = _BLOB_BYTES

    def encode(batches: Iterator[Any]) -> Iterator[Any]:  # runs on the executors
        import pyarrow as pa

        def blob(sink: Any) -> Any:
            buffer = sink.getvalue()
            offsets = pa.array([0, buffer.size], pa.int32()).buffers()[1]
            array = pa.Array.from_buffers(pa.binary(), 1, [None, offsets, buffer])
            return pa.RecordBatch.from_arrays([array], names=["ipc"])

        sink = writer = None
        size = 0
        for batch in batches:
            if writer is None:
                sink = pa.BufferOutputStream()
                writer = pa.ipc.new_stream(sink, batch.schema)
            writer.write_batch(batch)
            size += batch.nbytes
            if size >= limit:
                writer.close()
                yield blob(sink)
                sink, writer, size = None, None, 0
        if writer is not None:
            writer.close()
            yield blob(sink)

    sent = 0
    for row in df.mapInArrow(encode, "ipc binary").toLocalIterator(prefetchPartitions=True):
        for batch in pa.ipc.open_stream(row[0]):
            sent += 1
            yield _conform(batch, wire, schema)
    if not sent:  # no rows: one empty batch still carries the schema
        yield pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def _conform(batch: Any, wire: Any, schema: Any) -> Any:
    """A batch as Spark made it (session time zone, maybe large types) in the reader's schema."""
    pa = require("pyarrow")
    if batch.schema.equals(schema):
        return batch
    columns = [
        column if column.type == field.type else column.cast(wire_field.type).cast(field.type)
        for column, wire_field, field in zip(batch.columns, wire, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


# -- Arrow -> Spark ---------------------------------------------------------------------------
def _spark_type(t: Any) -> Any:
    """The Arrow type to hand Spark for ``t`` (one it can convert), recursively."""
    pa = require("pyarrow")
    if isinstance(t, pa.BaseExtensionType):
        return _spark_type(t.storage_type)
    if pa.types.is_dictionary(t):
        return _spark_type(t.value_type)
    if pa.types.is_unsigned_integer(t):
        return {8: pa.int16(), 16: pa.int32(), 32: pa.int64(), 64: pa.decimal128(20, 0)}[
            t.bit_width
        ]
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_fixed_size_binary(t):
        return pa.binary()
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_timestamp(t) and t.unit != "us":
        return pa.timestamp("us", tz=t.tz)
    if pa.types.is_duration(t) and t.unit != "us":
        return pa.duration("us")
    if pa.types.is_decimal256(t) and t.precision <= 38:
        return pa.decimal128(t.precision, t.scale)
    if (
        pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t) or pa.types.is_large_list_view(t)
    ):  # fmt: skip
        return pa.list_(_spark_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_spark_type(f.type)) for f in t])
    if pa.types.is_map(t):
        return pa.map_(_spark_type(t.key_type), _spark_type(t.item_type))
    return t


def _for_spark(table: Any) -> tuple[Any, Any]:
    """``table`` cast to types Spark takes, and the Spark schema (originals in metadata)."""
    pa = require("pyarrow")
    spark_types = require("pyspark.sql.types", purpose="loading a table as a Spark DataFrame")
    arrow_types = require("pyspark.sql.pandas.types")
    given = table.schema
    target = pa.schema([f.with_type(_spark_type(f.type)) for f in given])
    if not table.num_rows:  # pyspark needs a chunk in every column, even an empty one
        table = pa.table([pa.array([], f.type) for f in given], schema=given)
    if not target.equals(given):
        try:
            table = table.cast(target)
        except pa.ArrowInvalid as exc:  # e.g. nanoseconds Spark cannot hold
            msg = f"cannot load this table as a Spark DataFrame: {exc}"
            raise AssetTypeError(
                msg, expected="values Spark can hold", got=str(table.schema)
            ) from exc
    fields = []
    for original, field in zip(given, target, strict=True):
        try:
            data_type = arrow_types.from_arrow_type(field.type, prefer_timestamp_ntz=True)
        except Exception as exc:  # pyspark raises its own error classes
            msg = f"Spark has no type for column {field.name!r} of Arrow type {original.type}"
            raise AssetTypeError(
                msg, expected="a type Spark can hold", got=str(original.type)
            ) from exc
        metadata = {}
        if original.type != field.type or (pa.types.is_timestamp(field.type) and field.type.tz):
            keep = pa.schema([original.remove_metadata()]).serialize().to_pybytes()
            metadata[_META] = {
                "field": base64.b64encode(keep).decode("ascii"),
                "spark": data_type.simpleString(),
            }
        fields.append(spark_types.StructField(field.name, data_type, True, metadata))
    return table, spark_types.StructType(fields)
