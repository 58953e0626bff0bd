"""Definitions before resources: a module may build ``Definitions`` whose resources a test
binds later; a missing resource is still an error before any asset runs when the definitions
are run (``materialize``), validated (``Definitions.validate_loadable``) or loaded by the CLI
(``wharf list``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import wharf as dg
from wharf.cli.main import main
from wharf.errors import MissingResourceError

RAN: list[str] = []


@dg.asset(io_manager_key="warehouse")
def orders() -> list[int]:
    RAN.append("orders")
    return [1, 2]


@dg.asset
def order_count(orders: list[int]) -> int:
    return len(orders)


defs = dg.Definitions(assets=[orders, order_count])  # built at import, no warehouse yet


def test_a_test_binds_the_resources_later() -> None:
    warehouse = dg.InMemoryIOManager()
    result = dg.materialize(defs.assets, resources={"warehouse": warehouse})
    assert result.output_for_node("order_count") == 2
    assert warehouse.values == {("orders",): [1, 2]}


def test_a_missing_resource_is_an_error_before_anything_runs() -> None:
    RAN.clear()
    with pytest.raises(MissingResourceError, match=r"asset 'orders' needs the io_manager_key "
                       r"'warehouse'"):  # fmt: skip
        defs.materialize()
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="'warehouse'"):
        dg.Definitions.validate_loadable(defs)
    assert RAN == []


def test_a_resource_an_io_manager_requires_is_checked_by_validate_loadable() -> None:
    @dg.io_manager(required_resource_keys={"conn"})
    def needs_conn(_init_context: object) -> dg.InMemoryIOManager:
        return dg.InMemoryIOManager()

    later = dg.Definitions(assets=[order_count, orders],
                           resources={"warehouse": needs_conn})  # fmt: skip
    with pytest.raises(MissingResourceError, match=r"'warehouse' requires the resource 'conn'"):
        dg.Definitions.validate_loadable(later)


def test_wharf_list_reports_the_missing_resource(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WHARF_HOME", str(tmp_path / "home"))
    (tmp_path / "later.py").write_text(
        textwrap.dedent("""
        import wharf as dg

        @dg.asset(io_manager_key="warehouse")
        def orders() -> list[int]:
            return [1, 2]

        defs = dg.Definitions(assets=[orders])
    """)
    )
    assert main(["list", "-f", "later.py"]) == 2
    err = capsys.readouterr().err
    assert "needs the io_manager_key 'warehouse'" in err
    assert "Traceback" not in err
