"""The store registry is the one list of table stores: pyproject's extras, the missing-client
error, the conformance rows and the fidelity columns all follow it."""

from __future__ import annotations

import importlib
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from wharf._deps import _store_extra
from wharf._stores.registry import STORES, StoreRow
from wharf.testing.fidelity import PUBLISHED_STORES
from wharf.testing.stores import SQL_STORES

EXTRAS = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"][
    "optional-dependencies"
]


def _dist(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


@pytest.mark.parametrize("row", STORES, ids=lambda row: row.name)
def test_each_store_has_its_extra_and_its_manager(row: StoreRow) -> None:
    wanted = {_dist(r) for r in EXTRAS[row.extra]}
    for client in row.clients:
        dists = {d.lower() for d in packages_distributions()[client.split(".")[0]]}
        assert dists & wanted, f"extra {row.extra!r} installs none of {dists} ({client})"
        assert _store_extra(client) == row.extra
    assert f",{row.extra}," in "," + EXTRAS["all"][0].split("[")[1].rstrip("]") + ","
    assert isinstance(getattr(importlib.import_module(row.module), row.manager), type)


def test_conformance_rows_and_fidelity_columns_come_from_the_registry() -> None:
    names = [row.name for row in STORES]
    assert [case.name for case in SQL_STORES] == names
    assert set(names) <= {case.name for case in PUBLISHED_STORES}


def test_driver_errors_become_storage_errors_naming_the_database(tmp_path: Path) -> None:
    """A driver's own exception never leaks: SQLite on a folder, MySQL on a closed port."""
    from wharf._stores.base import TableRef
    from wharf._stores.mysql import MySQLConnector, mysql_store
    from wharf._stores.sqlite import sqlite_store
    from wharf.errors import StorageError
    from wharf.testing._process import free_port

    with pytest.raises(StorageError, match=r"sqlite could not .*" + re.escape(str(tmp_path))):
        sqlite_store(tmp_path).exists(TableRef("public", "t"))  # a folder, not a database file
    port = free_port()
    closed = mysql_store(MySQLConnector(host="127.0.0.1", port=port, password="s3cret"))
    with pytest.raises(StorageError, match=f"could not connect to MySQL at root@127.0.0.1:{port}"):
        closed.exists(TableRef("public", "t"))
