"""Delta Lake: one I/O manager that keeps every dataframe type as a Delta table (delta-rs).

``DeltaLakeIOManager`` stores pandas and polars DataFrames, polars LazyFrames, pyarrow Tables and
RecordBatchReaders (and the other frame types wharf knows) as Delta tables under ``root_uri``, a
local folder or an ``s3://`` / ``gs://`` / ``az://`` URI with delta-rs ``storage_options``.
``DeltaLakePandasIOManager`` and ``DeltaLakePolarsIOManager`` differ only in what an unannotated
input loads as.

Every write is one Delta commit: the whole table (``overwrite``, the schema may change) or,
for a partitioned asset, the partition's rows only (``overwrite`` with a predicate, Delta's
replaceWhere). A write that fails before its commit leaves the previous version current; every
commit stays readable: ``stored_versions(key)`` lists them (with the run that wrote each),
``Definitions.load_asset_value(key, version=...)`` and :meth:`DeltaLakeIOManager.load_version`
read an earlier one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, PrivateAttr

from wharf._io.store_io import TableIOManager, table_ref

if TYPE_CHECKING:
    from collections.abc import Sequence

    from wharf._core.keys import AssetKey
    from wharf._stores.delta import DeltaStore

__all__ = ["DeltaLakeIOManager", "DeltaLakePandasIOManager", "DeltaLakePolarsIOManager"]


class DeltaLakeIOManager(TableIOManager):
    """Stores any table-like value as a Delta table at ``<root_uri>/<schema>/<asset name>``.

    The schema comes from the asset's ``schema`` metadata, then ``schema`` here, then the key
    prefix, then ``public``. ``AssetIn(metadata={"columns": [...]})`` loads only those columns.

    Args:
        root_uri: folder or URI the tables live under.
        schema: schema (sub-folder) for every asset without its own ``schema`` metadata.
        storage_options: delta-rs object-store options (``AWS_ENDPOINT_URL``, ...).

    Examples:
        >>> import tempfile, pandas as pd
        >>> import wharf as dg
        >>> @dg.asset
        ... def orders() -> pd.DataFrame:
        ...     return pd.DataFrame({"id": [1, 2], "amount": [9.5, 3.0]})
        >>> io = DeltaLakeIOManager(root_uri=tempfile.mkdtemp())
        >>> dg.materialize([orders], resources={"io_manager": io}).success
        True
        >>> io.load_version(dg.AssetKey("orders"), 0).num_rows
        2
    """

    default_load_type: ClassVar[str] = "pandas"

    root_uri: str = Field(min_length=1)
    schema_: str | None = Field(default=None, alias="schema")
    storage_options: dict[str, str] = Field(default_factory=dict)

    _store: Any = PrivateAttr(default=None)

    def __repr_args__(self) -> Any:  # credentials never show in a repr
        from wharf._stores.lake import masked_options

        for name, value in super().__repr_args__():
            yield name, masked_options(value) if name in ("storage_options",) else value

    def table_store(self) -> DeltaStore:
        if self._store is None:
            from wharf._stores.delta import DeltaStore

            self._store = DeltaStore(self.root_uri, self.storage_options)
        store: DeltaStore = self._store
        return store

    def default_schema(self) -> str | None:
        return self.schema_

    def is_machine_local(self) -> bool:
        """A local folder lives on this machine; an object-store URI does not."""
        return "://" not in self.root_uri

    def load_version(
        self,
        key: AssetKey,
        version: int,
        *,
        columns: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        """``key``'s table as it was at Delta ``version``, as a ``pyarrow.Table``."""
        ref = table_ref(key, dict(metadata or {}), self.schema_)
        return self.table_store().read(ref, columns=columns, version=version).read_all()


class DeltaLakePandasIOManager(DeltaLakeIOManager):
    """:class:`DeltaLakeIOManager` whose unannotated inputs load as ``pandas.DataFrame``."""

    default_load_type: ClassVar[str] = "pandas"


class DeltaLakePolarsIOManager(DeltaLakeIOManager):
    """:class:`DeltaLakeIOManager` whose unannotated inputs load as ``polars.DataFrame``."""

    default_load_type: ClassVar[str] = "polars"
