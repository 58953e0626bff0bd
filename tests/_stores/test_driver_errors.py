"""Every exception class a SQL store's driver declares (``Driver.errors``) reaches the user as a
:class:`~wharf.errors.StorageError` naming the store and the table, with the client's exception
as its cause; anything else (a bug of wharf's) is not disguised as one. One row per SQL store of
the registry, each against its real engine or test server."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.postgres.fixtures import postgres_server
from tests.warehouse_fixtures import bigquery_server, fakesnow_server, shared_server, warehouse_env
from wharf._stores.base import PartitionFilter, TableRef
from wharf._stores.sql import SqlStore
from wharf.errors import StorageError
from wharf.testing.conformance import StoreCase
from wharf.testing.stores import SQL_STORES

__all__ = ["bigquery_server", "fakesnow_server", "postgres_server", "warehouse_env"]


@pytest.fixture(scope="module")
def servers() -> Iterator[Callable[[StoreCase], Any]]:
    """The test server of a row without a fixture of its own, started on first use."""
    running: dict[str, Iterator[Any]] = {}
    started: dict[str, Any] = {}

    def server(case: StoreCase) -> Any:
        assert case.server is not None
        if case.name not in running:
            running[case.name] = shared_server(case.name, case.server)
            started[case.name] = next(running[case.name])
        return started[case.name]

    yield server
    for users in running.values():
        next(users, None)  # the last user: stops it


@pytest.fixture(params=SQL_STORES, ids=[c.name for c in SQL_STORES])
def manager(request: pytest.FixtureRequest, tmp_path: Path, servers: Any) -> Any:
    """The row's I/O manager on a database (schema, dataset) of this test's own."""
    case: StoreCase = request.param
    if case.fixture is not None:
        return case.io_manager(tmp_path, server=request.getfixturevalue(case.fixture))
    if case.server is not None:
        return case.io_manager(tmp_path, server=servers(case))
    return case.io_manager(tmp_path)


def _instance(cls: type[BaseException]) -> BaseException:
    """An instance of a declared exception class, as its client would raise it."""
    try:
        return cls("raised by the test through the driver")
    except TypeError:  # a class with other required arguments
        return cls.__new__(cls)


def _failing_on_connect(store: SqlStore, exc: BaseException) -> SqlStore:
    """``store`` whose driver (a copy of the real one) raises ``exc`` when it connects."""

    def connect(*, reading: bool = False) -> Any:
        raise exc

    failing = copy.copy(store.driver)
    failing.connect = connect  # type: ignore[method-assign]
    broken = copy.copy(store)
    broken.driver = failing
    return broken


def test_every_declared_driver_error_is_a_storage_error(manager: Any) -> None:
    store: SqlStore = manager.table_store()
    ref = TableRef(manager.default_schema() or "public", "driver_errors")
    store.write(ref, pa.table({"a": [1, 2]}))
    declared = store.driver.errors()
    assert declared, f"{store.name}: its driver declares no exception classes"

    # a real error of the engine, raised by its client through the real driver
    bad = PartitionFilter("a", values=(1,), sql="wharf_no_such_function(a)")
    with pytest.raises(StorageError, match=f"{store.name} could not read table") as real:
        store.read(ref, partition=bad).read_all()
    assert isinstance(real.value.__cause__, declared), real.value.__cause__

    # each declared class, raised where the driver meets the client
    for cls in declared:
        raised = _instance(cls)
        with pytest.raises(StorageError, match=f"{store.name} could not check table") as caught:
            _failing_on_connect(store, raised).exists(ref)
        assert caught.value.__cause__ is raised, cls

    # an exception the client does not raise (a bug of wharf's) is not a storage error
    bug = RuntimeError("a bug, not the database")
    with pytest.raises(RuntimeError) as surfaced:
        _failing_on_connect(store, bug).exists(ref)
    assert surfaced.value is bug
    assert store.exists(ref)  # the real store is untouched
