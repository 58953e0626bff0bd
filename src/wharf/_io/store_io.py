"""The generic table I/O manager: a table store plus the frame adapter a value or annotation picks.

Every table store (DuckDB, Postgres, Snowflake, BigQuery, ...) reuses this class: a store-specific
I/O manager only says how to build its :class:`~wharf._stores.base.TableStore` and which frame
type an unannotated input loads as. Storing dispatches on the value's type; loading on the
input's annotation, so pandas written upstream can be read as polars downstream.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext, suppress
from typing import TYPE_CHECKING, Any, ClassVar

from wharf._core.contexts import InputContext, OutputContext
from wharf._core.keys import AssetKey
from wharf._core.results import MetadataValue
from wharf._core.table_metadata import standard_table_metadata
from wharf._core.typecheck import strip_optional, type_name
from wharf._core.versions import fingerprint_reader
from wharf._frames.base import export
from wharf._io import table_partitions as tp
from wharf._io import type_handlers as th
from wharf._io.configurable import ConfigurableIOManager
from wharf._io.table_options import check_storage_metadata, write_options
from wharf._stores.base import (
    KeptOpen,
    Partition,
    StoreReading,
    TableReading,
    TableRef,
    VersionedTables,
    describe_filters,
    reading,
    takes_native,
)
from wharf.errors import AssetTypeError, DefinitionError, StorageError, StoredValueNotFoundError

if TYPE_CHECKING:
    from wharf._core.stored_versions import StoredVersion
    from wharf._frames.base import FrameAdapter
    from wharf._stores.base import TableStore, WriteResult
    from wharf._stores.dialect import Dialect


def table_ref(
    key: AssetKey, definition_metadata: dict[str, Any], default_schema: str | None
) -> TableRef:
    """Where an asset's table lives.

    The table is the key's last part. The schema comes from the asset's ``schema`` metadata,
    then the I/O manager's ``schema``, then the key prefix (its last part, as Dagster does),
    then ``public``.

    Examples:
        >>> table_ref(AssetKey(["sales", "daily"]), {}, None)
        TableRef(schema='sales', table='daily')
        >>> table_ref(AssetKey(["lake", "sales", "daily"]), {}, None)
        TableRef(schema='sales', table='daily')
        >>> table_ref(AssetKey("daily"), {"schema": "raw"}, "public")
        TableRef(schema='raw', table='daily')
    """
    schema = definition_metadata.get("schema") or default_schema
    if not schema:
        schema = key.path[-2] if len(key.path) > 1 else "public"
    return TableRef(str(schema), key.path[-1])


class DatabaseFileIOManager:
    """The executor capabilities of a table manager on an embedded database (a ``database``
    field: a file path, or ``":memory:"``): machine-local, and process-local in memory."""

    #: a file name for the message that says what works instead of ``:memory:``
    example_file: ClassVar[str] = "warehouse.db"
    database: str

    def is_machine_local(self) -> bool:
        """A database file lives on this machine: a remote Dask cluster cannot reach it."""
        return True

    def is_process_local(self) -> bool:
        """An in-memory database lives in one process: executors with workers refuse it."""
        return self.database == ":memory:"

    def process_local_reason(self) -> str:
        """Why a ``:memory:`` database cannot serve worker processes, and what can."""
        return (
            "its database ':memory:' lives inside this process and cannot be shared across "
            "processes; give it a database file every worker opens, e.g. "
            f"{type(self).__name__}(database={self.example_file!r}), or use the in_process "
            "executor"
        )


class TableIOManager(ConfigurableIOManager):
    """Stores table-like values in a table store and loads them as the annotation asks."""

    #: the adapter name an input without a frame annotation loads as ("pandas", "polars", ...);
    #: a subclass may instead define Dagster's ``default_load_type()`` staticmethod (a type)
    default_load_type: ClassVar[str] = "arrow-table"

    @staticmethod
    def type_handlers() -> Sequence[th.DbTypeHandler[Any]]:
        """The handlers of the types this manager stores (Dagster's ``type_handlers()``), tried
        in order; by default one built-in handler for every frame type (see
        :mod:`wharf._io.type_handlers`)."""
        return [th.FrameTypeHandler()]

    def handler_connection(self, connection: Any, creates_in: str | None = None) -> Any:
        """The connection a user's :class:`~wharf._io.type_handlers.DbTypeHandler` is given;
        ``creates_in``: the schema it will create a table in (the store made it exist)."""
        return connection

    @abstractmethod
    def table_store(self) -> TableStore:
        """The store this manager reads and writes."""

    @abstractmethod
    def default_schema(self) -> str | None:
        """The schema configured on the manager, if any."""

    def dialect(self) -> Dialect | None:
        """The SQL database's row, if this is a SQL store: it says how names are compared."""
        return None

    def check_outputs(
        self,
        outputs: list[tuple[AssetKey, Mapping[str, Any]]],
        partitions: Mapping[AssetKey, Any] | None = None,
    ) -> None:
        """Refuse, before a run, two assets this manager would store in the same table, with
        names compared as the database compares them (DuckDB: ``Casey`` is ``casey``)."""
        schema = self.default_schema()
        if schema is not None and not isinstance(schema, str):
            return  # an EnvVar: known when the run starts
        dialect = self.dialect()
        seen: dict[tuple[str, str], tuple[AssetKey, TableRef]] = {}
        for key, metadata in outputs:
            check_storage_metadata(
                metadata, asset=key.to_user_string(), manager=type(self).__name__
            )
            self._check_partition_expr(key, metadata)
            ref = table_ref(key, dict(metadata), schema)
            same = dialect.same_table(ref.schema, ref.table) if dialect else (ref.schema, ref.table)
            other, other_ref = seen.setdefault(same, (key, ref))
            if other != key:
                a, b = other.to_user_string(), key.to_user_string()
                where = ref.display()
                if other_ref != ref:
                    db = dialect.name if dialect else "the store"
                    where = f"{other_ref.display()} / {ref.display()} (one table: {db} "
                    where += "does not tell these names apart by case)"
                msg = (
                    f"assets {a!r} and {b!r} would both be stored in table {where} by "
                    f"{type(self).__name__} (the table is the key's last part): expected one "
                    "table per asset; give one of them `schema` metadata or another name"
                )
                raise DefinitionError(
                    msg, asset=b, io_manager=type(self).__name__, expected="one table per asset",
                    got=f"{a} and {b} in {ref.display()}",
                )  # fmt: skip

    def _check_partition_expr(self, key: AssetKey, metadata: Mapping[str, Any]) -> None:
        """A ``partition_expr`` this store cannot run is refused before a run."""
        from wharf._io.partition_expr import parse_partition_expr

        expr, dialect = metadata.get("partition_expr"), self.dialect()
        for text in expr.values() if isinstance(expr, Mapping) else [expr] if expr else []:
            parse_partition_expr(
                str(text), dialect.name if dialect else None,
                asset=key.to_user_string(), manager=type(self).__name__,
            )  # fmt: skip

    # -- storing ----------------------------------------------------------------------
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        try:
            self._store_value(context, obj)
        except StorageError as exc:  # the store knows the table, not the asset
            exc.naming(context.asset_key.to_user_string(), type(self).__name__)
            raise

    def _store_value(self, context: OutputContext, obj: Any) -> None:
        label = context.asset_key.to_user_string()
        handler, adapter = th.handler_for_value(self, obj, label)
        if adapter is None:
            self._store_handled(context, handler, obj)
            return
        ref = table_ref(context.asset_key, context.definition_metadata, self.default_schema())
        mode, keys = _write_options(context, type(self).__name__)
        how: dict[str, Any] = {"mode": mode, "merge_keys": keys} if mode != "replace" else {}
        kept: dict[str, Any] = {}
        if isinstance(self.table_store(), VersionedTables):  # kept with the version written
            kept["run_id"] = context.run_id
        start = time.perf_counter()
        if context.has_asset_partitions and context.asset_partitions_def is not None:
            # the run's partitions' rows (one, or a range run's) are replaced inside one
            # transaction; the others stay
            name = type(self).__name__
            reader = export(adapter, obj, asset=label, io_manager=name)
            with _kept_open(self.table_store(), reader):  # the fit's schema read, then the write
                reader = self._fit_pandas_index(ref, reader, label)
                reader, how = self._as_stored(ref, reader, how)
                dims = self._dims(context.asset_partitions_def, context.definition_metadata, label)
                dims = tp.check_columns(dims, reader.schema.names, asset=label, manager=name)
                types = {f.name: f.type for f in reader.schema}
                partition = tp.range_filters(dims, list(context.asset_partition_keys), types,
                                             asset=label, manager=name)  # fmt: skip
                reader = fingerprint_reader(reader)  # hashed as the store pulls it
                result = self.table_store().write(ref, reader, partition=partition, **how, **kept)
        else:
            # the database's own lazy value (a DuckDB relation) goes as itself: the store copies
            # it inside the database when it can
            store = self.table_store()
            native = takes_native(store, adapter.name, writing=True)
            if native and not how:
                source = obj
                result = store.write(ref, source, **how, **kept)
            else:  # hashed as the store pulls it (a native copy is not: no second read)
                source = export(adapter, obj, asset=label, io_manager=type(self).__name__)
                with _kept_open(store, source if how else None):
                    if how:  # rows added to a table: a pandas index fitted to the stored one
                        source = self._fit_pandas_index(ref, source, label)
                    # a table Dagster wrote keeps its column names, replaced or not
                    source, how = self._as_stored(ref, source, how, whole=not how)
                    source = fingerprint_reader(source)
                    result = store.write(ref, source, **how, **kept)
        context.add_output_metadata(_metadata(result, time.perf_counter() - start))

    def _as_stored(
        self, ref: TableRef, reader: Any, how: dict[str, Any], *, whole: bool = False
    ) -> tuple[Any, Any]:
        """``reader`` with its columns (and ``how``'s merge keys) named as the stored table
        names them: a table Dagster wrote has upper-case columns where a frame has lower-case
        ones (``stored_names`` of a SQL store), kept by every write, a ``whole``-table replace
        too."""
        names = reader.schema.names
        new, how = self._stored_names(ref, names, how, whole=whole)
        if new == names:
            return reader, how
        from wharf._deps import require
        from wharf._stores.schema_codec import renamed_names

        pa, to = require("pyarrow"), dict(zip(names, new, strict=True))
        schema = renamed_names((reader.schema, {}), lambda n: to.get(n, n))[0]
        renamed = pa.RecordBatchReader.from_batches(schema, (b.rename_columns(new) for b in reader))
        return renamed, how

    def _stored_names(
        self, ref: TableRef, names: list[str], how: dict[str, Any], *, whole: bool
    ) -> tuple[list[str], dict[str, Any]]:
        """``names`` (and ``how``'s merge keys) as the stored table names them
        (``stored_names`` of a SQL store), for a frame's columns or a handler's staged ones."""
        stored_names = getattr(self.table_store(), "stored_names", None)
        new = names if stored_names is None else stored_names(ref, names, whole=whole)
        if new != names and "merge_keys" in how:
            to = dict(zip(names, new, strict=True))
            how = {**how, "merge_keys": [to.get(k, k) for k in how["merge_keys"]]}
        return new, how

    def _store_handled(self, context: OutputContext, handler: Any, obj: Any) -> None:
        """A user's handler writes ``obj`` into a table the store names; the store then moves
        its rows into the asset's table in one atomic write (see :mod:`.type_handlers`)."""
        label, name = context.asset_key.to_user_string(), type(self).__name__
        ref = table_ref(context.asset_key, context.definition_metadata, self.default_schema())
        mode, keys = _write_options(context, name)
        how: dict[str, Any] = {"mode": mode, "merge_keys": keys} if mode != "replace" else {}
        store, start = self.table_store(), time.perf_counter()
        if not hasattr(store, "stage"):
            msg = (
                f"asset {label!r}: {name} stores values of {type_name(type(obj))} only through "
                f"Arrow, but {type(handler).__name__} writes them over a database connection: "
                "expected a SQL table store (DuckDB, PostgreSQL, Snowflake, BigQuery)"
            )
            raise AssetTypeError(msg, asset=label, io_manager=name, expected="a SQL store")
        partitioned = context.has_asset_partitions and context.asset_partitions_def is not None
        dims = self._dims(context.asset_partitions_def, context.definition_metadata, label)
        extra: dict[str, Any] = {}

        def fill(con: Any, source: TableRef) -> None:
            keys_ = [context.asset_partition_key] if partitioned else []
            piece = self._slice(source, None, dims, keys_)
            connection = self.handler_connection(con, source.schema)
            extra.update(handler.handle_output(context, piece, obj, connection) or {})

        staged = store.stage(ref.schema, fill)
        try:  # its columns go into a table Dagster wrote by name, as a frame's do
            whole = not how and not partitioned
            names, how = self._stored_names(ref, staged.schema.names, how, whole=whole)
            if names != staged.schema.names:
                staged = staged.renamed(names)
            partition = None
            if partitioned:
                dims = tp.check_columns(dims, staged.schema.names, asset=label, manager=name)
                types = {f.name: f.type for f in staged.schema}
                partition = tp.filters_for(dims, [context.asset_partition_key], types)
            result = store.write(ref, staged, partition=partition, **how)
        except BaseException:
            with suppress(Exception):  # the write's own error is the one to report
                store.delete(staged.ref)
            raise
        context.add_output_metadata({**_metadata(result, time.perf_counter() - start), **extra})

    def _dims(self, pdef: Any, metadata: Mapping[str, Any], label: str) -> list[tp.Dim]:
        if pdef is None:
            return []
        dialect = self.dialect()
        return tp.dimensions(
            pdef, metadata, asset=label, manager=type(self).__name__,
            dialect=dialect.name if dialect is not None else None,
        )  # fmt: skip

    def _slice(
        self, ref: TableRef, columns: list[str] | None, dims: list[tp.Dim], keys: list[str]
    ) -> th.TableSlice:
        """The :class:`TableSlice` a user's handler is given: a time dimension's partitions as
        one window from the first key's start to the last key's end, others as their keys."""
        parts = []
        for dim in dims if keys else []:
            if dim.pdef.is_time_window:
                first = dim.pdef.time_window_for_partition_key(dim.key_of(keys[0]))
                last = dim.pdef.time_window_for_partition_key(dim.key_of(keys[-1]))
                parts.append(
                    th.TablePartitionDimension(dim.column, type(first)(first.start, last.end))
                )
            else:
                values = list(dict.fromkeys(dim.key_of(k) for k in keys))
                parts.append(th.TablePartitionDimension(dim.column, values))
        database = getattr(self, "database", None)
        return th.TableSlice(
            ref.table, ref.schema, database if isinstance(database, str) else None, columns,
            parts or None,
        )  # fmt: skip

    def _fit_pandas_index(self, ref: TableRef, reader: Any, label: str) -> Any:
        """A pandas partition's index fitted to the table's index columns (one schema read,
        only for pandas values): see :func:`wharf._frames.pandas_index.fit_partition`."""
        from wharf._frames.pandas_index import fit_partition

        if b"pandas" not in (reader.schema.metadata or {}):
            return reader
        store = self.table_store()
        try:
            stored = store.schema(ref)
        except StoredValueNotFoundError:
            stored = None
        try:
            return fit_partition(reader, stored, f"table {store.location(ref)}")
        except AssetTypeError as exc:
            name = type(self).__name__
            msg = f"asset {label!r} ({name}): {exc}; the stored table is unchanged"
            raise AssetTypeError(
                msg, asset=label, io_manager=name, expected=exc.expected, got=exc.got
            ) from None

    # -- loading ----------------------------------------------------------------------
    def load_input(self, context: InputContext) -> Any:
        try:
            return self._load_value(context)
        except StorageError as exc:  # the store knows the table, not the asset
            exc.naming(context.asset_key.to_user_string(), type(self).__name__)
            raise

    def _load_value(self, context: InputContext) -> Any:
        annotation = context.dagster_type.typing_type
        upstream_meta = (
            context.upstream_output.definition_metadata if context.upstream_output else {}
        )
        ref = table_ref(context.asset_key, upstream_meta, self.default_schema())
        columns = context.definition_metadata.get("columns")
        wanted = list(columns) if columns else None
        from wharf._io import partitioned

        label = context.asset_key.to_user_string()
        where = f"input {context.name!r} (asset {label!r})"
        many = context.has_asset_partitions and context.asset_partitions_def is not None
        one = annotation
        if many and partitioned.is_dict_annotation(annotation):
            one = partitioned.value_annotation(annotation)
        handler, adapter, _ = th.handler_for_load(self, strip_optional(one), where, label)
        if adapter is None:
            return self._load_handled(context, handler, ref, wanted, upstream_meta)
        store = self._reading_store(context, ref)
        if many:
            return self._load_partitions(context, ref, upstream_meta, wanted, store)
        adapter = self._load_adapter(context, annotation)
        return self.read_table(ref, adapter, strip_optional(annotation), wanted, store=store)

    def _reading_store(self, context: InputContext, ref: TableRef) -> TableStore:
        """The store, or (``context.stored_version``) its view of ``ref`` at that version."""
        store = self.table_store()
        if context.stored_version is None:
            return store
        if not isinstance(store, VersionedTables):
            from wharf._core.stored_versions import keeps_no_versions

            raise keeps_no_versions(context.asset_key.to_user_string(), type(self).__name__)
        return store.at_version(ref, context.stored_version)

    def stored_versions(
        self, key: AssetKey, metadata: Mapping[str, Any] | None = None, *, partitioned: bool = False
    ) -> list[StoredVersion]:
        """The versions of ``key``'s table the store keeps, newest first (stores that keep
        history: Delta Lake, Iceberg); others raise ``StoredValueNotFoundError`` saying so.
        ``metadata`` is the asset's definition metadata (its ``schema``)."""
        store, name = self.table_store(), type(self).__name__
        if not isinstance(store, VersionedTables):
            from wharf._core.stored_versions import keeps_no_versions

            raise keeps_no_versions(key.to_user_string(), name)
        try:
            return store.versions(table_ref(key, dict(metadata or {}), self.default_schema()))
        except StorageError as exc:
            exc.naming(key.to_user_string(), name)
            raise

    def _load_handled(
        self,
        context: InputContext,
        handler: Any,
        ref: TableRef,
        columns: list[str] | None,
        meta: Mapping[str, Any],
    ) -> Any:
        """A user's handler reads the asset's table (its columns and partitions); it reads
        through the store's connection, so only the current version (an earlier one is
        refused, naming the handler and the manager)."""
        label = context.asset_key.to_user_string()
        if context.stored_version is not None:
            name, by = type(self).__name__, type(handler).__name__
            msg = (
                f"asset {label!r}: {name} loads a {context.dagster_type.typing_type!r} through "
                f"the type handler {by}, which reads the current table only: it cannot load "
                f"version {context.stored_version}; expected an input type {name} reads itself "
                "(a frame type, a pyarrow.Table) for an earlier version"
            )
            raise StoredValueNotFoundError(
                msg, asset=label, io_manager=name, expected="a frame type for an earlier version",
                got=f"{by} (current version only)",
            )  # fmt: skip
        partitioned = context.has_asset_partitions and context.asset_partitions_def is not None
        dims = self._dims(context.asset_partitions_def if partitioned else None, meta, label)
        keys = list(context.asset_partition_keys) if partitioned else []
        piece = self._slice(ref, columns, dims, keys)
        store = self.table_store()
        con = store.connect(reading=True) if hasattr(store, "connect") else None
        try:
            return handler.load_input(context, piece, self.handler_connection(con))
        finally:
            if con is not None:
                con.close()

    def preview_table(self, key: AssetKey, metadata: Mapping[str, Any], limit: int) -> Any:
        """The first ``limit`` rows of the asset's stored table as a ``pyarrow.Table``; the
        store reads no more than that (``LIMIT``). ``metadata`` is the asset's definition
        metadata (its ``schema``)."""
        ref = table_ref(key, dict(metadata), self.default_schema())
        try:
            return self.table_store().read(ref, limit=limit).read_all()
        except StorageError as exc:
            exc.naming(key.to_user_string(), type(self).__name__)
            raise

    def read_table(
        self,
        ref: TableRef,
        adapter: FrameAdapter,
        annotation: Any,
        columns: list[str] | None,
        partition: Partition | None = None,
        *,
        store: TableStore | None = None,
    ) -> Any:
        """Load ``ref`` (the rows of ``partition``) as ``annotation``: through Arrow, or as the
        store's own lazy value when that is what the input asks for (a DuckDB relation)."""
        store = store if store is not None else self.table_store()
        if takes_native(store, adapter.name):
            native: Any = store
            return native.read_native(ref, columns=columns, partition=partition)
        reader = store.read(ref, columns=columns, partition=partition)
        return adapter.from_arrow(reader, annotation)

    def _load_partitions(
        self, context: InputContext, ref: TableRef, meta: dict[str, Any], columns: list[str] | None,
        store: TableStore,
    ) -> Any:  # fmt: skip
        """Upstream partitions: one query per run of consecutive partitions (usually one), all
        on one connection with the schema read; a dict by partition key for a ``dict[str, X]``
        input."""
        from wharf._io import partitioned

        assert context.asset_partitions_def is not None
        annotation = context.dagster_type.typing_type
        value_type = strip_optional(partitioned.value_annotation(annotation))
        adapter = self._load_adapter(context, value_type)
        with ExitStack() as stack:
            try:
                session = stack.enter_context(reading(store, ref))
                schema = session.schema
            except StoredValueNotFoundError:
                if not partitioned.allow_missing(context):
                    keys = list(context.asset_partition_keys)
                    where = dict.fromkeys(keys, store.location(ref))
                    raise partitioned.missing_error(context, where, type(self).__name__) from None
                if partitioned.is_dict_annotation(annotation):
                    return {}
                return adapter.from_arrow(_empty(None, columns), value_type)
            return self._load_from(context, session, store, schema, meta, columns, adapter)

    def _load_from(  # noqa: PLR0917
        self,
        context: InputContext,
        session: TableReading,
        store: TableStore,
        schema: Any,
        meta: dict[str, Any],
        columns: list[str] | None,
        adapter: FrameAdapter,
    ) -> Any:
        """:meth:`_load_partitions` once the table's schema is read (``session``)."""
        from wharf._io import partitioned

        assert context.asset_partitions_def is not None
        name, label, ref = type(self).__name__, context.asset_key.to_user_string(), session.ref
        dims = self._dims(context.asset_partitions_def, meta, label)
        keys = list(context.asset_partition_keys)
        annotation = context.dagster_type.typing_type
        as_dict = partitioned.is_dict_annotation(annotation)
        value_type = strip_optional(partitioned.value_annotation(annotation))
        types = {f.name: f.type for f in schema}
        real = schema.names  # an expression names the table's columns as stored
        stored_names = getattr(store, "stored_names", None)
        if stored_names is not None and any(not d.expr.is_column() for d in dims if d.expr):
            real = stored_names(ref, schema.names)
        dims = tp.check_columns(dims, schema.names, asset=label, manager=name, stored=real)
        groups = tp.plan_reads(dims, keys, types)
        native = takes_native(store, adapter.name)
        has_parts = all(d.sql is None and (columns is None or d.column in columns) for d in dims)
        if not (native or adapter.lazy) and has_parts:  # one pass: read, then see whose rows
            return self._load_at_once(
                context, session, dims, keys, groups, types, columns, store=store
            )
        present = tp.present_keys(session, dims, groups, types)  # partition columns only
        if missing := [k for k in keys if k not in present]:
            if not partitioned.allow_missing(context):
                at = store.location(ref)
                where = {
                    k: f"{at} WHERE {describe_filters(tp.filters_for(dims, [k], types))}"
                    for k in missing
                }
                raise partitioned.missing_error(context, where, name)
            keys = [k for k in keys if k in present]
        if as_dict:  # a lazy value per key, each its own read: streams open at once on one
            return {  # connection would cut each other short
                k: self.read_table(
                    ref,
                    adapter,
                    value_type,
                    columns,
                    tp.filters_for(dims, [k], types),
                    store=store,
                )
                for k in keys
            }
        groups = tp.plan_reads(dims, keys, types)
        if native and len(groups) == 1:
            return session.read_native(columns=columns, partition=groups[0][1])
        if len(groups) == 1:
            reader = session.read(columns=columns, partition=groups[0][1])
            return adapter.from_arrow(reader, value_type)
        # several ranges streamed one after another, each on a connection of its own: the
        # session ends before the stream is read
        later = StoreReading(store, ref)
        reader = _empty(schema, columns) if not groups else _chain(later, columns, groups)
        return adapter.from_arrow(reader, value_type)

    def _load_at_once(  # noqa: PLR0917
        self,
        context: InputContext,
        session: TableReading,
        dims: list[tp.Dim],
        keys: list[str],
        groups: list[tp.Group],
        types: dict[str, Any],
        columns: list[str] | None,
        *,
        store: TableStore,
    ) -> Any:
        """An eager load of several partitions: one query per group (usually one in all); the
        missing partitions are found in the rows read, so no second pass reads the table.
        ``session``: the reads of the table (of a view at an earlier version, for a version
        load)."""
        from wharf._deps import require
        from wharf._io import partitioned

        pa = require("pyarrow")
        name = type(self).__name__
        annotation = context.dagster_type.typing_type
        value_type = strip_optional(partitioned.value_annotation(annotation))
        adapter = self._load_adapter(context, value_type)
        tables = [session.read(columns=columns, partition=f).read_all() for _, f in groups]
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        positions, present = tp.locate(table, dims, keys, types)
        if len(present) < len(keys):
            have = set(present)
            missing = [k for k in keys if k not in have]
            if not partitioned.allow_missing(context):
                at = store.location(session.ref)
                where = {
                    k: f"{at} WHERE {describe_filters(tp.filters_for(dims, [k], types))}"
                    for k in missing[:10]
                }
                where.update(dict.fromkeys(missing[10:], at))
                raise partitioned.missing_error(context, where, name)
        if partitioned.is_dict_annotation(annotation):  # the rows split by partition
            np = require("numpy")
            order = np.argsort(positions, kind="stable")
            cuts = np.searchsorted(positions[order], np.arange(len(keys) + 1))
            have = set(present)
            return {
                k: adapter.from_arrow(
                    _take(table, order[cuts[n] : cuts[n + 1]], pa).to_reader(), value_type
                )
                for n, k in enumerate(keys)
                if k in have
            }
        return adapter.from_arrow(table.to_reader(), value_type)

    def _load_adapter(self, context: InputContext, annotation: Any) -> FrameAdapter:
        label = context.asset_key.to_user_string()
        where = f"input {context.name!r} (asset {label!r})"
        _, adapter, _ = th.handler_for_load(self, strip_optional(annotation), where, label)
        if adapter is None:  # a user's handler for the partitions' value type
            msg = (
                f"{where}: {type(self).__name__} loads a dict of partitions only as frames; "
                "a type handler of your own loads them as one value (annotate the type itself)"
            )
            raise AssetTypeError(msg, asset=label, io_manager=type(self).__name__)
        return adapter


def _kept_open(store: TableStore, reader: Any) -> AbstractContextManager[None]:
    """The store's database kept open (:class:`KeptOpen`) while a pandas value, whose index
    is fitted to the stored table's first, is written: one opening for both sessions."""
    pandas = reader is not None and b"pandas" in (reader.schema.metadata or {})
    return store.kept_open() if pandas and isinstance(store, KeptOpen) else nullcontext()


def _write_options(context: OutputContext, manager: str) -> tuple[str, tuple[str, ...]]:
    """The asset's ``write_mode`` and ``merge_keys`` (see :mod:`wharf._io.table_options`)."""
    label = context.asset_key.to_user_string()
    check_storage_metadata(context.definition_metadata, asset=label, manager=manager)
    return write_options(context.definition_metadata)


def _take(table: Any, rows: Any, pa: Any) -> Any:
    """The ``rows`` of ``table``; view columns (no take kernel) go through their large type."""
    views = {"string_view": pa.large_string(), "binary_view": pa.large_binary()}
    columns = []
    for column in table.columns:
        wide = views.get(str(column.type))
        columns.append(
            column.take(rows) if wide is None else column.cast(wide).take(rows).cast(column.type)
        )
    return pa.Table.from_arrays(columns, schema=table.schema)


def _empty(schema: Any, columns: list[str] | None) -> Any:
    """An empty stream with the table's columns (no columns when the table does not exist)."""
    from wharf._deps import require

    pa = require("pyarrow")
    schema = schema if schema is not None else pa.schema([])
    if columns:
        schema = pa.schema([schema.field(c) for c in columns], schema.metadata)
    return schema.empty_table().to_reader()


def _chain(session: TableReading, columns: list[str] | None, groups: list[tp.Group]) -> Any:
    """One stream over several reads, each started only when the previous one is done."""
    from wharf._deps import require

    pa = require("pyarrow")
    first = session.read(columns=columns, partition=groups[0][1])

    def batches() -> Any:
        yield from first
        for _, filters in groups[1:]:
            yield from session.read(columns=columns, partition=filters)

    return pa.RecordBatchReader.from_batches(first.schema, batches())


def _metadata(result: WriteResult, seconds: float) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "row_count": MetadataValue.int(result.row_count),
        "schema": MetadataValue.table_schema(result.schema),
        "table": MetadataValue.text(result.location),
        "duration_s": MetadataValue.float(round(seconds, 6)),
    }
    if result.bytes is not None:
        meta["bytes"] = MetadataValue.int(result.bytes)
    meta.update(
        standard_table_metadata(result.row_count, result.schema, table_name=result.location)
    )
    return meta


#: Dagster's name for the base of every database I/O manager
DbIOManager = TableIOManager
