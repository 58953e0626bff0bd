"""Iceberg tables through pyiceberg.

Each table is ``<schema>.<table>`` in a pyiceberg catalog: by default a SQL catalog on a SQLite
file beside a local warehouse folder (no server), else any catalog pyiceberg loads from its
properties (REST, Glue, Hive, a SQL catalog elsewhere). Every wharf write is one catalog commit
(pyiceberg may make a delete and an append snapshot in it; :meth:`IcebergStore.versions` lists
the commit once): a whole-table write overwrites (the schema may change, in the same commit), a
partition write overwrites the rows its filter selects, append adds rows, merge upserts by key.
A write that fails before its commit leaves the previous snapshot current, and every snapshot
stays readable (:meth:`IcebergStore.read` ``version=``, a snapshot id).
"""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wharf._core.stored_versions import StoredVersion
from wharf._deps import require
from wharf._stores.base import (
    Partition,
    TableRef,
    WriteMode,
    WriteResult,
    as_filters,
    as_reader,
    check_name,
    describe_filters,
    schema_dict,
    store_errors,
    stream,
)
from wharf._stores.lake import (
    check_inside,
    check_merge_keys,
    restored,
    restored_scan,
    schema_note,
    to_storage,
)
from wharf._stores.schema_codec import decode_schema
from wharf.errors import StorageError, StoredValueNotFoundError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["IcebergStore", "default_catalog"]

_NOTE = "wharf.arrow-schema"
_RUN = "wharf.run_id"
_WRITE = "wharf.write"  # one id per wharf write: its snapshots are one version


def _errors() -> tuple[type[BaseException], ...]:
    require("pyiceberg", purpose="the Iceberg store")
    from pyiceberg.exceptions import CommitFailedException, NoSuchTableError, ValidationError

    found: tuple[type[BaseException], ...] = (CommitFailedException, ValidationError, OSError)
    try:  # the SQL catalog's database (SQLite by default)
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:
        return (*found, NoSuchTableError, ValueError)
    return (*found, NoSuchTableError, ValueError, SQLAlchemyError)


def default_catalog(warehouse: str) -> dict[str, str]:
    """The embedded catalog of a local ``warehouse`` folder: pyiceberg's SQL catalog on the
    SQLite file ``<warehouse>/catalog.db``.

    Examples:
        >>> default_catalog("/data/lake")["uri"]
        'sqlite:////data/lake/catalog.db'
    """
    if "://" in warehouse and not warehouse.startswith("file://"):
        msg = (
            f"an Iceberg warehouse at {warehouse} needs a catalog: give catalog={{...}} (e.g. "
            "a SQL catalog 'uri': 'sqlite:////local/path/catalog.db')"
        )
        raise StorageError(msg, expected="catalog properties", got="none")
    folder = warehouse.removeprefix("file://").rstrip("/")
    return {"type": "sql", "uri": f"sqlite:///{folder}/catalog.db", "warehouse": f"file://{folder}"}


class IcebergStore:
    """A :class:`~wharf._stores.base.TableStore` of Iceberg tables in one catalog
    (``properties``: pyiceberg catalog properties, ``type``, ``uri``, ``warehouse``, ``s3.*``)."""

    name = "Iceberg"

    def __init__(
        self,
        properties: dict[str, str],
        catalog_name: str = "wharf",
        pins: dict[TableRef, int] | None = None,
        scan_options: dict[str, str] | None = None,
    ) -> None:
        self.properties = dict(properties)
        self.catalog_name = catalog_name
        #: object-store options of the polars scan (:meth:`read_native`), beside those polars
        #: takes from the table's FileIO properties
        self.scan_options = dict(scan_options or {})
        #: tables read at an earlier snapshot (a read-only view, :meth:`at_version`)
        self.pins = dict(pins or {})
        self._catalog: Any = None

    def catalog(self) -> Any:
        if self._catalog is None:
            require("pyiceberg", purpose="the Iceberg store")
            import os

            from pyiceberg.catalog import load_catalog

            warehouse, uri = self.properties.get("warehouse", ""), self.properties.get("uri", "")
            if warehouse.startswith("file://"):  # the tables' folder
                os.makedirs(warehouse.removeprefix("file://"), exist_ok=True)
            if uri.startswith("sqlite:///"):  # the SQLite file's folder must exist
                os.makedirs(os.path.dirname(uri.removeprefix("sqlite:///")) or ".", exist_ok=True)
            with store_errors(f"Iceberg could not open catalog {self.catalog_name!r}", _errors):
                self._catalog = load_catalog(self.catalog_name, **self.properties)
        return self._catalog

    def at_version(self, ref: TableRef, version: int) -> IcebergStore:
        """A read-only view in which ``ref`` reads as its snapshot ``version``."""
        pins = {**self.pins, ref: version}
        view = IcebergStore(self.properties, self.catalog_name, pins, self.scan_options)
        view._catalog = self._catalog
        return view

    def location(self, ref: TableRef) -> str:
        check_name(ref.schema, "schema")
        check_name(ref.table, "table")
        return f"{self.catalog_name}.{ref.schema}.{ref.table}"

    def _identifier(self, ref: TableRef) -> tuple[str, str]:
        for part in (ref.schema, ref.table):
            if "." in part:
                msg = f"Iceberg table name {self.location(ref)!r}: a '.' would split the name"
                raise StorageError(msg, expected="names without '.'", got=part)
        return (ref.schema, ref.table)

    def _table(self, ref: TableRef) -> Any:
        from pyiceberg.exceptions import NoSuchTableError

        catalog, uri = self.catalog(), self.location(ref)
        with store_errors(f"Iceberg could not open {uri}", _errors):
            try:
                return catalog.load_table(self._identifier(ref))
            except NoSuchTableError:
                msg = f"Iceberg table {uri} was never stored (not in catalog {self.catalog_name!r})"
                raise StoredValueNotFoundError(msg, expected=uri, got="no table") from None

    def exists(self, ref: TableRef) -> bool:
        with store_errors(f"Iceberg could not look for {self.location(ref)}", _errors):
            found: bool = self.catalog().table_exists(self._identifier(ref))
        return found

    def write(
        self,
        ref: TableRef,
        data: pa.RecordBatchReader,
        *,
        partition: Partition | None = None,
        mode: WriteMode = "replace",
        merge_keys: Sequence[str] = (),
        run_id: str | None = None,
    ) -> WriteResult:
        """One catalog commit: ``replace`` overwrites (the partition's rows only), ``append``
        adds the rows, ``merge`` upserts them by ``merge_keys``; ``run_id`` is kept in the
        snapshot summary (:meth:`versions` lists it)."""
        uri = self.location(ref)
        if self.pins:
            msg = f"Iceberg table {uri}: a view of earlier versions is read-only"
            raise StorageError(msg, expected="the store itself", got="a view at_version()")
        reader = as_reader(data)
        for field in reader.schema:
            check_name(field.name, "column")
        with store_errors(f"Iceberg could not read the data for {uri}", _errors):
            written = reader.read_all().combine_chunks()
        table = to_storage(written, nullable=True, utc=True)
        check_inside(table, partition, self.name, uri)
        if mode == "merge":
            check_merge_keys(table, merge_keys, self.name, uri)
        props = {_NOTE: schema_note(written), _WRITE: uuid.uuid4().hex}
        if run_id:
            props[_RUN] = run_id
        with store_errors(
            f"Iceberg could not write {uri} ({describe_filters(partition)})", _errors
        ):
            self._commit(
                ref, table, partition=partition, mode=mode, merge_keys=merge_keys, props=props
            )
        return WriteResult(written.num_rows, schema_dict(written.schema), uri)

    def _commit(
        self, ref: TableRef, table: Any, *, partition: Partition | None, mode: WriteMode,
        merge_keys: Sequence[str], props: dict[str, str],
    ) -> None:  # fmt: skip
        catalog = self.catalog()
        ident = self._identifier(ref)
        if not catalog.table_exists(ident):
            catalog.create_namespace_if_not_exists(ident[0])
            txn = catalog.create_table_transaction(ident, schema=table.schema)
            txn.append(table, snapshot_properties=props)
            txn.commit_transaction()
            return
        stored = catalog.load_table(ident)
        uri = self.location(ref)
        if partition is not None or mode != "replace":  # rows beside the stored ones
            have = [f.name for f in stored.schema().fields]
            if sorted(have) != sorted(table.column_names):
                from wharf._stores.base import column_diff

                diff = column_diff(have, table.column_names)
                msg = f"Iceberg table {uri} has other columns than the new rows: {diff}"
                raise StorageError(msg, expected=str(have), got=str(table.column_names))
            table = table.select(have)  # matched by name: Iceberg appends by position
        txn = stored.transaction()
        if mode == "merge":  # every stored row (of the partition) with a new row's key goes
            _merge(txn, table, merge_keys, partition, props)
        elif mode == "append":
            txn.append(table, snapshot_properties=props)
        else:
            if partition is None:
                _replace_schema(txn, stored.schema(), table.schema)
            with warnings.catch_warnings():  # a new partition: nothing to delete, as expected
                warnings.filterwarnings("ignore", "Delete operation did not match any records")
                txn.overwrite(
                    table, overwrite_filter=_iceberg_filter(partition), snapshot_properties=props
                )
        txn.commit_transaction()

    def read(
        self,
        ref: TableRef,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
        limit: int | None = None,
        version: int | None = None,
    ) -> pa.RecordBatchReader:
        """Stream the table, files in the order they were written (``version``: a snapshot
        id, as :meth:`versions` lists them)."""
        arrow = require("pyarrow", purpose="the Iceberg store")
        from pyiceberg.io.pyarrow import ArrowScan, schema_to_pyarrow

        uri = self.location(ref)
        table = self._table(ref)
        snapshot = self._snapshot(ref, table, version)
        if snapshot is None:  # created, never written
            return self.schema(ref).empty_table().to_reader()
        note = snapshot.summary.additional_properties.get(_NOTE) if snapshot.summary else None
        with store_errors(f"Iceberg could not read {uri}", _errors):
            scan = table.scan(
                row_filter=_iceberg_filter(partition),
                selected_fields=tuple(columns) if columns else ("*",),
                snapshot_id=snapshot.snapshot_id,
                limit=limit,
            )
            order = _written_order(table, snapshot)
            tasks = sorted(scan.plan_files(), key=lambda t: order.get(t.file.file_path, (0, "")))
            projection = scan.projection()
            schema = schema_to_pyarrow(projection, include_field_ids=False)
            batches = ArrowScan(
                table.metadata, table.io, projection, scan.row_filter, True, limit
            ).to_record_batches(tasks)
        written = decode_schema(note)
        if columns:
            names = list(columns)
        elif written is not None:  # the written columns, in their order
            names = [n for n in written[0].names if n in schema.names]
        else:
            names = schema.names
        wanted = arrow.schema([schema.field(c) for c in names])

        def rows() -> Any:  # each batch as the reader is consumed
            for b in batches:
                yield arrow.RecordBatch.from_arrays(b.columns, schema=schema).select(names)

        streamed = stream(wanted, rows(), lambda: None, f"Iceberg could not read {uri}", _errors)
        back: pa.RecordBatchReader = restored(wanted, streamed, note)
        return back

    #: an input annotated ``polars.LazyFrame`` is polars' own scan of the Iceberg table
    #: (:meth:`read_native`); a LazyFrame stored is written through Arrow
    native_adapter = "polars-lazy"
    native_writes = False

    def read_native(
        self,
        ref: TableRef,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
    ) -> Any:
        """A ``polars.LazyFrame`` scan of the table's snapshot (the pinned one, else the
        current): ``pl.scan_iceberg`` with the partition filter and the projection pushed into
        it, read when collected, in the written types and column order. Rows of different
        commits come in the order Iceberg plans the files (the newest commit's first)."""
        pl = require("polars", purpose="a polars.LazyFrame scan of an Iceberg table")
        table = self._table(ref)
        snapshot = self._snapshot(ref, table, None)
        if snapshot is None:  # created, never written
            return pl.LazyFrame(self.schema(ref).empty_table())
        note = snapshot.summary.additional_properties.get(_NOTE) if snapshot.summary else None
        with store_errors(f"Iceberg could not scan {self.location(ref)}", _errors):
            return restored_scan(
                pl.scan_iceberg(
                    table, snapshot_id=snapshot.snapshot_id,
                    storage_options=self.scan_options or None,
                ), note, columns,
                partition, lambda: self.read(ref, columns=columns, partition=partition),
            )  # fmt: skip

    def _snapshot(self, ref: TableRef, table: Any, version: int | None) -> Any:
        version = self.pins.get(ref) if version is None else version
        if version is None:
            return table.current_snapshot()
        snapshot = table.snapshot_by_id(version)
        if snapshot is None:
            uri = self.location(ref)
            msg = f"Iceberg table {uri} has no snapshot {version}"
            raise StoredValueNotFoundError(msg, expected="a snapshot id", got=str(version))
        return snapshot

    def schema(self, ref: TableRef) -> pa.Schema:
        arrow = require("pyarrow", purpose="the Iceberg store")
        from pyiceberg.io.pyarrow import schema_to_pyarrow

        table = self._table(ref)
        snapshot = self._snapshot(ref, table, None)
        note = snapshot.summary.additional_properties.get(_NOTE) if snapshot else None
        stored = decode_schema(note)
        if stored is not None:
            kept: pa.Schema = stored[0]
            return kept
        result: pa.Schema = arrow.schema(schema_to_pyarrow(table.schema(), include_field_ids=False))
        return result

    def versions(self, ref: TableRef) -> list[StoredVersion]:
        """The table's commits, newest first: the last snapshot of each wharf write (its id is
        the version), every snapshot something else made."""
        table = self._table(ref)
        found: list[StoredVersion] = []
        seen: set[str] = set()
        for snap in sorted(table.snapshots(), key=lambda s: s.sequence_number or 0, reverse=True):
            props = snap.summary.additional_properties if snap.summary else {}
            write = props.get(_WRITE)
            if write is not None and write in seen:
                continue
            if write is not None:
                seen.add(write)
            found.append(
                StoredVersion(
                    int(snap.snapshot_id),
                    dt.datetime.fromtimestamp(snap.timestamp_ms / 1000, tz=dt.UTC),
                    str(snap.summary.operation.value) if snap.summary else "",
                    props.get(_RUN),
                )
            )
        return found

    def delete(self, ref: TableRef) -> None:
        if not self.exists(ref):
            return
        with store_errors(f"Iceberg could not delete {self.location(ref)}", _errors):
            self.catalog().purge_table(self._identifier(ref))


def _written_order(table: Any, snapshot: Any) -> dict[str, tuple[int, str]]:
    """Data file -> (the sequence number of the commit that added it, its path): pyiceberg
    plans the newest files first; sorted by this, rows come back in the order written."""
    order: dict[str, tuple[int, str]] = {}
    for manifest in snapshot.manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io):
            path = entry.data_file.file_path
            order[path] = (entry.sequence_number or 0, path)
    return order


def _replace_schema(txn: Any, stored: Any, new: pa.Schema) -> None:
    """Make the table's schema ``new``'s (in the transaction of the overwrite): columns it
    lacks or whose type it changes are dropped, then its new columns added."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    have = schema_to_pyarrow(stored, include_field_ids=False)
    changed = [
        f.name
        for f in have
        if f.name not in new.names or _family(f.type) != _family(new.field(f.name).type)
    ]
    if changed:
        with txn.update_schema(allow_incompatible_changes=True) as update:
            for name in changed:
                update.delete_column(name)
    if changed or set(new.names) - set(have.names):
        with txn.update_schema() as update:
            update.union_by_name(new)


def _family(t: Any) -> str:
    """An Arrow type as Iceberg tells types apart (string and large_string are one type).

    Examples:
        >>> import pyarrow as pa
        >>> _family(pa.large_list(pa.field("element", pa.large_string(), False)))
        'list<string>'
    """
    import re

    text = re.sub(r"large_|\bnot null\b", "", str(t))
    return re.sub(r"<\w+: ", "<", text).replace(" >", ">").strip()


def _merge(
    txn: Any, table: Any, keys: Sequence[str], partition: Partition | None, props: dict[str, str]
) -> None:
    """A merge in ``txn`` (one commit): the stored rows of ``partition`` whose ``keys`` a new
    row has are deleted, all of them (a key stored twice too, as the SQL stores' delete and
    insert do), then the new rows added. Rows of other partitions are not matched."""
    import pyiceberg.expressions
    from pyiceberg.table.upsert_util import create_match_filter

    match = create_match_filter(table, list(keys))
    where = _iceberg_filter(partition)
    if not isinstance(where, pyiceberg.expressions.AlwaysTrue):
        match = pyiceberg.expressions.And(where, match)
    with warnings.catch_warnings():  # no stored row has a new key: nothing to delete
        warnings.filterwarnings("ignore", "Delete operation did not match any records")
        txn.delete(match, snapshot_properties=props)
    txn.append(table, snapshot_properties=props)


def _iceberg_filter(partition: Partition | None) -> Any:
    """The pyiceberg row filter of ``partition`` (the same rows as its Arrow filter)."""
    import pyiceberg.expressions

    ex: Any = pyiceberg.expressions  # its typed constructors take keywords only
    AlwaysTrue, And, In, IsNull, Or = ex.AlwaysTrue, ex.And, ex.In, ex.IsNull, ex.Or  # noqa: N806
    GreaterThanOrEqual, LessThan = ex.GreaterThanOrEqual, ex.LessThan  # noqa: N806

    expr: Any = AlwaysTrue()
    for f in as_filters(partition):
        terms: list[Any] = []
        if f.values is not None:
            present = [_value(v) for v in f.values if v is not None]
            term: Any = In(f.column, present) if present else None
            if len(present) < len(f.values):
                term = IsNull(f.column) if term is None else Or(term, IsNull(f.column))
            terms.append(term)
        if f.start is not None:
            terms.append(GreaterThanOrEqual(f.column, _value(f.start)))
        if f.end is not None:
            terms.append(LessThan(f.column, _value(f.end)))
        for term in terms:
            expr = term if isinstance(expr, AlwaysTrue) else And(expr, term)
    return expr


def _value(value: object) -> Any:
    """A filter value pyiceberg binds to the column's type (dates and times as ISO text)."""
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) and not isinstance(value, int | float | str) else value
