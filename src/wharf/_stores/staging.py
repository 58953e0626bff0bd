"""The local Parquet file a warehouse loads from (Snowflake ``PUT``, a BigQuery load job).

An Arrow stream is written batch by batch, so it may be larger than memory; batches are gathered
into row groups of up to :data:`ROW_GROUP_BYTES` first, because one row group per small batch
makes the file several times slower to write and to load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wharf._deps import require

__all__ = ["ROW_GROUP_BYTES", "write_parquet"]

#: gather this much Arrow data (or 1 Mi rows) into one row group
ROW_GROUP_BYTES = 128 * 1024 * 1024
_ROW_GROUP_ROWS = 1024 * 1024


def write_parquet(reader: Any, path: Path, *, compression: str = "snappy") -> int:
    """Stream ``reader`` into one Parquet file at ``path``; returns the number of rows.

    Examples:
        >>> import pyarrow as pa, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     write_parquet(pa.table({"a": [1, 2]}).to_reader(), Path(tmp, "t.parquet"))
        2
    """
    pa, pq = require("pyarrow", purpose="staging"), require("pyarrow.parquet", purpose="staging")
    pending: list[Any] = []
    rows = size = count = 0
    with pq.ParquetWriter(path, reader.schema, compression=compression) as writer:

        def flush() -> None:
            if pending:
                writer.write_table(pa.Table.from_batches(pending, schema=reader.schema))
                pending.clear()

        for batch in reader:
            pending.append(batch)
            rows, size, count = rows + batch.num_rows, size + batch.nbytes, count + batch.num_rows
            if size >= ROW_GROUP_BYTES or count >= _ROW_GROUP_ROWS:
                flush()
                size = count = 0
        flush()
    return rows
