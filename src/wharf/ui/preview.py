"""The first rows of a stored asset, loaded through its I/O manager, never the whole table.

A table I/O manager's store is read with the columns and a row limit in its query (SQL
``LIMIT``). Any other I/O manager loads the value as a ``pyarrow.RecordBatchReader`` (a
stream: Parquet files are read batch by batch), with the asked columns passed as the input's
``columns`` metadata, and the reader is closed after the first ``limit`` rows. A value stored
as a pickle (not a table) is loaded whole, as there is no other way to read it, and shown as
rows if it is a frame, else as its text.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import TYPE_CHECKING, Any

from wharf.errors import WharfError

if TYPE_CHECKING:
    from wharf._core.definitions import Definitions

MAX_LIMIT = 1000
MAX_CELL = 200


def preview(
    defs: Definitions,
    key_text: str,
    *,
    limit: int = 50,
    columns: list[str] | None = None,
    partition_key: str | None = None,
) -> dict[str, Any]:
    """``{"columns": [...], "types": [...], "rows": [[...]], "truncated": bool}`` of the stored
    value of ``key_text`` (or ``{"text": ...}`` for a value that is not a table).

    Raises:
        UnknownAssetError: no asset has that key.
        StoredValueNotFoundError: nothing is stored for it yet.
    """
    from wharf._deps import require

    pa = require("pyarrow", purpose="previewing stored tables")
    limit = max(1, min(limit, MAX_LIMIT))

    def shown(value: Any) -> tuple[bool, Any]:  # inside the run's resources: the stream is open
        if isinstance(value, pa.RecordBatchReader):
            return True, _head(pa, value, limit)
        return False, value

    done, value = _load(
        defs, key_text, annotation=pa.RecordBatchReader, columns=columns,
        partition=partition_key, limit=limit + 1, shown=shown,
    )  # fmt: skip
    if done:
        return dict(value)
    from wharf._frames import adapter_for_value

    adapter = adapter_for_value(value)
    if adapter is not None:
        reader = adapter.to_arrow(value)
        if columns:
            reader = pa.Table.from_batches(_take(reader, limit), reader.schema).select(columns)
            return _head(pa, reader.to_reader(), limit)
        return _head(pa, reader, limit)
    text = repr(value)
    return {"text": text[:10_000], "truncated": len(text) > 10_000}


def _load(
    defs: Definitions,
    key_text: str,
    *,
    annotation: Any,
    columns: list[str] | None,
    partition: Any,
    limit: int,
    shown: Any,
) -> Any:
    from wharf._core.execution import RunContext, load_asset_input, new_run_id
    from wharf._core.resources import RunResources, io_manager_key_of, with_default_io_manager
    from wharf._io.store_io import TableIOManager, table_ref

    item = defs._item(key_text)
    key = item.key
    im_key = io_manager_key_of(defs.asset_graph, key)
    meta = {"columns": list(columns)} if columns else None
    with RunResources(with_default_io_manager(defs.resources), [im_key], new_run_id()) as res:
        manager = res.io_manager(im_key, asset=key.to_user_string())
        if isinstance(manager, TableIOManager) and partition is None:
            # a table store: the projection and LIMIT go into its query
            ref = table_ref(key, dict(item.metadata), manager.default_schema())
            try:
                return shown(manager.table_store().read(ref, columns=columns, limit=limit))
            except WharfError as exc:
                exc.naming(key.to_user_string(), type(manager).__name__)
                raise
        run = RunContext(defs.asset_graph, res, res.run_id, partition, None)
        parts = run.upstream_partitions(key, None)
        found = load_asset_input(run, key, annotation=annotation, metadata=meta, partitions=parts)
        return shown(found)


def _take(reader: Any, limit: int) -> list[Any]:
    batches, rows = [], 0
    try:
        for batch in reader:
            batches.append(batch.slice(0, limit - rows))
            rows += batches[-1].num_rows
            if rows >= limit:
                break
    finally:
        reader.close()  # an undrained DuckDB reader would hold the connection
    return batches


def _head(pa: Any, reader: Any, limit: int) -> dict[str, Any]:
    schema = reader.schema
    batches = _take(reader, limit + 1)
    table = pa.Table.from_batches(batches, schema) if batches else schema.empty_table()
    truncated = table.num_rows > limit
    table = table.slice(0, limit)
    cols = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows = [[_cell(c[r]) for c in cols] for r in range(table.num_rows)]
    return {
        "columns": list(schema.names),
        "types": [str(f.type) for f in schema],
        "rows": rows,
        "truncated": truncated,
    }


def _cell(value: Any) -> Any:
    """A cell as a JSON value: numbers and text as themselves, others as short text."""
    if value is None or isinstance(value, bool | int | str):
        return value if not isinstance(value, str) else value[:MAX_CELL]
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | dt.timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value[:MAX_CELL].hex()
    return str(value)[:MAX_CELL]
