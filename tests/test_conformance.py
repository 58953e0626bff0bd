"""Every store row x every frame type x every check of the conformance suite."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.object_stores.fixtures import azure_server, cloud_env, gcs_server, s3_server
from tests.postgres.fixtures import postgres_server
from tests.spark.fixtures import spark
from tests.warehouse_fixtures import bigquery_server, fakesnow_server, shared_server, warehouse_env
from wharf._stores.base import TableRef
from wharf.testing.conformance import CHECKS, FRAME_KINDS, Check, FrameKind, StoreCase
from wharf.testing.frames import REFERENCE_KIND, frame_kind
from wharf.testing.properties import PROPERTY_CHECKS
from wharf.testing.stores import LOCAL_STORES, OBJECT_STORES, SERVER_STORES, SQL_STORES, known_gaps

__all__ = [  # server rows' fixtures, and the SparkSession of the pyspark frame kind
    "azure_server", "bigquery_server", "cloud_env", "fakesnow_server", "gcs_server", "s3_server",
    "warehouse_env", "postgres_server", "spark",
]  # fmt: skip


def _gaps(store: StoreCase, check: Check) -> list[pytest.MarkDecorator]:
    """A known gap is an xfail (strict, with the exception it raises), chosen by capability;
    so is a check needing a capability the store lacks (``StoreCase.lacks`` names the
    exception), never a silent drop."""
    marks = [
        pytest.mark.xfail(strict=True, raises=raises, reason=f"{store.name}: {trait}")
        for trait, raises in known_gaps(store, check.name)
    ]
    for need in sorted(check.needs - store.capabilities):
        if need not in store.lacks:
            msg = (
                f"conformance row {store.name!r} neither has the capability {need!r} that check "
                f"{check.name!r} needs nor names, in StoreCase.lacks, the exception it raises"
            )
            raise LookupError(msg)
        reason = f"{store.name} lacks {need} (raises {store.lacks[need].__name__})"
        marks.append(pytest.mark.xfail(strict=True, raises=store.lacks[need], reason=reason))
    return marks


CASES = [
    pytest.param(
        store, check, kind, id=f"{store.name}-{check.name}-{kind.name}", marks=_gaps(store, check)
    )
    for store in (*LOCAL_STORES, *OBJECT_STORES, *SERVER_STORES)
    for check in (*CHECKS, *PROPERTY_CHECKS)
    for kind in (FRAME_KINDS if check.per_kind else (frame_kind(REFERENCE_KIND),))
    if kind.runs(check.name)
]


@pytest.fixture(scope="session")
def store_servers() -> Iterator[Callable[[StoreCase], Any]]:
    """The test server of a store row without a fixture of its own (``StoreCase.server``),
    started on first use and stopped when the session ends."""
    running: dict[str, tuple[Any, Iterator[Any]]] = {}

    def server(store: StoreCase) -> Any:
        assert store.server is not None
        if store.name not in running:
            users = shared_server(store.name, store.server)
            running[store.name] = (next(users), users)
        return running[store.name][0]

    yield server
    for _, users in running.values():
        next(users, None)  # the last user: stops it


@pytest.mark.parametrize(("store", "check", "kind"), CASES)
def test_conformance(
    store: StoreCase, check: Check, kind: FrameKind, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for used in FRAME_KINDS if check.reads_every_kind else (kind,):
        if used.fixture is not None:  # the SparkSession: started once, stopped at the end
            request.getfixturevalue(used.fixture)
    check.run(_on_its_server(store, request), kind, tmp_path)


def _on_its_server(store: StoreCase, request: pytest.FixtureRequest) -> StoreCase:
    """``store``, its managers built on its test server if it has one (started on first use)."""
    if store.fixture is None and store.server is None:
        return store
    if store.fixture is not None:
        server = request.getfixturevalue(store.fixture)
    else:
        server = request.getfixturevalue("store_servers")(store)
    return dataclasses.replace(store, io_manager=functools.partial(store.io_manager, server=server))


@pytest.mark.parametrize("store", SQL_STORES, ids=[s.name for s in SQL_STORES])
def test_a_staged_table_a_killed_writer_left_is_swept(
    store: StoreCase, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A table a user's type handler staged (``SqlStore.stage``) and a killed writer never
    moved is dropped by a later staging in its schema once ``stale_after`` old, on every SQL
    store (each dialect lists a schema's tables: ``Dialect.tables_sql``)."""
    io = _on_its_server(store, request).io_manager(tmp_path)
    tables, schema = io.table_store(), io.default_schema() or "public"
    ref = TableRef(schema, "t")

    def fill(con: Any, staged: TableRef) -> None:
        for sql in ("CREATE TABLE {t} (a INTEGER)", "INSERT INTO {t} (a) VALUES (7)"):
            tables.driver.execute(con, sql.format(t=tables.location(staged)), [])

    tables.write(ref, pa.table({"a": [0]}))  # the schema (BigQuery: dataset) exists
    left = tables.stage(schema, fill)  # as a writer killed before its write leaves it
    assert tables.exists(left.ref)
    tables.write(ref, tables.stage(schema, fill))  # a fresh one may be a live writer's: kept
    assert tables.exists(left.ref)
    tables.stale_after = 0.0
    tables.write(ref, tables.stage(schema, fill))
    assert not tables.exists(left.ref)
    assert tables.read(ref).read_all().column(0).to_pylist() == [7]


def test_a_missing_capability_is_a_strict_xfail_naming_its_exception() -> None:
    check = Check("needs_x", lambda *_: None, needs=frozenset({"x"}))
    lacking = StoreCase("toy", lambda tmp: None, lacks={"x": NotImplementedError})
    (mark,) = _gaps(lacking, check)
    assert mark.kwargs["strict"] is True
    assert mark.kwargs["raises"] is NotImplementedError
    assert "NotImplementedError" in mark.kwargs["reason"]
    with pytest.raises(LookupError, match="'x'"):
        _gaps(StoreCase("toy", lambda tmp: None), check)
