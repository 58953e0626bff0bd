"""One table store for every SQL database; what differs between databases is a :class:`Dialect`.

A whole-table write is atomic::

    BEGIN
      CREATE TABLE <schema>.<stage> AS SELECT <columns> FROM <attached Arrow stream>
      COMMENT ON TABLE <stage> IS '<the written Arrow schema>'
      DROP TABLE IF EXISTS <target>; ALTER TABLE <stage> RENAME TO <table>
    COMMIT

If anything fails (the incoming stream raises, the process is killed) nothing commits: the old
table is untouched and no stage table remains. A partition write is ``BEGIN; DELETE ... WHERE
<filter>; INSERT INTO <target> (<columns by name>) SELECT ...; COMMIT``. The stored row count is
checked against the rows that streamed through, before the commit, so a stream scanned twice, or
rows outside the partition, fail the write and leave every partition as it was.

Where DDL is not transactional (``Dialect.begin_sql = None``) a partition write still replaces
its rows all or nothing: in a transaction of DML only (``Dialect.partition_begin_sql``, Snowflake),
or in one statement (``Dialect.replace_rows_sql``, BigQuery's ``MERGE``) after the rows are
counted in its source, a table loaded beforehand. Columns a partition adds (``schema_policy=
"evolve"``) are added before, and stay if the write then fails.

Connection lifetime: each operation opens its own connection and closes it when done; a read's
connection closes when its reader is exhausted, closed or garbage-collected. An undrained reader
never blocks another operation, and a database file is open only while in use.

Fidelity: the written Arrow schema (types, metadata such as pandas', and the dictionaries of
categorical columns) is kept as the table comment and restored on read. The docstring of
:mod:`wharf._stores.duckdb` lists what still cannot round-trip.
"""

from __future__ import annotations

import dataclasses
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from typing import TYPE_CHECKING, Any

from wharf._deps import require
from wharf._stores.base import (
    Partition,
    PartitionFilter,
    SchemaPolicy,
    TableRef,
    WriteMode,
    WriteResult,
    as_filters,
    as_reader,
    check_name,
    check_write_mode,
    column_diff,
    describe_filters,
    schema_dict,
    store_errors,
    stream,
)
from wharf._stores.dialect import Dialect, check_floats, sql_type
from wharf._stores.driver import Driver
from wharf._stores.schema_codec import (
    OWNED,
    DictionaryNotes,
    decode_schema,
    empty_batch,
    encode_schema,
    is_ours,
    lowered_names,
    pandas_needs,
    renamed_names,
    restorable,
    restore,
    to_storage,
    zip_schema,
)
from wharf._stores.turns import Turns
from wharf.errors import StorageError, StoredValueNotFoundError, StoreLockedError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Dialect", "SqlReading", "SqlStore", "StagedTable", "sql_type"]


def _row_limit(limit: object) -> int:
    """A row limit as the integer put in ``LIMIT``; anything else is refused.

    Examples:
        >>> _row_limit(5)
        5
        >>> _row_limit("5; DROP TABLE t")
        Traceback (most recent call last):
        ...
        wharf.errors.StorageError: a row limit is a whole number >= 0, got '5; DROP TABLE t'
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        msg = f"a row limit is a whole number >= 0, got {limit!r}"
        raise StorageError(msg, expected="an int >= 0", got=repr(limit))
    return limit


#: the name of every table a user's handler fills (:meth:`SqlStore.stage`), before its time
_STAGED = "__wharf_src_"

#: a partition filter of more values than this is one list parameter where the dialect can
LIST_AFTER = 64


class StagedTable:
    """A table that code of the user's (a ``DbTypeHandler``) created and filled through
    :meth:`SqlStore.stage`: :meth:`SqlStore.write` takes it as its data, moves its rows into the
    target with the same atomic write as an Arrow stream's, and drops it.

    ``schema`` names its columns as they are stored, or (:meth:`renamed`) as the target table
    names them; ``columns`` maps each of those names back to the staged column's."""

    def __init__(self, ref: TableRef, schema: Any, columns: dict[str, str] | None = None) -> None:
        self.ref, self.schema = ref, schema
        self.columns = columns or {n: n for n in schema.names}

    def renamed(self, names: Sequence[str]) -> StagedTable:
        """The same table, its columns written into the target under ``names`` (in order),
        as a frame's are renamed for a table Dagster wrote (:meth:`SqlStore.stored_names`)."""
        to = dict(zip(self.schema.names, names, strict=True))
        schema = renamed_names((self.schema, {}), lambda n: to.get(n, n))[0]
        return StagedTable(self.ref, schema, {to[n]: self.columns[n] for n in self.schema.names})


class SqlStore:
    """A :class:`~wharf._stores.base.TableStore` on any SQL database.

    Args:
        dialect: the database's :class:`Dialect` row (its SQL, as data).
        driver: its client (:class:`~wharf._stores.driver.Driver`): connections, statements,
            Arrow in and out, and the exceptions translated to :class:`StorageError`.
        database: how messages name the database (a path, an account).
        catalog: the catalog shown in :meth:`location`, if any.
        schema_policy: partition writes whose columns differ: ``"error"`` or ``"evolve"``.
        lock_timeout: seconds to retry (capped exponential back-off) while locked.
        batch_size: rows per batch when reading.

    Examples:
        >>> from wharf._stores.duckdb import duckdb_store
        >>> duckdb_store(":memory:").location(TableRef("public", "t"))
        '"memory"."public"."t"'
    """

    def __init__(
        self,
        dialect: Dialect,
        driver: Driver,
        *,
        database: str,
        catalog: str | None = None,
        schema_policy: SchemaPolicy = "error",
        lock_timeout: float = 30.0,
        batch_size: int = 122_880,
    ) -> None:
        self.dialect, self.name, self.driver = dialect, dialect.name, driver
        self.database, self.catalog, self.schema_policy = database, catalog, schema_policy
        self.lock_timeout, self.batch_size = lock_timeout, batch_size

    #: how column names load: ``"exact"``; ``"lower"`` (every table's lower-cased, as
    #: dagster-snowflake-pandas and dagster-gcp-pandas load them); ``"auto"`` (lower-cased for
    #: tables wharf did not write: no comment of wharf's). Projections and partition filters then
    #: name columns lower-cased too, and a table wharf wrote still loads with its written types.
    #: Rows written into such a table go into its columns by name ignoring case
    #: (:meth:`stored_names`).
    column_names = "exact"

    def __repr__(self) -> str:
        return f"SqlStore({self.name!r}, database={self.database!r})"

    def folded(self, ref: TableRef) -> TableRef:
        """``ref`` as the database names it: plain schema and table names folded where the
        database folds unquoted names (``Dialect.folding``: Snowflake upper-cases them)."""
        if self.dialect.folding == "none":
            return ref
        return TableRef(self.dialect.fold_name(ref.schema), self.dialect.fold_name(ref.table))

    def location(self, ref: TableRef) -> str:
        """The fully qualified, quoted table name."""
        ref = self.folded(ref)
        if self.dialect.qualify_catalog or not self.catalog:
            return self._target(ref)
        return f"{self.dialect.quote_name(self.catalog)}.{self._target(ref)}"

    def exists(self, ref: TableRef) -> bool:
        """Whether the table exists."""
        ref = self.folded(ref)
        with self._session(f"check table {self.location(ref)}") as con:
            return bool(self._columns(con, ref))

    def delete(self, ref: TableRef) -> None:
        """Drop the table if it exists."""
        ref = self.folded(ref)
        with self._session(f"drop table {self.location(ref)}") as con:
            self._run(con, self.dialect.drop_sql, target=self._target(ref))

    def write(
        self,
        ref: TableRef,
        data: pa.RecordBatchReader,
        *,
        partition: Partition | None = None,
        mode: WriteMode = "replace",
        merge_keys: Sequence[str] = (),
    ) -> WriteResult:
        """Replace the table, or the rows of ``partition``, with ``data`` in one transaction;
        or add them (``mode="append"``), or upsert them by ``merge_keys`` (``mode="merge"``).

        ``data`` is an Arrow stream, or anything exporting ``__arrow_c_stream__``. A whole-table
        replace of a value the database reads itself (``Driver.attach_native``: a DuckDB
        relation on the same database) runs inside the database, without Arrow. A merge key
        that repeats in ``data`` fails the write before the table changes.
        """
        ref, partition = self.folded(ref), as_filters(partition) or None
        checked, keys = check_write_mode(mode, merge_keys)
        how = _How(checked, keys)
        d, driver = self.dialect, self.driver
        source = f"__wharf_src_{uuid.uuid4().hex[:12]}"
        stage_name = f"__wharf_stage_{uuid.uuid4().hex[:12]}"
        stage = TableRef(ref.schema, stage_name)
        native = partition is None and checked == "replace" and driver.native_values
        tap = self._tap(ref, data, native=native, whole=partition is None, keys=keys)
        with self._session(f"write table {self.location(ref)}", tap) as con:
            self._create_schema(con, ref)
            src: str | None = ""
            direct = None
            if (
                driver.bulk_ingest
                and partition is None
                and mode == "replace"
                and isinstance(tap, _Tap)
            ):
                direct = partial(driver.ingest, con, stage, tap.reader())
            else:
                src = tap.attach(con, source, self, ref)
            if src is None:  # the database cannot read it itself: stream it through Arrow
                tap = _Tap(as_reader(data), d)
                self._check_columns(ref, tap.schema.names)
                src = driver.attach(con, source, tap.reader(), ref)
            names = [check_name(n, "column") for n in tap.schema.names]
            copy = None
            try:
                if isinstance(tap, _Native):  # its columns are known once attached
                    self._check_columns(ref, names)
                if checked != "replace":
                    src, copy = self._copy_source(con, src, partition, how)
                if how.mode == "merge":  # before the table changes; the copy is dropped below
                    self._check_duplicates(con, ref, src, how.keys)
                self._transaction(con, ref, src, stage, names, tap, partition, direct, how)
            finally:
                if copy is not None:
                    with suppress(*driver.errors()):
                        self._run(con, d.drop_sql, target=copy)
                if direct is None:
                    tap.detach(con, source, self, ref)
        return WriteResult(tap.rows or 0, schema_dict(tap.schema), self.location(ref))

    def _tap(
        self, ref: TableRef, data: Any, *, native: bool, whole: bool, keys: Sequence[str]
    ) -> _Tap | _Native:
        """What passes ``data`` to the database, its columns checked where known already."""
        tap: _Tap | _Native
        if isinstance(data, StagedTable):
            tap = _Staged(data, self._target(data.ref))
        elif native and not _is_reader(data):
            return _Native(data)
        else:
            tap = _Tap(as_reader(data), self.dialect)
            self._check_columns(ref, tap.schema.names)
            if whole:  # refused before any data moves if it cannot be kept
                self._schema_text(ref, tap.schema, {})
        self._check_keys_named(ref, keys, tap.schema.names)
        return tap

    def read(
        self,
        ref: TableRef,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        """Stream the table (at most ``limit`` rows: ``LIMIT`` in the query); its connection
        closes when the reader is done or dropped."""
        with self.reading(ref) as session:
            return session.read(columns=columns, partition=partition, limit=limit)

    def query(
        self,
        ref: TableRef,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
    ) -> tuple[Any, str, list[object]]:
        """An open connection (the caller closes it) and the bound ``SELECT`` that :meth:`read`
        would run, for stores that hand out their own lazy values
        (:class:`~wharf._stores.base.NativeTables`: DuckDB relations)."""
        with self.reading(ref) as session:
            return session.query(columns=columns, partition=partition)

    @contextmanager
    def reading(self, ref: TableRef) -> Iterator[SqlReading]:
        """A :class:`SqlReading` of ``ref``: one connection for its schema and every read
        (a load of many partitions: the schema, the missing check and the data), closed when
        the block ends and the last stream it handed out is done."""
        ref = self.folded(ref)
        message = f"{self.name} could not read table {self.location(ref)} ({self.database})"
        with store_errors(message, self._errors):
            con = self.connect(reading=True)
            try:
                info = self._table_info(con, ref)
            except BaseException:
                self.driver.close(con)
                raise
        session = SqlReading(self, ref, con, info, message)
        try:
            yield session
        finally:
            session.close()

    def stored_names(
        self, ref: TableRef, names: Sequence[str], *, whole: bool = False
    ) -> list[str]:
        """``names`` (columns as they load, a frame's) as the stored table names them, for a
        write into an existing table: a partition, an append, a merge, or (``whole``) a
        whole-table replace of a table wharf did not write, which keeps the table's names as
        Dagster's truncate-and-append does. Themselves where column names load exactly; where
        they load lower-cased (:attr:`column_names`), the table's column of the same name
        ignoring case, and a column the table lacks upper-cased if wharf did not write the
        table (as Dagster's pandas handlers write it), else as given."""
        if self.column_names == "exact":
            return list(names)
        ref = self.folded(ref)
        with self._session(f"read the columns of {self.location(ref)}") as con:
            existing = self._columns(con, ref)
            ours = bool(existing) and _written(self._comment_text(con, ref), existing)[1]
        real = {c.lower(): c for c in existing}
        if not existing or (ours and (whole or self.column_names == "auto")):
            return list(names)
        new = [real.get(n.lower(), n if ours else n.upper()) for n in names]
        same_but_case = len(real) < len(existing) or len({n.lower() for n in new}) < len(new)
        return list(names) if same_but_case else new

    def stage(self, schema: str, fill: Callable[[Any, TableRef], None]) -> StagedTable:
        """A new table in ``schema``, named by wharf, that ``fill(connection, ref)`` creates and
        fills; give it to :meth:`write` (which drops it), or :meth:`delete` it. A raising
        ``fill`` leaves no table behind."""
        d = self.dialect
        name = f"{_STAGED}{int(time.time()):x}_{uuid.uuid4().hex[:12]}"
        ref = TableRef(d.fold_name(schema), d.fold_name(name))
        with self._session(f"stage table {self.location(ref)}") as con:
            self._create_schema(con, ref)  # a real problem fails the handler's CREATE TABLE
            self._sweep_staged(con, ref.schema)
            try:
                fill(con, ref)
                stored = self._columns(con, ref)
            except BaseException:
                with suppress(Exception):  # the handler's error is the one to report
                    self._run(con, d.drop_sql, target=self._target(ref))
                raise
        pa, got = require("pyarrow"), self.schema(ref)
        # its names as the table stores them, not as they load
        return StagedTable(ref, pa.schema(f.with_name(n) for f, n in zip(got, stored, strict=True)))

    #: seconds after which a staged table (:meth:`stage`) counts as left by a killed writer
    stale_after = 3600.0

    def _sweep_staged(self, con: Any, schema: str) -> None:
        """Drop the staged tables in ``schema`` older than :attr:`stale_after` (their name says
        when they were made): a writer killed while its handler filled one left it."""
        d = self.dialect
        if not d.tables_sql:
            return
        now = time.time()
        try:  # housekeeping: a schema that cannot be listed (not there yet) fails no write
            bound = [schema] if d.placeholder.format(n=1) in d.tables_sql else []
            tables = self._run(con, d.tables_sql, bound, schema=self._schema(schema))
        except self.driver.errors():
            return
        for (table,) in tables:
            made = re.fullmatch(f"{_STAGED}([0-9a-f]+)_[0-9a-f]+", str(table), re.IGNORECASE)
            if made and now - int(made.group(1), 16) >= self.stale_after:
                with suppress(*self.driver.errors()):  # another writer swept it first
                    self._run(
                        con, self.dialect.drop_sql, target=self._target(TableRef(schema, table))
                    )

    def schema(self, ref: TableRef) -> Any:
        """The table's Arrow schema (as written, where the table comment keeps it); no rows."""
        with self.reading(ref) as session:
            return session.schema

    # -- internals ------------------------------------------------------------------------
    def _no_table(self, ref: TableRef) -> StoredValueNotFoundError:
        msg = (
            f"table {self.location(ref)} does not exist in the {self.name} "
            f"database {self.database}; was its asset materialized?"
        )
        return StoredValueNotFoundError(msg, expected=ref.display(), got="no table")

    def _select(
        self,
        con: Any,
        ref: TableRef,
        columns: Sequence[str] | None,
        partition: Partition | None,
    ) -> tuple[str, list[object], Any, bool]:
        """The bound ``SELECT`` of a read, the stored Arrow schema (or None), and whether its
        column names load lower-cased (:attr:`column_names`)."""
        return self._bound_select(ref, *self._table_info(con, ref), columns, partition)

    def _table_info(self, con: Any, ref: TableRef) -> tuple[list[str], Any, bool]:
        """The table's columns, its written schema (None if not kept) and whether its comment
        is one wharf wrote, read on ``con``
        (which then holds the table's read lock, where the dialect takes one)."""
        existing = self._columns(con, ref)
        if not existing:
            raise self._no_table(ref)
        if self.dialect.read_lock_sql:  # the table a concurrent swap committed, not the old one
            self._run(con, self.dialect.begin_sql or "BEGIN")
            self._run(con, self.dialect.read_lock_sql, target=self._target(ref))
            existing = self._columns(con, ref)
        return existing, *_written(self._comment_text(con, ref), existing)

    def _bound_select(  # noqa: PLR0917
        self,
        ref: TableRef,
        existing: list[str],
        stored: Any,
        ours: bool,
        columns: Sequence[str] | None,
        partition: Partition | None,
    ) -> tuple[str, list[object], Any, bool]:
        """:meth:`_select` once the table's columns and written schema are known (``ours``:
        its comment is one wharf wrote)."""
        real = {c.lower(): c for c in existing}
        lowered = self.column_names == "lower" or (self.column_names == "auto" and not ours)
        lowered = lowered and len(real) == len(existing)  # names equal but for case: kept
        if lowered:  # the caller names columns as they load: lower-cased
            columns = None if columns is None else [real.get(c, c) for c in columns]
            partition = [
                dataclasses.replace(f, column=real.get(f.column, f.column))
                for f in as_filters(partition)
            ]
        where, params = self._where(partition) if partition else ("", [])
        wanted = list(existing if columns is None else columns)
        asked = wanted + [f.column for f in as_filters(partition)]
        if (unknown := [c for c in asked if c not in existing]) or not wanted:
            msg = (
                f"{self.name} table {self.location(ref)} has no column(s) {unknown}; "
                f"its columns are {existing}"
            )
            raise StorageError(msg, expected=f"columns of {existing}", got=str(asked))
        cols = ", ".join(self.dialect.quote_name(c) for c in wanted)
        sql = f"SELECT {cols} FROM {self._target(ref)}" + (f" WHERE {where}" * bool(where))
        if lowered and stored:  # the written types, under the names the table loads with
            stored = lowered_names(stored)
        elif stored and stored[0].names != existing:  # names kept of someone else's, exactly
            stored = None
        return sql, params, stored, lowered

    def _transaction(  # noqa: PLR0917
        self,
        con: Any,
        ref: TableRef,
        src: str,
        stage_ref: TableRef,
        names: list[str],
        tap: _Tap | _Native,
        partition: tuple[PartitionFilter, ...] | None,
        ingest: Callable[[], None] | None = None,
        how: _How | None = None,
    ) -> None:
        how = how or _How("replace", ())
        d, target, stage = self.dialect, self._target(ref), self._target(stage_ref)
        cols = ", ".join(d.quote_name(n) for n in names)
        if d.begin_sql:
            self._run(con, d.begin_sql)
        try:
            if d.write_lock_sql:  # writers of one table take turns
                self._run(con, d.write_lock_sql, [f"{ref.schema}.{ref.table}"])
            existing = self._columns(con, ref) if partition or how.mode != "replace" else []
            if not existing:  # a whole-table write, or the first partition creates the table
                if ingest is not None:  # Driver.ingest: the stream goes into the stage
                    ingest()
                else:
                    self._run(con, d.create_sql, stage=stage, columns=cols, source=src)
                if tap.rows is None:  # read natively: count what was staged
                    tap.rows = self._run(con, d.count_sql, target=stage, where="TRUE")[0][0]
                # checked before the swap, which commits by itself where DDL is not transactional
                self._check_count(con, target, partition, tap.rows or 0, stage)
                named = not partition and how.mode == "replace" and self._keeps_names(con, ref)
                text = self._schema_text(ref, tap.schema, tap.dictionaries, named=named)
                if text:
                    self._set_comment(con, stage_ref, text)
                old = self._target(TableRef(ref.schema, f"__wharf_old_{uuid.uuid4().hex[:12]}"))
                for statement in d.replace_sql:
                    self._run(
                        con,
                        statement,
                        stage=stage,
                        target=target,
                        table=d.quote_name(self._table_name(ref)),
                        comment=text,
                        old=old,
                        target_text=self._literal(ref),
                        stage_text=self._literal(stage_ref),
                    )
            else:
                self._evolve(con, ref, names, existing, tap, how.doing(partition))
                if how.mode != "replace":
                    self._check_types(con, ref, existing, tap, how.doing(partition))
                self._replace_rows(
                    con, target, cols, src, partition=partition or (), tap=tap, how=how
                )
            if d.begin_sql:
                self._run(con, d.commit_sql)
        except BaseException:
            with suppress(Exception):  # the original error is the one to report
                self._run(con, d.rollback_sql if d.begin_sql else d.drop_sql, target=stage)
            raise

    def _create_schema(self, con: Any, ref: TableRef) -> None:
        d = self.dialect
        try:  # a concurrent creator may win; a real problem fails the CREATE TABLE
            self._run(con, d.create_schema_sql, schema=self._schema(ref.schema))
        except self.driver.errors():
            pass
        if d.use_schema_sql:  # where the database puts the write's temporary tables
            self._run(con, d.use_schema_sql, schema=self._schema(ref.schema))

    def _check_columns(self, ref: TableRef, names: list[str]) -> None:
        """Refuse, before anything is written, columns no table of this database can hold."""
        where = f"{self.name} could not write table {self.location(ref)}"
        if not names:
            msg = f"{where}: the data has no columns, and a table needs at least one"
            raise StorageError(msg, expected="at least one column", got="no columns")
        if not self.dialect.case_insensitive_columns:
            return
        seen: dict[str, str] = {}
        for name in names:
            other = seen.setdefault(name.casefold(), name)
            if other != name:
                msg = (
                    f"{where}: columns {other!r} and {name!r} differ only in case, and "
                    f"{self.name} column names ignore case (one would overwrite the other); "
                    "rename one of them"
                )
                raise StorageError(msg, expected="column names unique ignoring case", got=name)

    def _replace_rows(
        self,
        con: Any,
        target: str,
        cols: str,
        src: str,
        *,
        partition: Partition,
        tap: _Tap | _Native,
        how: _How,
    ) -> None:
        """Replace the rows of ``partition`` with ``src``'s, all or nothing: inside the write's
        transaction, else one of DML only, else one statement that checked its source first.
        ``tap.rows`` is final once the database has read ``src``. An append deletes nothing;
        a merge deletes only the rows whose keys ``src`` has (``Dialect.matched_sql``)."""
        d = self.dialect
        where, params = self._where(partition)
        if how.mode == "merge":
            where = f"{where} AND {self._matched(src, how.keys)}"
        parts = {"target": target, "columns": cols, "source": src, "where": where}
        if how.mode != "replace" and partition:  # every new row inside the partition, first
            self._check_count(con, target, partition, tap.rows or 0, src)
        if d.begin_sql is None and d.replace_rows_sql:
            if how.mode == "replace":
                self._check_count(con, target, partition, tap.rows or 0, src)
            sql = d.insert_sql if how.mode == "append" else d.replace_rows_sql
            self._run(con, sql, params if how.mode != "append" else [], **parts)
            return
        begin = d.partition_begin_sql if d.begin_sql is None else None
        if begin:
            self._run(con, begin)
        try:
            if how.mode != "append":
                self._run(con, d.delete_rows_sql, params, **parts)
            self._run(con, d.insert_sql, [], **parts)
            if how.mode == "replace":
                self._check_count(con, target, partition, tap.rows or 0)
            if begin:
                self._run(con, d.commit_sql)
        except BaseException:
            if begin:
                with suppress(Exception):  # the original error is the one to report
                    self._run(con, d.rollback_sql)
            raise

    def _evolve(  # noqa: PLR0917
        self,
        con: Any,
        ref: TableRef,
        names: list[str],
        old: list[str],
        tap: _Tap | _Native,
        doing: str = "write a partition of",
    ) -> None:
        if set(names) == set(old):
            return
        if self.schema_policy != "evolve":
            msg = (
                f"cannot {doing} {self.name} table {self.location(ref)}: the data's "
                f"columns differ from the table's ({column_diff(old, names)}); write the whole "
                "table, or use schema_policy='evolve'"
            )
            raise StorageError(msg, expected=str(old), got=str(names))
        stored = self._stored_schema(con, ref, old)
        for name in (n for n in names if n not in old):
            new = tap.schema.field(name)
            kind, column = sql_type(self.dialect, new.type), self.dialect.quote_name(name)
            self._run(
                con, self.dialect.add_column_sql, target=self._target(ref), column=column, type=kind
            )
            stored = stored and (stored[0].append(new), stored[1])
        if stored:
            self._set_comment(con, ref, encode_schema(*stored))

    def _copy_source(
        self, con: Any, src: str, partition: object, how: _How
    ) -> tuple[str, str | None]:
        """The source of an append or merge, copied first where the database can scan it only
        once and it is read more than once (``Dialect.copy_source_sql``). Returns
        ``(source, copy)``; the caller drops the copy."""
        d = self.dialect
        if not (d.copy_source_sql and (how.mode == "merge" or partition)):
            return src, None
        copy = d.quote_name(f"__wharf_copy_{uuid.uuid4().hex[:12]}")
        self._run(con, d.copy_source_sql, stage=copy, source=src)
        return copy, copy  # read more than once: the key check, then delete and insert

    def _check_keys_named(self, ref: TableRef, keys: Sequence[str], names: Sequence[str]) -> None:
        """Every merge key is a column of the data, before anything is written."""
        if missing := [k for k in keys if k not in names]:
            msg = (
                f"{self.name} could not merge into table {self.location(ref)}: merge key(s) "
                f"{missing} are not columns of the data, whose columns are {list(names)}; "
                "nothing was written"
            )
            raise StorageError(msg, expected=f"columns {list(keys)}", got=str(list(names)))

    def _check_duplicates(self, con: Any, ref: TableRef, src: str, keys: Sequence[str]) -> None:
        """A merge key that repeats in the new data fails the write, naming it, before the
        table changes (which row would win is not defined)."""
        quoted = ", ".join(self.dialect.quote_name(k) for k in keys)
        found = self._run(con, self.dialect.duplicate_keys_sql, keys=quoted, source=src)
        if not found:
            return
        *values, count = found[0]
        key = ", ".join(f"{k}={v!r}" for k, v in zip(keys, values, strict=True))
        msg = (
            f"{self.name} could not merge into table {self.location(ref)}: merge key {key} "
            f"appears {count} times in the new data, and a merge key must identify one row; "
            "nothing was written"
        )
        raise StorageError(msg, expected="unique merge keys in the new data", got=key)

    def _matched(self, src: str, keys: Sequence[str]) -> str:
        """The rows of the target whose merge keys ``src`` has (``Dialect.matched_sql``)."""
        q = self.dialect.quote_name
        pairs = " AND ".join(f"__wharf_s.{q(k)} = __wharf_t.{q(k)}" for k in keys)
        return self.dialect.matched_sql.format(
            keys=", ".join(q(k) for k in keys), pairs=pairs, source=src
        )

    def _check_types(
        self, con: Any, ref: TableRef, existing: list[str], tap: _Tap | _Native, doing: str
    ) -> None:
        """Rows added to a table wharf wrote have the stored columns' types, else the write is
        refused: the table comment restores one type per column on read."""
        stored = self._stored_schema(con, ref, existing)
        if not stored or tap.schema is None:
            return
        for got in tap.schema:
            if got.name in stored[0].names and not (want := stored[0].field(got.name)).type.equals(
                got.type
            ):
                msg = (
                    f"cannot {doing} {self.name} table {self.location(ref)}: column "
                    f"{got.name!r} is stored as {want.type} but the new data has {got.type}; "
                    "cast it to the stored type, or write the whole table (write_mode='replace')"
                )
                raise StorageError(msg, expected=str(want.type), got=str(got.type))

    def _check_count(
        self, con: Any, target: str, partition: Partition | None, rows: int, counted: str = ""
    ) -> None:
        """The rows of ``partition`` (of the whole table if None) in ``counted`` (the target, or
        the stage or source that will replace its rows) are the ``rows`` that streamed in."""
        where, params = self._where(partition) if partition else ("TRUE", [])
        found = self._run(
            con, self.dialect.count_sql, params, target=counted or target, where=where
        )
        if found[0][0] != rows:
            msg = (
                f"{self.name} could not write {target} ({self.database}): {rows} rows streamed in "
                f"but {found[0][0]} rows of {describe_filters(partition)} were stored; every row "
                "of a partition write must belong to its partition, and a stream is read once"
            )
            raise StorageError(msg, expected=f"{rows} rows", got=f"{found[0][0]} rows")

    def _where(self, partition: Partition) -> tuple[str, list[object]]:
        """``partition`` as SQL (every filter ANDed), with its values as bound parameters."""
        parts: list[str] = []
        params: list[object] = []

        def bind(value: object) -> str:
            params.append(value)
            return self.dialect.placeholder.format(n=len(params))

        for f in as_filters(partition):
            col = f"({f.sql})" if f.sql is not None else self.dialect.quote_name(f.column)
            if f.values is not None:
                present = [v for v in f.values if v is not None]
                listed = self.dialect.values_list_sql
                if listed and len(present) > LIST_AFTER:  # one list parameter, not thousands
                    alts = [listed.format(column=col, param=bind(present))]
                else:
                    alts = [f"{col} IN ({', '.join(bind(v) for v in present)})"] if present else []
                alts += [f"{col} IS NULL"] if len(present) < len(f.values) else []
                parts.append(f"({' OR '.join(alts)})" if alts else "FALSE")
            if f.start is not None:
                parts.append(f"{col} >= {bind(f.start)}")
            if f.end is not None:
                parts.append(f"{col} < {bind(f.end)}")
        return " AND ".join(parts) or "TRUE", params

    def _stored_schema(self, con: Any, ref: TableRef, existing: list[str]) -> Any:
        return decode_schema(self._comment_text(con, ref), existing)

    def _comment_text(self, con: Any, ref: TableRef) -> object:
        """The table's comment (None where there is none, or no way to read it)."""
        if (described := self.driver.describe(con, ref)) is not None:
            return described[1]
        if not self.dialect.comment_get_sql:
            return None
        rows = self.driver.execute(con, self.dialect.comment_get_sql, [ref.schema, ref.table])
        return rows[0][0] if rows else None

    def _comment(self, text: str) -> str:
        """``text`` if it is safe in a SQL literal and short enough for the database (zipped if
        that makes it fit), else ''."""
        limit = self.dialect.comment_max
        if re.fullmatch(r"[\w+/=:.-]*", text, re.ASCII) is None:
            return ""
        if limit is None or len(text) <= limit:
            return text
        text = zip_schema(text)
        return text if len(text) <= limit else ""

    def _schema_text(
        self, ref: TableRef, schema: Any, dictionaries: dict[str, Any], *, named: bool = False
    ) -> str:
        """The comment that keeps ``schema`` (:data:`OWNED` if it does not fit: the table is
        still wharf's); a refusal when what only the comment keeps is a pandas index or column
        labels (dropping it would lose them). ``named``: the table keeps names of someone
        else's (:meth:`_keeps_names`), and the comment names the columns lower-cased, as they
        load (no comment if it does not fit: the table stays someone else's)."""
        if named:
            schema, dictionaries = lowered_names((schema, dictionaries))
        text = self._comment(encode_schema(schema, dictionaries))
        if text or not (lost := pandas_needs(schema)):
            return text or ("" if named else OWNED)
        msg = (
            f"{self.name} could not write table {self.location(ref)}: the written schema, which "
            f"keeps {lost}, does not fit in a table comment of at most "
            f"{self.dialect.comment_max} characters even zipped; store fewer columns, or "
            "df.reset_index() and plain string column labels"
        )
        raise StorageError(msg, expected="a schema that fits in the table comment", got=lost)

    def _keeps_names(self, con: Any, ref: TableRef) -> bool:
        """Whether a whole-table replace of ``ref`` keeps the table's column names (which the
        caller mapped to, :meth:`stored_names`): it exists, wharf did not write it, and its
        column names load lower-cased (:attr:`column_names`)."""
        if self.column_names == "exact" or not (existing := self._columns(con, ref)):
            return False
        return not _written(self._comment_text(con, ref), existing)[1]

    def _set_comment(self, con: Any, ref: TableRef, text: str) -> None:
        if self.dialect.comment_set_sql:
            text, sql = self._comment(text) or OWNED, self.dialect.comment_set_sql
            self._run(con, sql, target=self._target(ref), text=text, target_text=self._literal(ref))

    def _columns(self, con: Any, ref: TableRef) -> list[str]:
        if (described := self.driver.describe(con, ref)) is not None:
            return described[0]
        rows = self.driver.execute(con, self.dialect.columns_sql, [ref.schema, ref.table])
        return [row[0] for row in rows]

    def _run(self, con: Any, sql: str, params: list[Any] | None = None, **parts: str) -> Any:
        return self.driver.execute(con, sql.format(**parts), params or [])

    def _target(self, ref: TableRef) -> str:
        if not self.dialect.schemas:
            return self.dialect.quote_name(self._table_name(ref))
        return f"{self._schema(ref.schema)}.{self.dialect.quote_name(ref.table)}"

    def _table_name(self, ref: TableRef) -> str:
        """The table's own name: ``table``, or ``schema.table`` where there are no schemas."""
        return ref.table if self.dialect.schemas else f"{ref.schema}.{ref.table}"

    def _literal(self, ref: TableRef) -> str:
        """The table's own name as a SQL string literal (quotes doubled; NUL refused)."""
        return "'" + check_name(self._table_name(ref), "SQL").replace("'", "''") + "'"

    def _schema(self, schema: str) -> str:
        """The quoted schema name, with its catalog where the dialect asks for it."""
        quoted = self.dialect.quote_name(schema)
        if self.dialect.qualify_catalog and self.catalog:
            return f"{self.dialect.quote_name(self.catalog)}.{quoted}"
        return quoted

    def _errors(self) -> tuple[type[BaseException], ...]:
        return (*self.driver.errors(), require("pyarrow").ArrowException)

    @contextmanager
    def _session(self, action: str, tap: _Tap | _Native | None = None) -> Iterator[Any]:
        message = f"{self.name} could not {action} (database {self.database})"
        with store_errors(message, self._errors, lambda: tap.error if tap else None):
            con = self.connect()
            try:
                yield con
            finally:
                self.driver.close(con)

    def connect(self, *, reading: bool = False) -> Any:
        """A new connection (the caller closes it), retrying with capped exponential back-off
        while another process holds the database's lock; ``reading``: for an operation that
        writes nothing."""
        deadline = time.monotonic() + self.lock_timeout
        opener = partial(self.driver.connect, reading=reading)
        turns, last = Turns(self.database), None
        if self.lock_timeout <= 0 or not turns.waiting():
            try:
                return opener()
            except self.driver.errors() as exc:
                if self.driver.lock_holder(exc) is None or self.lock_timeout <= 0:
                    raise
                last = exc
        with turns.ticket() as first:  # first come, first served (wharf._stores.turns)
            delay = 0.005
            while True:
                if first():
                    try:
                        return opener()
                    except self.driver.errors() as exc:
                        if self.driver.lock_holder(exc) is None:
                            raise
                        last = exc
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._locked(last)
                time.sleep(min(delay * random.uniform(0.5, 1.0), left))
                delay = min(delay * 2, 0.05)

    def _locked(self, exc: BaseException | None) -> StoreLockedError:
        """The error for a lock wait that ran out, naming the holder when known."""
        holder = self.driver.lock_holder(exc) if exc is not None else None
        holder = holder or "the wharf processes queued before this one"
        msg = (
            f"the {self.name} database {self.database} is locked by {holder}; gave "
            f"up after {self.lock_timeout:g} s (raise lock_timeout to wait longer)"
        )
        error = StoreLockedError(msg, expected="an unlocked database", got=holder)
        error.__cause__ = exc
        return error


class SqlReading:
    """Reads of one table of a :class:`SqlStore` on one connection (:meth:`SqlStore.reading`):
    the table's columns and written schema are looked up once, each read is one query. Reads
    run one after another: a read's stream is done (or closed) before the next read starts.
    The connection closes once the session is closed and every stream it gave is done; one
    given away by :meth:`query` is the caller's."""

    def __init__(
        self, store: SqlStore, ref: TableRef, con: Any, info: tuple[list[str], Any, bool],
        message: str,
    ) -> None:  # fmt: skip
        self._store, self.ref, self._con, self._message = store, ref, con, message
        self._info = info  # the table's columns, written schema, and whether wharf wrote it
        self._existing = info[0]
        self._users = 1  # the session itself, then one per stream not yet done
        self._schema: Any = None
        self._closed = False
        self._open: Any = None  # the driver's stream of the last read

    @property
    def schema(self) -> Any:
        """The table's Arrow schema (as written, where the table comment keeps it); no rows
        (one query that selects none, on this connection, unless the written schema's types
        all come back as written: the schema of a many-partition load is its rows' query)."""
        if self._schema is None:
            _, _, stored, _ = self._store._bound_select(self.ref, *self._info, None, None)
            if stored is not None and all(_comes_back(f.type) for f in stored[0]):
                self._schema = stored[0]  # what the read restores: every type as written
                return self._schema
            nothing = PartitionFilter(self._existing[0], values=())
            reader = self.read(partition=nothing)
            reader.read_all()  # no rows: drained, so the driver's cursor closes now
            self._schema = reader.schema
        return self._schema

    def read(
        self,
        *,
        columns: Sequence[str] | None = None,
        partition: Partition | None = None,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        """Stream the rows of ``partition`` (``columns``, at most ``limit`` rows)."""
        store = self._store
        self._finish_open()
        with store_errors(self._message, store._errors):
            sql, params, stored, lowered = store._bound_select(
                self.ref, *self._info, columns, partition
            )
            if limit is not None:
                sql += f" LIMIT {_row_limit(limit)}"
            batches = store.driver.fetch(self._con, sql, params, store.batch_size)
        self._users += 1
        self._open = batches  # closed by the next read if not done: DuckDB refuses a query
        # while a result is open
        if lowered:
            batches = _lowered(batches)
        if stored is None:
            schema, rows = batches.schema, iter(batches)
        else:
            schema = _restored_schema(batches.schema, stored)
            rows = _restored(batches, schema, stored[1])
        return stream(schema, rows, self._release, self._message, store._errors)

    def query(
        self, *, columns: Sequence[str] | None = None, partition: Partition | None = None
    ) -> tuple[Any, str, list[object]]:
        """The connection, given away (the caller closes it), and the bound ``SELECT`` of a
        read, for a lazy value of the database's own on it."""
        self._finish_open()
        with store_errors(self._message, self._store._errors):
            sql, params, _, _ = self._store._bound_select(self.ref, *self._info, columns, partition)
        self._users += 1  # never released here: the caller's now
        return self._con, sql, params

    def read_native(
        self, *, columns: Sequence[str] | None = None, partition: Partition | None = None
    ) -> Any:
        """The database's own lazy value (a DuckDB relation) on the rows of ``partition``, on
        this connection (which it keeps)."""
        native = getattr(self._store, "native_value", None)
        if native is None:
            msg = f"{self._store.name} has no lazy values of its own to read {self.ref.display()}"
            raise StorageError(msg, expected="a store with NativeTables", got=self._store.name)
        return native(*self.query(columns=columns, partition=partition))

    def close(self) -> None:
        """End the session; the connection closes when its last stream is done."""
        if not self._closed:
            self._closed = True
            self._release()

    def _finish_open(self) -> None:
        """Close the stream of the read before, if it was not read to its end."""
        if self._open is not None:
            with suppress(*self._store._errors()):
                self._open.close()
            self._open = None

    def _release(self) -> None:
        self._users -= 1
        if self._users == 0:
            self._store.driver.close(self._con)


def _written(text: object, existing: list[str]) -> tuple[Any, bool]:
    """The written schema a table's comment ``text`` keeps (None if none fits its columns
    ``existing``) and whether wharf's names are the table's (a table wharf wrote). A table whose
    names wharf kept when it replaced it (:meth:`SqlStore._keeps_names`, Dagster's upper-case)
    has a schema naming its columns lower-cased: it loads lower-cased, with the written types.

    Examples:
        >>> import pyarrow as pa
        >>> from wharf._stores.schema_codec import encode_schema
        >>> text = encode_schema(pa.schema([("owner", pa.string())]), {})
        >>> [(s is not None, ours) for s, ours in [_written(text, ["owner"]),
        ...  _written(text, ["OWNER"]), _written("a note", ["OWNER"])]]
        [(True, True), (True, False), (False, False)]
    """
    stored = decode_schema(text, existing)
    lowered = [c.lower() for c in existing]
    if stored is None and lowered != existing and (named := decode_schema(text, lowered)):
        return named, False
    return stored, is_ours(text)


def _is_reader(data: object) -> bool:
    pa = require("pyarrow", purpose="SQL stores")
    return isinstance(data, pa.RecordBatchReader)


class _Native:
    """A value the database may read itself; rows are counted once staged."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.rows: int | None = None
        self.error: BaseException | None = None
        self.dictionaries: dict[str, Any] = {}
        self.schema: Any = None

    def attach(self, con: Any, name: str, store: SqlStore, beside: TableRef) -> str | None:
        src = store.driver.attach_native(con, name, self.value)
        if src is not None:
            self.schema = store.driver.fetch(con, f"SELECT * FROM {src} LIMIT 0", [], 1).schema
        return src

    def detach(self, con: Any, name: str, store: SqlStore, beside: TableRef) -> None:
        store.driver.detach(con, name, beside)


class _Staged(_Native):
    """A :class:`StagedTable`: its rows are counted as it is attached, and it is dropped after."""

    def __init__(self, staged: StagedTable, quoted: str) -> None:
        super().__init__(staged)
        self.schema, self._quoted, self._columns = staged.schema, quoted, staged.columns

    def attach(self, con: Any, name: str, store: SqlStore, beside: TableRef) -> str:
        count = store.dialect.count_sql.format(target=self._quoted, where="TRUE")
        self.rows = store.driver.execute(con, count, [])[0][0]
        if all(a == b for a, b in self._columns.items()):
            return self._quoted
        q = store.dialect.quote_name  # its columns under the target's names (StagedTable.renamed)
        renamed = ", ".join(f"{q(old)} AS {q(new)}" for new, old in self._columns.items())
        return f"(SELECT {renamed} FROM {self._quoted})"

    def detach(self, con: Any, name: str, store: SqlStore, beside: TableRef) -> None:
        store.driver.execute(con, store.dialect.drop_sql.format(target=self._quoted), [])


class _Tap:
    """Passes the incoming stream through once: counts rows, notes the dictionaries of
    categorical columns, casts to storage types and remembers an exception of the source."""

    def __init__(self, reader: Any, dialect: Dialect) -> None:
        pa = require("pyarrow", purpose="SQL stores")
        self.schema, self._source, self._dialect = reader.schema, reader, dialect
        self.storage = pa.schema([f.with_type(dialect.storage_type(f.type)) for f in self.schema])
        self.rows: int | None = 0
        self.error: BaseException | None = None
        self._notes = DictionaryNotes(self.schema)
        self.dictionaries = self._notes.dictionaries

    def attach(self, con: Any, name: str, store: SqlStore, beside: TableRef) -> str | None:
        return store.driver.attach(con, name, self.reader(), beside)

    def detach(self, con: Any, name: str, store: SqlStore, beside: TableRef) -> None:
        store.driver.detach(con, name, beside)

    def reader(self) -> pa.RecordBatchReader:
        pa = require("pyarrow")
        return pa.RecordBatchReader.from_batches(self.storage, self._batches())

    def _batches(self) -> Iterator[pa.RecordBatch]:
        source = iter(self._source)
        same = self.storage.equals(self.schema)
        while True:
            try:
                batch = next(source)
            except StopIteration:
                return
            except BaseException as exc:
                self.error = exc
                raise
            self._notes.see(batch)
            self.rows = (self.rows or 0) + batch.num_rows
            try:
                out = batch if same else to_storage(batch, self.storage)
                check_floats(self._dialect, out)
            except StorageError as exc:  # a value the database cannot keep: the cause to report
                self.error = exc
                raise
            yield out


def _comes_back(arrow_type: Any) -> bool:
    """Whether a column written as ``arrow_type`` reads back as it (:func:`restorable`) from
    whatever type of its family the database returns: flat numbers, text, bytes, dates and
    times, decimals, nulls, and dictionaries of those; nested and other types are read."""
    pa = require("pyarrow")
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    t = pa.types
    flat = (
        t.is_null, t.is_boolean, t.is_integer, t.is_floating, t.is_string, t.is_large_string,
        t.is_binary, t.is_large_binary, t.is_date, t.is_time, t.is_timestamp, t.is_decimal,
        getattr(t, "is_string_view", None), getattr(t, "is_binary_view", None),
    )  # fmt: skip
    return any(check is not None and check(arrow_type) for check in flat)


def _restored_schema(got: Any, stored: Any) -> Any:
    """The schema a read returns: the fetched columns typed as written (``stored``)."""
    pa = require("pyarrow")
    fields = [restorable(f, stored[0].field(f.name)) for f in got]
    return pa.schema(fields, metadata=stored[0].metadata)


def _lowered(batches: Any) -> Any:
    """``batches`` with lower-cased column names."""
    pa = require("pyarrow")
    names = [n.lower() for n in batches.schema.names]
    schema = pa.schema([f.with_name(n) for f, n in zip(batches.schema, names, strict=True)])
    renamed = (b.rename_columns(names) for b in batches)
    return pa.RecordBatchReader.from_batches(schema, renamed)


def _restored(batches: Any, schema: Any, dictionaries: dict[str, Any]) -> Iterator[Any]:
    """The fetched batches in the written schema; a table of no rows still yields one empty
    batch, which carries the written dictionaries (the declared categories)."""
    empty = True
    for batch in batches:
        empty = False
        yield restore(batch, schema, dictionaries)
    if empty:
        yield empty_batch(schema, dictionaries)


class _How:
    """What a write does with the stored rows: its mode and merge keys."""

    def __init__(self, mode: str, keys: tuple[str, ...]) -> None:
        self.mode, self.keys = mode, keys

    def doing(self, partition: object) -> str:
        """The write in words, for messages: ``merge into a partition of``."""
        verb = {"replace": "write", "append": "append to", "merge": "merge into"}[self.mode]
        if self.mode == "replace":
            return "write a partition of"
        return f"{verb} a partition of" if partition else verb
