"""Definitions: validation at construction, lookups, materialize, load_asset_value."""

from pathlib import Path

import pytest

import wharf as dg
from wharf.errors import UnknownAssetError


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset(io_manager_key="mem")
def total(numbers: list[int]) -> int:
    return sum(numbers)


def test_definitions_accepts_dagster_arguments() -> None:
    defs = dg.Definitions(
        assets=[numbers, total],
        resources={"mem": dg.InMemoryIOManager()},
        schedules=[],
        sensors=[],
        jobs=[],
        metadata={"team": "data"},
    )
    assert defs.get_assets_def("total") is total
    assert defs.get_assets_def(dg.AssetKey("numbers")) is numbers
    with pytest.raises(UnknownAssetError, match="no asset 'nope'") as info:
        defs.get_assets_def("nope")
    assert isinstance(info.value, KeyError)


def test_load_asset_value_after_materialize_uses_each_assets_io_manager() -> None:
    defs = dg.Definitions(assets=[numbers, total], resources={"mem": dg.InMemoryIOManager()})
    assert defs.materialize().success
    # numbers went to the default FilesystemIOManager, total to the in-memory one
    assert defs.load_asset_value("numbers") == [1, 2, 3]
    assert defs.load_asset_value(dg.AssetKey("total")) == 6
    # a fresh Definitions (as in a new process) still reads the filesystem-stored value
    again = dg.Definitions(assets=[numbers])
    assert again.load_asset_value("numbers") == [1, 2, 3]


def test_load_asset_value_of_never_materialized_asset() -> None:
    defs = dg.Definitions(assets=[numbers])
    with pytest.raises(FileNotFoundError, match="'numbers' has no stored value"):
        defs.load_asset_value("numbers")


def test_definitions_materialize_selection() -> None:
    ran: list[str] = []

    @dg.asset
    def a() -> int:
        ran.append("a")
        return 1

    @dg.asset
    def b(a: int) -> int:
        ran.append("b")
        return a + 1

    defs = dg.Definitions(assets=[a, b], resources={"io_manager": dg.InMemoryIOManager()})
    assert defs.materialize(selection=["a"]).success
    assert ran == ["a"]


def test_load_asset_value_of_an_asset_spec(tmp_path: Path) -> None:
    io = dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))

    @dg.asset(name="made_elsewhere")
    def producer() -> list[int]:
        return [1, 2]

    assert dg.materialize([producer], resources={"io_manager": io}).success
    defs = dg.Definitions(assets=[dg.AssetSpec("made_elsewhere")], resources={"io_manager": io})
    assert defs.load_asset_value("made_elsewhere") == [1, 2]
    with pytest.raises(UnknownAssetError, match="is an AssetSpec"):
        defs.get_assets_def("made_elsewhere")
