"""Delta Lake tables through delta-rs (the ``deltalake`` package).

Each table is a Delta table at ``<root>/<schema>/<table>``. A whole-table write is one
``overwrite`` commit (the schema may change), a partition write one ``overwrite`` commit with a
``predicate`` (Delta's replaceWhere): only the rows the partition selects are replaced. A write
that fails before its commit leaves the previous version as the current one, and every commit
stays readable by its version number (:meth:`DeltaStore.read` ``version=``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
)
from wharf._stores.schema_codec import (
    decode_schema,
    empty_batch,
    encode_schema,
    restore,
    to_storage,
    zip_schema,
)
from wharf.errors import StorageError, StoredValueNotFoundError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DeltaStore", "predicate"]


def _errors() -> tuple[type[BaseException], ...]:
    deltalake = require("deltalake", purpose="the Delta Lake store")
    return (deltalake.exceptions.DeltaError, OSError)


def _literal(value: object, kind: str = "") -> str:
    if kind == "date32[day]" and value is not None:
        return f"CAST({_literal(value)} AS DATE)"
    if kind.startswith("timestamp") and value is not None:
        return f"CAST({_literal(value)} AS TIMESTAMP)"
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    iso = getattr(value, "isoformat", None)
    text = iso() if callable(iso) else str(value)
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + check_name(name, "column").replace('"', '""') + '"'


def predicate(partition: Partition | None, types: dict[str, str] | None = None) -> str | None:
    """The Delta predicate (SQL text) of ``partition``, or ``None`` for the whole table.

    Examples:
        >>> from wharf._stores.base import PartitionFilter
        >>> predicate(PartitionFilter("region", values=("eu", "it's")))
        '"region" IN (\\'eu\\', \\'it\\'\\'s\\')'
        >>> predicate(PartitionFilter("n", start=1, end=5))
        '"n" >= 1 AND "n" < 5'
    """
    parts: list[str] = []
    for f in as_filters(partition):
        column, kind = _ident(f.column), (types or {}).get(f.column, "")
        if f.values is not None:
            present = [v for v in f.values if v is not None]
            terms = (
                [f"{column} IN ({', '.join(_literal(v, kind) for v in present)})"]
                if present
                else []
            )
            if len(present) < len(f.values):
                terms.append(f"{column} IS NULL")
            parts.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
        if f.start is not None:
            parts.append(f"{column} >= {_literal(f.start, kind)}")
        if f.end is not None:
            parts.append(f"{column} < {_literal(f.end, kind)}")
    return " AND ".join(parts) or None


class DeltaStore:
    """A :class:`~wharf._stores.base.TableStore` of Delta tables under ``root`` (a local path
    or an ``s3://``, ``gs://``, ``az://`` URI; ``storage_options`` go to delta-rs)."""

    name = "Delta Lake"

    def __init__(
        self,
        root: str,
        storage_options: dict[str, str] | None = None,
        pins: dict[TableRef, int] | None = None,
    ) -> None:
        self.root = root.rstrip("/")
        self.storage_options = dict(storage_options or {})
        #: tables read at an earlier version (a read-only view, :meth:`at_version`)
        self.pins = dict(pins or {})

    def at_version(self, ref: TableRef, version: int) -> DeltaStore:
        """A read-only view of this store in which ``ref`` reads as Delta ``version``."""
        return DeltaStore(self.root, self.storage_options, {**self.pins, ref: version})

    def location(self, ref: TableRef) -> str:
        check_name(ref.schema, "schema")
        check_name(ref.table, "table")
        return f"{self.root}/{ref.schema}/{ref.table}"

    def _table(self, ref: TableRef, version: int | None = None) -> Any:
        deltalake = require("deltalake", purpose="the Delta Lake store")
        uri = self.location(ref)
        version = self.pins.get(ref) if version is None else version
        if not self.exists(ref):
            msg = f"Delta Lake table {uri} was never stored (no Delta log there)"
            raise StoredValueNotFoundError(msg, expected=uri, got="no table")
        with store_errors(f"Delta Lake could not open {uri}", _errors):
            return deltalake.DeltaTable(uri, version=version, storage_options=self.storage_options)

    def exists(self, ref: TableRef) -> bool:
        deltalake = require("deltalake", purpose="the Delta Lake store")
        uri = self.location(ref)
        with store_errors(f"Delta Lake could not look for {uri}", _errors):
            found: bool = deltalake.DeltaTable.is_deltatable(uri, self.storage_options)
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
        """One Delta commit: ``replace`` overwrites (the partition's rows only, by predicate),
        ``append`` adds the rows; ``merge`` is refused (not built for Delta yet). ``run_id`` is
        kept in the commit's metadata (:meth:`versions` lists it)."""
        deltalake = require("deltalake", purpose="the Delta Lake store")
        if self.pins:
            msg = f"Delta Lake table {self.location(ref)}: a view of earlier versions is read-only"
            raise StorageError(msg, expected="the store itself", got="a view at_version()")
        if mode == "merge":
            msg = f"Delta Lake table {self.location(ref)}: write_mode 'merge' is not supported yet"
            raise StorageError(msg, expected="write_mode 'replace' or 'append'", got="'merge'")
        reader = as_reader(data)
        for field in reader.schema:
            check_name(field.name, "column")
        uri = self.location(ref)
        where = predicate(partition, schema_dict(reader.schema))
        if where is not None and self.exists(ref):
            stored = self.schema(ref)
            if stored.names != reader.schema.names:
                from wharf._stores.base import column_diff

                diff = column_diff(stored.names, reader.schema.names)
                msg = f"Delta Lake table {uri} has other columns than the partition data: {diff}"
                raise StorageError(msg, expected=str(stored.names), got=str(reader.schema.names))
        # delta-rs writes the batches of a stream in parallel, so their rows land out of order:
        # the value is gathered into one chunk first, and its rows keep their order.
        with store_errors(f"Delta Lake could not read the data for {uri}", _errors):
            written = reader.read_all().combine_chunks()
        table = _to_storage(written)
        note = zip_schema(encode_schema(written.schema, _dictionaries(written)))
        with (
            _outside(uri, partition),
            store_errors(
                f"Delta Lake could not write {uri} ({describe_filters(partition)})", _errors
            ),
        ):
            deltalake.write_deltalake(
                uri,
                table,
                mode="append" if mode == "append" else "overwrite",
                predicate=None if mode == "append" else where,
                commit_properties=deltalake.CommitProperties(
                    custom_metadata={_NOTE: note, **({_RUN: run_id} if run_id else {})}
                ),
                schema_mode=None if where is not None or mode == "append" else "overwrite",
                storage_options=self.storage_options or None,
            )
        return WriteResult(written.num_rows, schema_dict(written.schema), uri)

    def read(
        self,
        ref: TableRef,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
        limit: int | None = None,
        version: int | None = None,
    ) -> pa.RecordBatchReader:
        """Stream the table (``version``: an earlier Delta version, by number)."""
        arrow = require("pyarrow", purpose="the Delta Lake store")
        table = self._table(ref, version)
        with store_errors(f"Delta Lake could not read {self.location(ref)}", _errors):
            dataset = table.to_pyarrow_dataset()
            expr = None
            where = predicate(partition)
            if where is not None:
                expr = _expression(partition)
            scanner = dataset.scanner(columns=list(columns) if columns else None, filter=expr)
            got = scanner.head(limit) if limit is not None else scanner.to_table()
        stored = decode_schema(_note(table))
        if stored is None:
            result: pa.RecordBatchReader = got.to_reader()
            return result
        schema, dictionaries = stored
        schema = arrow.schema([schema.field(n) for n in got.column_names], metadata=schema.metadata)
        batches = [restore(b, schema, dictionaries) for b in got.to_batches()]
        if not batches:
            batches = [empty_batch(schema, dictionaries)]
        back: pa.RecordBatchReader = arrow.RecordBatchReader.from_batches(schema, iter(batches))
        return back

    def schema(self, ref: TableRef) -> pa.Schema:
        arrow = require("pyarrow", purpose="the Delta Lake store")
        table = self._table(ref)
        stored = decode_schema(_note(table))
        if stored is not None:
            kept: pa.Schema = stored[0]
            return kept
        result: pa.Schema = arrow.schema(table.schema().to_arrow())
        return result

    def versions(self, ref: TableRef) -> list[StoredVersion]:
        """The table's commits, newest first, with the run id each wharf write kept."""
        import datetime as dt

        table = self._table(ref)
        with store_errors(
            f"Delta Lake could not read the history of {self.location(ref)}", _errors
        ):
            history = table.history()
        return [
            StoredVersion(
                int(h["version"]),
                dt.datetime.fromtimestamp(int(h["timestamp"]) / 1000, tz=dt.UTC),
                str(h.get("operation", "")),
                str(h[_RUN]) if h.get(_RUN) else None,
            )
            for h in history
        ]

    def delete(self, ref: TableRef) -> None:
        if not self.exists(ref):
            return
        fsspec = require("fsspec", purpose="deleting a Delta Lake table")
        uri = self.location(ref)
        with store_errors(f"Delta Lake could not delete {uri}", _errors):
            fs, path = fsspec.core.url_to_fs(uri, **_fsspec_options(uri, self.storage_options))
            fs.rm(path, recursive=True)


def _expression(partition: Partition | None) -> Any:
    """The pyarrow dataset filter of ``partition`` (the same rows as :func:`predicate`)."""
    import pyarrow.compute as pc

    expr = None
    for f in as_filters(partition):
        field = pc.field(f.column)
        terms = []
        if f.values is not None:
            present = [v for v in f.values if v is not None]
            term = field.isin(present) if present else None
            if len(present) < len(f.values):
                term = field.is_null() if term is None else term | field.is_null()
            terms.append(term)
        if f.start is not None:
            terms.append(field >= f.start)
        if f.end is not None:
            terms.append(field < f.end)
        for term in terms:
            expr = term if expr is None else expr & term
    return expr


def _fsspec_options(uri: str, options: dict[str, str]) -> dict[str, Any]:
    """The fsspec keyword arguments of delta-rs S3 ``options`` (local paths need none)."""
    if not uri.startswith(("s3://", "s3a://")):
        return {}
    upper = {k.upper(): v for k, v in options.items()}
    kwargs: dict[str, Any] = {}
    if "AWS_ACCESS_KEY_ID" in upper:
        kwargs["key"] = upper["AWS_ACCESS_KEY_ID"]
        kwargs["secret"] = upper.get("AWS_SECRET_ACCESS_KEY")
    if "AWS_ENDPOINT_URL" in upper:
        kwargs["endpoint_url"] = upper["AWS_ENDPOINT_URL"]
    if "AWS_REGION" in upper:
        kwargs["client_kwargs"] = {"region_name": upper["AWS_REGION"]}
    return kwargs


_WIDER = {"uint8": "int16", "uint16": "int32", "uint32": "int64", "uint64": "int64"}


def _dictionaries(table: Any) -> dict[str, Any]:
    """The dictionary (categories) of each dictionary column of ``table``."""
    import pyarrow as pa

    found = {}
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            column = table.column(i)
            if column.num_chunks:
                found[f.name] = column.chunk(0).dictionary
            else:
                found[f.name] = pa.array([], f.type.value_type)
    return found


def _storage_type(t: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _storage_type(t.value_type)
    if str(t) in _WIDER:
        return pa.type_for_alias(_WIDER[str(t)])
    if pa.types.is_timestamp(t) and t.unit == "ns":
        return pa.timestamp("us", tz=t.tz)
    return t


def _to_storage(table: Any) -> Any:
    """``table`` in types Delta keeps: categories as their values, unsigned integers in the next
    signed type (a uint64 above int64's range is refused), nanoseconds refused unless whole
    microseconds. The written schema is kept beside it and restored on read."""
    import pyarrow as pa

    storage = pa.schema([pa.field(f.name, _storage_type(f.type), f.nullable) for f in table.schema])
    if storage.equals(table.schema):
        return table
    batches = [to_storage(b, storage) for b in table.to_batches()]
    return pa.Table.from_batches(batches, schema=storage)


_NOTE = "wharf.arrow-schema"
_RUN = "wharf.run_id"


def _note(table: Any) -> str | None:
    """The written Arrow schema the commit of ``table``'s loaded version keeps (its custom
    commit metadata), if wharf wrote it."""
    version = table.version()
    for entry in table.history(1):
        if entry.get("version") == version:
            note = entry.get(_NOTE)
            return note if isinstance(note, str) else None
    return None


@contextmanager
def _outside(uri: str, partition: Partition | None) -> Iterator[None]:
    """Delta's refusal of rows outside a predicate overwrite, as wharf words it."""
    try:
        yield
    except Exception as exc:
        if partition is None or "failed validation check" not in str(exc):
            raise
        msg = (
            f"Delta Lake could not write {uri}: rows outside {describe_filters(partition)} came "
            "in; every row of a partition write must belong to its partition"
        )
        raise StorageError(msg, expected=describe_filters(partition), got=str(exc)) from exc
