"""DuckDB: a relation (``duckdb.DuckDBPyRelation``) to and from Arrow.

A relation is lazy: it is a query, run when its rows are pulled. Going out it streams through
``__arrow_c_stream__``. Until that reader is drained or dropped, the relation's connection is
busy (DuckDB 2 refuses a new query on it), so consumers should read it to the end promptly.

Coming back, the relation lives on a dedicated in-memory connection (see
:meth:`DuckDBRelationAdapter.from_arrow`). Fidelity is DuckDB's type system: dictionaries
(categoricals) become ``VARCHAR``; tz-aware timestamps become ``TIMESTAMPTZ``, which keeps the
instant but not the zone name (they come back in the connection's ``TimeZone``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wharf._deps import require
from wharf._frames.base import as_reader, check_value, matches_any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DuckDBRelationAdapter"]

_TABLE = "wharf_frame"
_SOURCE = "wharf_source"


class DuckDBRelationAdapter:
    """``duckdb.DuckDBPyRelation``, lazy in both directions.

    Examples:
        >>> import duckdb
        >>> adapter = DuckDBRelationAdapter()
        >>> reader = adapter.to_arrow(duckdb.sql("SELECT 42 AS answer"))
        >>> rel = adapter.from_arrow(reader, duckdb.DuckDBPyRelation)
        >>> rel.fetchall(), rel.fetchall()
        ([(42,)], [(42,)])
    """

    name: str = "duckdb"
    lazy: bool = True
    _paths = frozenset(
        {
            "duckdb._relation.DuckDBPyRelation",  # duckdb 2.x
            "_duckdb.DuckDBPyRelation",  # duckdb 1.2 - 1.4
            "duckdb.duckdb.DuckDBPyRelation",  # duckdb 1.0 - 1.1
            "duckdb.DuckDBPyRelation",
        }
    )

    def matches_type(self, tp: type) -> bool:
        """Whether ``tp`` is DuckDB's relation class."""
        return matches_any(tp, self._paths)

    def to_arrow(self, obj: Any) -> pa.RecordBatchReader:
        """Stream the relation's result; the query runs as batches are pulled."""
        check_value(self, obj)
        pa = require("pyarrow", purpose="converting a DuckDB relation to Arrow")
        return pa.RecordBatchReader.from_stream(obj)

    def from_arrow(self, reader: pa.RecordBatchReader, tp: type) -> Any:
        """Load the stream into a temp table on a new in-memory connection; return its relation.

        A reader is one-shot, but a relation is scanned again by every query on it (and DuckDB
        asks an Arrow source for its stream several times per query, so a relation straight over
        the reader would silently see 0 rows the second time). So the rows are copied, batch by
        batch, into a ``TEMP`` table on a connection made for this value alone; the relation
        keeps that connection alive and it closes when the relation is garbage collected. DuckDB
        evicts table blocks to its temp directory under memory pressure, so this stays safe for
        data larger than memory.
        """
        duckdb = require("duckdb", purpose="loading a DuckDB relation")
        connection = duckdb.connect(":memory:")
        connection.register(_SOURCE, as_reader(reader))
        try:
            connection.execute(f"CREATE TEMP TABLE {_TABLE} AS SELECT * FROM {_SOURCE}")
        finally:
            connection.unregister(_SOURCE)
        return connection.table(_TABLE)

    def type_names(self) -> tuple[str, ...]:
        """``("duckdb.DuckDBPyRelation",)``."""
        return ("duckdb.DuckDBPyRelation",)
