"""Table stores: where wharf keeps Arrow tables (SQL databases); files go through :mod:`wharf._io`.

Read :mod:`wharf._stores.base` first: the :class:`TableStore` protocol and its value types.
Importing this package imports neither pyarrow nor any database client.
"""

from __future__ import annotations

from wharf._stores.base import PartitionFilter, SchemaPolicy, TableRef, TableStore, WriteResult

__all__ = ["PartitionFilter", "SchemaPolicy", "TableRef", "TableStore", "WriteResult"]
