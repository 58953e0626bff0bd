"""The asset examples of Dagster's I/O-manager page, in our own code: per-asset managers,
definition metadata that names the table, and the page's test manager (keyed by step key and
output name; its unit test with built contexts is in ``tests/_core/test_op_io_docs.py``) used
in asset runs.

What the page says and these tests check: an asset's ``metadata`` reaches ``handle_output`` as
``context.definition_metadata`` and the downstream ``load_input`` as
``context.upstream_output.definition_metadata``; each asset goes to the manager its
``io_manager_key`` names; a multi-asset's outputs share its step key and differ by name.
"""

from __future__ import annotations

from typing import Any

import wharf as dg


class TableIOManager(dg.ConfigurableIOManager):
    """Writes each value to the "table" its metadata names (a dict stands in for the db)."""

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        meta = context.definition_metadata
        TABLES[f"{meta['schema']}.{meta['table']}"] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        up = context.upstream_output
        assert up is not None
        meta = up.definition_metadata
        return TABLES[f"{meta['schema']}.{meta['table']}"]


TABLES: dict[str, Any] = {}


def test_metadata_names_the_table_of_an_asset_and_of_each_multi_asset_output() -> None:
    TABLES.clear()

    @dg.asset(metadata={"schema": "my_schema", "table": "my_table"})
    def my_asset() -> list[int]:
        return [1, 2]

    @dg.multi_asset(
        outs={
            "table1": dg.AssetOut(metadata={"schema": "some_schema", "table": "some_table"}),
            "table2": dg.AssetOut(metadata={"schema": "other_schema", "table": "other_table"}),
        }
    )
    def my_multi_asset() -> tuple[str, str]:
        return "one", "two"

    @dg.asset(io_manager_key="memory")
    def reads_all(my_asset: list[int], table1: str, table2: str) -> str:
        return f"{sum(my_asset)}{table1}{table2}"

    result = dg.materialize([my_asset, my_multi_asset, reads_all],
                            resources={"io_manager": TableIOManager(),
                                       "memory": dg.InMemoryIOManager()})  # fmt: skip
    assert result.success
    assert TABLES == {
        "my_schema.my_table": [1, 2],
        "some_schema.some_table": "one",
        "other_schema.other_table": "two",
    }
    assert result.output_for_node("reads_all") == "3onetwo"


class MyIOManager(dg.IOManager):
    """The page's test manager: values keyed by (step key, output name)."""

    def __init__(self) -> None:
        self.storage_dict: dict[tuple[str | None, str | None], Any] = {}

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.storage_dict[context.step_key, context.name] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        assert context.upstream_output is not None
        return self.storage_dict[context.upstream_output.step_key, context.upstream_output.name]


def test_the_same_manager_in_a_run_keys_multi_asset_outputs_by_step_and_output_name() -> None:
    """In a run, a multi-asset's outputs share its step key and differ by output name."""
    manager = MyIOManager()

    @dg.multi_asset(outs={"left": dg.AssetOut(), "right": dg.AssetOut()})
    def halves() -> tuple[int, int]:
        return 1, 2

    @dg.asset
    def joined(left: int, right: int) -> int:
        return left * 10 + right

    assert dg.materialize([halves, joined], resources={"io_manager": manager}).success
    assert manager.storage_dict == {("halves", "left"): 1, ("halves", "right"): 2,
                                    ("joined", "result"): 12}  # fmt: skip


def test_each_asset_goes_to_the_manager_its_key_names() -> None:
    first, second = MyIOManager(), MyIOManager()

    @dg.asset(io_manager_key="first")
    def upstream_asset() -> list[int]:
        return [1, 2, 3]

    @dg.asset(io_manager_key="second")
    def downstream_asset(upstream_asset: list[int]) -> list[int]:
        return [*upstream_asset, 4]

    defs = dg.Definitions(assets=[upstream_asset, downstream_asset],
                          resources={"first": first, "second": second})  # fmt: skip
    assert defs.materialize().success
    assert first.storage_dict == {("upstream_asset", "result"): [1, 2, 3]}
    assert second.storage_dict == {("downstream_asset", "result"): [1, 2, 3, 4]}
