"""Input managers: ``AssetIn(input_manager_key=)`` loads an input through another manager than
the one that stored the upstream asset; ``InputManager`` and ``@input_manager`` define one.

Written from the input-manager section of Dagster's I/O-manager page: the named manager's
``load_input`` is called (the upstream's is not), with the input's name and the upstream's
output context; a missing input manager is an error before anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import wharf as dg
from wharf.errors import MissingResourceError


class Recording(dg.IOManager):
    def __init__(self) -> None:
        self.values: dict[dg.AssetKey, Any] = {}
        self.loads: list[str] = []

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.values[context.asset_key] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        self.loads.append(context.asset_key.to_user_string())
        return self.values[context.asset_key]


def test_an_input_manager_class_loads_the_input_as_numpy(tmp_path: Path) -> None:
    """The docs' numpy loader: the upstream is a frame stored by the default manager; the
    downstream asset gets an array from the input manager, which reads the upstream's key."""
    csv = tmp_path / "frames"
    csv.mkdir()
    calls: list[tuple[str, str, str]] = []

    class CsvIOManager(dg.IOManager):
        def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
            obj.to_csv(csv / f"{context.asset_key.path[-1]}.csv", index=False)

        def load_input(self, context: dg.InputContext) -> pd.DataFrame:
            return pd.read_csv(csv / f"{context.asset_key.path[-1]}.csv")

    class NumpyLoader(CsvIOManager):
        def load_input(self, context: dg.InputContext) -> np.ndarray:
            up = context.upstream_output
            assert up is not None
            calls.append((context.name, up.asset_key.to_user_string(), up.name))
            return np.genfromtxt(csv / f"{context.asset_key.path[-1]}.csv", delimiter=",",
                                 skip_header=1)  # fmt: skip

    @dg.asset
    def upstream_asset() -> pd.DataFrame:
        return pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})

    @dg.asset(
        ins={"upstream": dg.AssetIn(key="upstream_asset", input_manager_key="numpy_manager")},
        io_manager_key="memory",
    )
    def downstream_asset(upstream: np.ndarray) -> float:
        assert isinstance(upstream, np.ndarray)
        return float(upstream.sum())

    defs = dg.Definitions(
        assets=[upstream_asset, downstream_asset],
        resources={
            "io_manager": CsvIOManager(),
            "numpy_manager": NumpyLoader(),
            "memory": dg.InMemoryIOManager(),
        },
    )
    result = defs.materialize()
    assert result.success
    assert result.output_for_node("downstream_asset") == 10.0
    assert calls == [("upstream", "upstream_asset", "result")]
    loaded = [e for e in result.all_events if e.event_type_value == "LOADED_INPUT"]
    assert [e.event_specific_data.manager_key for e in loaded] == ["numpy_manager"]


def test_input_manager_decorator_loads_without_calling_the_upstream_manager() -> None:
    io = Recording()

    @dg.input_manager
    def table_1_manager(context: dg.InputContext) -> list[int]:
        return [10, 20, context.asset_key.path[-1] == "raw"]

    @dg.asset
    def raw() -> list[int]:
        return [1]

    @dg.asset(ins={"raw": dg.AssetIn(input_manager_key="table_1")})
    def uses(raw: list[Any]) -> list[Any]:
        return raw

    result = dg.materialize([raw, uses], resources={"io_manager": io, "table_1": table_1_manager})
    assert result.success
    assert io.values[dg.AssetKey("uses")] == [10, 20, True]
    assert io.loads == []  # the upstream's manager never loaded 'raw' for 'uses'


def test_an_input_manager_subclass_of_input_manager_needs_no_handle_output() -> None:
    class Constant(dg.InputManager):
        def load_input(self, context: dg.InputContext) -> int:
            return 7

    @dg.asset(ins={"n": dg.AssetIn("elsewhere", input_manager_key="constant")})
    def seven(n: int) -> int:
        return n

    elsewhere = dg.AssetSpec("elsewhere")
    result = dg.materialize([elsewhere, seven],
                            resources={"constant": Constant(), "io_manager": Recording()})  # fmt: skip
    assert result.output_for_node("seven") == 7


def test_a_missing_input_manager_is_an_error_before_anything_runs() -> None:
    ran: list[str] = []

    @dg.asset
    def raw() -> int:
        ran.append("raw")
        return 1

    @dg.asset(ins={"raw": dg.AssetIn(input_manager_key="nowhere")})
    def uses(raw: int) -> int:
        return raw

    with pytest.raises(MissingResourceError, match=r"asset 'uses' needs the input_manager_key "
                       r"'nowhere'"):  # fmt: skip
        dg.materialize([raw, uses], resources={"io_manager": Recording()})
    assert ran == []
