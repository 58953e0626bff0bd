"""Asset keys and the rule that keeps names safe as paths and table names."""

import pytest

import wharf as dg
from wharf.errors import DefinitionError, UnsafeNameError

UNSAFE = ["..", ".", "", "a/b", "a\\b", "nul\x00byte", "tab\there"]


def test_asset_key_forms_and_equality() -> None:
    key = dg.AssetKey(["warehouse", "sales"])
    assert key == dg.AssetKey(("warehouse", "sales"))
    assert key != dg.AssetKey("sales")
    assert key.path == ("warehouse", "sales")
    assert key.to_user_string() == "warehouse/sales"
    assert str(key) == "warehouse/sales"
    assert key.to_string() == '["warehouse", "sales"]'
    assert key.to_python_identifier() == "warehouse__sales"
    assert repr(key) == "AssetKey(['warehouse', 'sales'])"
    assert dg.AssetKey.from_user_string("warehouse/sales") == key
    assert dg.AssetKey("sales").with_prefix("warehouse") == key
    assert key.parent == dg.AssetKey("warehouse")
    assert len({key, dg.AssetKey(["warehouse", "sales"])}) == 1
    assert sorted([dg.AssetKey("b"), dg.AssetKey("a")]) == [dg.AssetKey("a"), dg.AssetKey("b")]


@pytest.mark.parametrize("part", UNSAFE)
def test_unsafe_key_part_is_rejected(part: str) -> None:
    with pytest.raises(UnsafeNameError) as info:
        dg.AssetKey(["ok", part])
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, DefinitionError)
    assert repr(part) in str(info.value)
    assert "unsafe as a path or table name" in str(info.value)


def test_empty_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one name part"):
        dg.AssetKey([])


def test_non_string_part_is_rejected() -> None:
    with pytest.raises(UnsafeNameError, match="must be a string, got int"):
        dg.AssetKey(["a", 1])  # type: ignore[list-item]
