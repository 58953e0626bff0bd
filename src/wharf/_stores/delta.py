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
    stream,
)
from wharf._stores.lake import (
    arrow_filter,
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


def predicate(
    partition: Partition | None, types: dict[str, str] | None = None, alias: str | None = None
) -> str | None:
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
        column = f"{alias}.{column}" if alias else column
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
        ``append`` adds the rows, ``merge`` upserts them by ``merge_keys`` (:meth:`_merge`).
        ``run_id`` is kept in the commit's metadata (:meth:`versions` lists it)."""
        deltalake = require("deltalake", purpose="the Delta Lake store")
        if self.pins:
            msg = f"Delta Lake table {self.location(ref)}: a view of earlier versions is read-only"
            raise StorageError(msg, expected="the store itself", got="a view at_version()")
        reader = as_reader(data)
        for field in reader.schema:
            check_name(field.name, "column")
        uri = self.location(ref)
        where = predicate(partition, schema_dict(reader.schema))
        order = None  # rows beside the stored ones: the stored columns, matched by name
        if (where is not None or mode != "replace") and self.exists(ref):
            order = self.schema(ref).names
            if sorted(order) != sorted(reader.schema.names):
                from wharf._stores.base import column_diff

                diff = column_diff(order, reader.schema.names)
                msg = f"Delta Lake table {uri} has other columns than the new rows: {diff}"
                raise StorageError(msg, expected=str(order), got=str(reader.schema.names))
        # delta-rs writes the batches of a stream in parallel, so their rows land out of order:
        # the value is gathered into one chunk first, and its rows keep their order.
        with store_errors(f"Delta Lake could not read the data for {uri}", _errors):
            written = reader.read_all().combine_chunks()
        if order is not None:
            written = written.select(order)
        table = to_storage(written)
        note = schema_note(written)
        commit = deltalake.CommitProperties(
            custom_metadata={_NOTE: note, **({_RUN: run_id} if run_id else {})}
        )
        with (
            _outside(uri, partition),
            store_errors(
                f"Delta Lake could not write {uri} ({describe_filters(partition)})", _errors
            ),
        ):
            if mode == "append":  # a predicate overwrite checks this itself; an append not
                check_inside(table, partition, self.name, uri)
            if mode == "merge" and self.exists(ref):
                self._merge(ref, table, merge_keys, partition, commit)
            else:  # a merge into no table yet stores the rows as they are
                deltalake.write_deltalake(
                    uri,
                    table,
                    mode="append" if mode != "replace" else "overwrite",
                    predicate=None if mode != "replace" else where,
                    commit_properties=commit,
                    schema_mode=None if where is not None or mode != "replace" else "overwrite",
                    storage_options=self.storage_options or None,
                )
        return WriteResult(written.num_rows, schema_dict(written.schema), uri)

    def _merge(
        self, ref: TableRef, table: Any, keys: Sequence[str], partition: Partition | None,
        commit: Any,
    ) -> None:  # fmt: skip
        """One Delta MERGE commit: every stored row (of ``partition``) whose ``keys`` match a
        new row is deleted (a key stored twice too, as the SQL stores' delete and insert do)
        and every new row inserted; a key repeating in the new data, or a new row outside
        ``partition``, is refused before anything is written.

        The source is the new rows twice, marked: the ``del`` copy matches (and deletes) the
        stored rows, the ``ins`` copy never matches and is inserted."""
        pa = require("pyarrow")
        uri = self.location(ref)
        check_merge_keys(table, keys, self.name, uri)
        check_inside(table, partition, self.name, uri)
        on = " AND ".join(f"s.{_ident(k)} = t.{_ident(k)}" for k in keys)
        where = predicate(partition, schema_dict(table.schema), alias="t")
        op, n = "__wharf_op", table.num_rows
        source = pa.concat_tables(
            [table.append_column(op, pa.array([kind] * n, pa.string())) for kind in ("del", "ins")]
        )
        on = f"{on} AND s.{op} = 'del'" + (f" AND {where}" if where is not None else "")
        merger = self._table(ref).merge(
            source, predicate=on, source_alias="s", target_alias="t", commit_properties=commit
        )
        columns = {_ident(c): f"s.{_ident(c)}" for c in table.column_names}
        merger = merger.when_matched_delete()
        merger.when_not_matched_insert(columns, predicate=f"s.{op} = 'ins'").execute()

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
        table, message = (
            self._table(ref, version),
            f"Delta Lake could not read {self.location(ref)}",
        )
        with store_errors(message, _errors):
            dataset = _oldest_first(table)
            expr = arrow_filter(partition)
            scanner = dataset.scanner(columns=list(columns) if columns else None, filter=expr)
            batches = scanner.head(limit).to_batches() if limit is not None else None
        schema = scanner.projected_schema
        if batches is None:  # streamed: read as the reader is consumed
            batches = stream(schema, scanner.to_batches(), lambda: None, message, _errors)
        back: pa.RecordBatchReader = restored(schema, batches, _note(table))
        return back

    #: an input annotated ``polars.LazyFrame`` is polars' own scan of the Delta table
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
        """A ``polars.LazyFrame`` scan of the table (at the pinned version): ``pl.scan_delta``
        with the partition filter and the projection pushed into it, read when collected, in
        the written types. Rows of different commits come in the order the Delta log lists
        the files (the newest commit's first)."""
        pl = require("polars", purpose="a polars.LazyFrame scan of a Delta table")
        table = self._table(ref)
        with store_errors(f"Delta Lake could not scan {self.location(ref)}", _errors):
            return restored_scan(
                pl.scan_delta(table), _note(table), columns, partition,
                lambda: self.read(ref, columns=columns, partition=partition),
            )  # fmt: skip

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


def _oldest_first(table: Any) -> Any:
    """``table``'s pyarrow dataset with its files in the order they were written.

    delta-rs lists the files of the newest commit first (each commit's own files in order), so a
    table written partition by partition would read back last partition first; its writes (runs
    of files sharing one writer id, ``part-<n>-<id>-c000...``) are put back in commit order."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    dataset = table.to_pyarrow_dataset()
    paths = pa.table(table.get_add_actions(flatten=True)).column("path").to_pylist()
    writes: list[list[str]] = []
    for path in paths:
        name = str(path).rsplit("/", 1)[-1]
        writer = name.split("-", 2)[-1] if name.startswith("part-") else name
        if not writes or writes[-1][0] != writer:
            writes.append([writer])
        writes[-1].append(name)
    rank = {n: i for i, n in enumerate(n for w in reversed(writes) for n in w[1:])}
    fragments = sorted(
        dataset.get_fragments(), key=lambda f: rank.get(f.path.rsplit("/", 1)[-1], -1)
    )
    return ds.FileSystemDataset(fragments, dataset.schema, dataset.format, dataset.filesystem)


def _fsspec_options(uri: str, options: dict[str, str]) -> dict[str, Any]:
    """The fsspec keyword arguments of delta-rs S3 or Azure ``options`` (local paths need
    none; others: the filesystem's own defaults)."""
    upper = {k.upper(): v for k, v in options.items()}
    if uri.startswith(("az://", "abfs://", "abfss://", "adl://")):
        return _adlfs_options(upper)
    if not uri.startswith(("s3://", "s3a://")):
        return {}
    kwargs: dict[str, Any] = {}
    if "AWS_ACCESS_KEY_ID" in upper:
        kwargs["key"] = upper["AWS_ACCESS_KEY_ID"]
        kwargs["secret"] = upper.get("AWS_SECRET_ACCESS_KEY")
    if "AWS_ENDPOINT_URL" in upper:
        kwargs["endpoint_url"] = upper["AWS_ENDPOINT_URL"]
    if "AWS_REGION" in upper:
        kwargs["client_kwargs"] = {"region_name": upper["AWS_REGION"]}
    return kwargs


def _adlfs_options(upper: dict[str, str]) -> dict[str, Any]:
    """adlfs' keyword arguments of delta-rs Azure options (upper-cased keys): the account and
    its key, and a custom endpoint (``AZURE_ENDPOINT``: Azurite) as a connection string."""
    account = upper.get("AZURE_STORAGE_ACCOUNT_NAME") or upper.get("ACCOUNT_NAME")
    key = upper.get("AZURE_STORAGE_ACCOUNT_KEY") or upper.get("ACCOUNT_KEY")
    endpoint = upper.get("AZURE_ENDPOINT") or upper.get("AZURE_STORAGE_ENDPOINT")
    if account and key and endpoint:
        scheme = endpoint.split("://", 1)[0]
        return {
            "connection_string": f"DefaultEndpointsProtocol={scheme};AccountName={account};"
            f"AccountKey={key};BlobEndpoint={endpoint};"
        }
    kwargs = {"account_name": account} if account else {}
    return {**kwargs, "account_key": key} if key else kwargs


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
