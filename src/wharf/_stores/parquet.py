"""The one Parquet writer: file and object stores, and the local file a warehouse loads from
(Snowflake ``PUT``, a BigQuery load job).

An Arrow stream is written batch by batch, so it may be larger than memory; batches are gathered
into row groups of up to :data:`ROW_GROUP_BYTES` (or 1 Mi rows) first, because one row group per
small batch makes the file larger and several times slower to write and to read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wharf._deps import require

__all__ = ["ROW_GROUP_BYTES", "ROW_GROUP_ROWS", "write_parquet"]

#: gather this much Arrow data (or :data:`ROW_GROUP_ROWS` rows) into one row group
ROW_GROUP_BYTES = 128 * 1024 * 1024
#: pyarrow's own largest row group (``pyarrow.parquet.write_table``'s default)
ROW_GROUP_ROWS = 1024 * 1024


def write_parquet(
    reader: Any,
    sink: Path | Any,
    *,
    metadata: dict[bytes, bytes] | None = None,
    compression: str = "snappy",
) -> int:
    """Stream ``reader`` into one Parquet file; returns the number of rows.

    ``sink`` is a path or a binary file object open for writing; ``metadata`` is added to the
    file's Arrow schema metadata. A stream of no rows keeps its categorical columns'
    dictionaries (:class:`~wharf._stores.schema_codec.DictionaryNotes`).

    Examples:
        >>> import pyarrow as pa, pyarrow.parquet as pq, tempfile
        >>> batches = [pa.record_batch({"a": [i]}) for i in range(2_000)]
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp, "t.parquet")
        ...     stream = pa.RecordBatchReader.from_batches(batches[0].schema, batches)
        ...     rows = write_parquet(stream, path)
        ...     rows, pq.ParquetFile(path).num_row_groups
        (2000, 1)
    """
    pa, pq = require("pyarrow", purpose="Parquet"), require("pyarrow.parquet", purpose="Parquet")
    from wharf._stores.schema_codec import DictionaryNotes

    schema = reader.schema
    if metadata:
        schema = schema.with_metadata({**(schema.metadata or {}), **metadata})
    notes = DictionaryNotes(schema)
    pending: list[Any] = []
    rows = size = count = 0
    with pq.ParquetWriter(sink, schema, compression=compression) as writer:

        def flush() -> None:
            if count:  # a row group of every row gathered (none for batches of no rows)
                table = pa.Table.from_batches(pending, schema=schema)
                writer.write_table(table, row_group_size=table.num_rows)
            pending.clear()

        for batch in reader:
            notes.see(batch)
            pending.append(batch)
            rows, size, count = rows + batch.num_rows, size + batch.nbytes, count + batch.num_rows
            if size >= ROW_GROUP_BYTES or count >= ROW_GROUP_ROWS:
                flush()
                size = count = 0
        flush()
        if not rows:
            notes.keep_in(writer)
    return rows
