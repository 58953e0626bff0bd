"""Iceberg: one I/O manager that keeps every dataframe type as an Iceberg table (pyiceberg).

``IcebergIOManager`` stores pandas and polars DataFrames, polars LazyFrames, pyarrow Tables and
RecordBatchReaders (and the other frame types wharf knows) as Iceberg tables
``<schema>.<asset name>``. With only ``warehouse`` (a local folder) its catalog is pyiceberg's
SQL catalog on the SQLite file ``<warehouse>/catalog.db``: nothing to run. ``catalog`` takes any
pyiceberg catalog's properties instead (``{"type": "rest", "uri": ...}``, a SQL catalog whose
warehouse is ``s3://...`` with ``s3.endpoint`` / ``s3.access-key-id`` ...).
``IcebergPandasIOManager`` and ``IcebergPolarsIOManager`` differ only in what an unannotated
input loads as.

Every write is one catalog commit: the whole table (an overwrite, the schema may change in the
same commit) or, for a partitioned asset, the partition's rows (an overwrite with a filter).
A write that fails before its commit leaves the previous snapshot current; every snapshot stays
readable: ``stored_versions(key)`` lists them with the run that wrote each, and
``Definitions.load_asset_value(key, version=...)`` reads one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, PrivateAttr

from wharf._io.store_io import TableIOManager

if TYPE_CHECKING:
    from wharf._stores.iceberg import IcebergStore

__all__ = ["IcebergIOManager", "IcebergPandasIOManager", "IcebergPolarsIOManager"]


class IcebergIOManager(TableIOManager):
    """Stores any table-like value as the Iceberg table ``<schema>.<asset name>``.

    The schema (Iceberg namespace) comes from the asset's ``schema`` metadata, then ``schema``
    here, then the key prefix, then ``public``. ``AssetIn(metadata={"columns": [...]})`` loads
    only those columns.

    Args:
        warehouse: the folder (or ``file://`` URI) of the embedded catalog's tables; with
            ``catalog`` given, its ``warehouse`` property when that has none.
        schema: schema (namespace) for every asset without its own ``schema`` metadata.
        catalog: pyiceberg catalog properties (``type``, ``uri``, ``s3.endpoint``, ...); empty:
            the SQL catalog on ``<warehouse>/catalog.db``.
        catalog_name: the catalog's name for pyiceberg.
        scan_options: object-store options (``azure_endpoint``, ``google_service_account_key``,
            ...) for the ``pl.scan_iceberg`` of ``pl.LazyFrame`` inputs, beside those polars
            takes from the catalog's FileIO properties (``s3.*``, ``adls.account-name``, ...).

    Examples:
        >>> import tempfile, pandas as pd
        >>> import wharf as dg
        >>> @dg.asset
        ... def orders() -> pd.DataFrame:
        ...     return pd.DataFrame({"id": [1, 2], "amount": [9.5, 3.0]})
        >>> io = IcebergIOManager(warehouse=tempfile.mkdtemp())
        >>> dg.materialize([orders], resources={"io_manager": io}).success
        True
        >>> len(io.stored_versions(dg.AssetKey("orders")))
        1
    """

    default_load_type: ClassVar[str] = "pandas"

    warehouse: str = ""
    schema_: str | None = Field(default=None, alias="schema")
    catalog: dict[str, str] = Field(default_factory=dict)
    catalog_name: str = Field(default="wharf", min_length=1)
    scan_options: dict[str, str] = Field(default_factory=dict)

    _store: Any = PrivateAttr(default=None)

    def __repr_args__(self) -> Any:  # credentials never show in a repr
        from wharf._stores.lake import masked_options

        for name, value in super().__repr_args__():
            yield name, masked_options(value) if name in ("catalog", "scan_options") else value

    def table_store(self) -> IcebergStore:
        if self._store is None:
            from wharf._stores.iceberg import IcebergStore, default_catalog

            if self.catalog:
                props = dict(self.catalog)
                if self.warehouse:
                    props.setdefault("warehouse", self.warehouse)
            else:
                props = default_catalog(self.warehouse or ".")
            self._store = IcebergStore(props, self.catalog_name, scan_options=self.scan_options)
        store: IcebergStore = self._store
        return store

    def default_schema(self) -> str | None:
        return self.schema_

    def is_machine_local(self) -> bool:
        """The embedded catalog of a local folder lives on this machine; others do not."""
        if self.is_process_local():
            return True
        return not self.catalog and "://" not in self.warehouse.removeprefix("file://")

    def is_process_local(self) -> bool:
        """pyiceberg's in-memory catalog (``{"type": "in-memory"}``) lives in this process:
        executors with worker processes refuse it before the run."""
        return self.catalog.get("type") == "in-memory"

    def process_local_reason(self) -> str:
        """Why an in-memory catalog cannot serve worker processes, and what can."""
        return (
            "its pyiceberg catalog {'type': 'in-memory'} lives inside this process, so other "
            "processes would not find its tables; use the embedded SQL catalog (warehouse= "
            "alone) or another catalog every worker reaches, or the in_process executor"
        )


class IcebergPandasIOManager(IcebergIOManager):
    """:class:`IcebergIOManager` whose unannotated inputs load as ``pandas.DataFrame``."""

    default_load_type: ClassVar[str] = "pandas"


class IcebergPolarsIOManager(IcebergIOManager):
    """:class:`IcebergIOManager` whose unannotated inputs load as ``polars.DataFrame``."""

    default_load_type: ClassVar[str] = "polars"
