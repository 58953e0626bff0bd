"""Definitions-time validation of the asset graph: cycles, duplicates, unknown inputs, order."""

import pytest

import wharf as dg
from wharf._core.graph import AssetGraph
from wharf.errors import CycleError, DefinitionError, DuplicateKeyError, UnknownAssetError


def test_toposort_orders_upstream_first_and_ties_by_key() -> None:
    @dg.asset
    def c(b: int) -> int:
        return b

    @dg.asset
    def b(a: int) -> int:
        return a

    @dg.asset
    def a() -> int:
        return 1

    @dg.asset(deps=[a])
    def z() -> None:
        pass

    order = AssetGraph([z, c, b, a]).toposort()
    assert [k.to_user_string() for k in order] == ["a", "b", "c", "z"]


def test_cycle_is_an_error_naming_the_loop() -> None:
    @dg.asset(deps=["b"])
    def a() -> int:
        return 1

    @dg.asset
    def b(a: int) -> int:
        return a

    @dg.asset
    def unrelated() -> int:
        return 0

    with pytest.raises(CycleError) as info:
        dg.Definitions(assets=[unrelated, a, b])
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, DefinitionError)
    assert "cycle" in str(info.value)
    assert "a -> b -> a" in str(info.value)
    with pytest.raises(CycleError):
        dg.materialize([a, b])


def test_asset_depending_on_itself_is_a_cycle() -> None:
    @dg.asset
    def loop(loop: int) -> int:
        return loop

    with pytest.raises(ValueError, match="loop -> loop"):
        dg.Definitions(assets=[loop])


def test_two_assets_with_one_key() -> None:
    @dg.asset(name="sales")
    def first() -> int:
        return 1

    @dg.asset(name="sales")
    def second() -> int:
        return 2

    with pytest.raises(DuplicateKeyError) as info:
        dg.Definitions(assets=[first, second])
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "'sales'" in msg
    assert "first" in msg
    assert "second" in msg
    assert info.value.asset == "sales"


def test_asset_and_spec_with_one_key_are_duplicates() -> None:
    @dg.asset
    def raw() -> int:
        return 1

    with pytest.raises(DuplicateKeyError, match="AssetSpec"):
        dg.Definitions(assets=[raw, dg.AssetSpec("raw")])


def test_parameter_that_names_no_asset() -> None:
    @dg.asset
    def clean(raw_sales: list[int]) -> list[int]:
        return raw_sales

    @dg.asset
    def raw_sale() -> list[int]:
        return []

    with pytest.raises(UnknownAssetError) as info:
        dg.Definitions(assets=[raw_sale, clean])
    msg = str(info.value)
    assert isinstance(info.value, KeyError)
    assert "'clean'" in msg
    assert "'raw_sales'" in msg
    assert "raw_sale" in msg  # the assets that do exist
    assert "deps=" in msg
    assert info.value.asset == "clean"


def test_deps_on_unknown_key_only_orders() -> None:
    @dg.asset(deps=["outside"])
    def a() -> int:
        return 1

    assert AssetGraph([a]).toposort() == [dg.AssetKey("a")]


def test_not_an_asset_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="expected an asset"):
        AssetGraph([lambda: 1])


def test_selection() -> None:
    @dg.asset
    def a() -> int:
        return 1

    @dg.asset(key_prefix="p")
    def b() -> int:
        return 2

    graph = AssetGraph([b, a, dg.AssetSpec("spec")])
    assert graph.resolve_selection(None) == [dg.AssetKey("a"), dg.AssetKey(["p", "b"])]
    assert graph.resolve_selection("p/b") == [dg.AssetKey(["p", "b"])]
    assert graph.resolve_selection([b, dg.AssetKey("a")]) == [
        dg.AssetKey("a"),
        dg.AssetKey(["p", "b"]),
    ]
    with pytest.raises(UnknownAssetError) as info:
        graph.resolve_selection(["nope"])
    assert isinstance(info.value, KeyError)
    assert "'nope'" in str(info.value)
    assert "p/b" in str(info.value)
