"""Three behaviours where wharf used to differ from Dagster, each as Dagster 1.13 behaves.

Dagster's docs are silent on all three; each test's docstring says what Dagster 1.13.29 did with
the same code in a scratch environment (``import dagster as dg`` in place of ``import wharf``).
"""

import pytest

import wharf as dg


def test_an_asset_yielding_materialize_result_is_iterated() -> None:
    """Dagster 1.13: a generator asset that yields ``MaterializeResult(metadata=...)`` succeeds;
    the run has one ``ASSET_MATERIALIZATION`` carrying that metadata, the I/O manager is not
    called (no ``HANDLED_OUTPUT``), and nothing is stored for the asset."""
    seen: list[str] = []

    @dg.asset
    def written_elsewhere():
        seen.append("ran")
        yield dg.MaterializeResult(metadata={"rows": 3})

    result = dg.materialize_to_memory([written_elsewhere])
    assert result.success
    assert seen == ["ran"]
    types = [e.event_type_value for e in result.all_events]
    assert "HANDLED_OUTPUT" not in types
    (mat,) = result.asset_materializations_for_node("written_elsewhere")
    assert mat.metadata["rows"].value == 3


def test_a_typed_materialize_result_without_a_value_fails_the_type_check() -> None:
    """Dagster 1.13: ``-> MaterializeResult[int]`` returning ``MaterializeResult()`` raises
    ``DagsterTypeCheckDidNotPass`` ("expected type Int") out of ``materialize``; with
    ``raise_on_error=False`` the step fails. A bare ``-> MaterializeResult`` passes."""

    @dg.asset
    def promised() -> dg.MaterializeResult[int]:
        return dg.MaterializeResult()

    with pytest.raises(dg.DagsterTypeCheckDidNotPass, match=r"promised.*MaterializeResult\[int\]"):
        dg.materialize_to_memory([promised])
    result = dg.materialize_to_memory([promised], raise_on_error=False)
    assert not result.success
    assert result.get_failed_step_keys() == {"promised"}

    @dg.asset
    def untyped() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"n": 1})

    assert dg.materialize_to_memory([untyped]).success


def test_asset_in_by_name_resolves_to_the_prefixed_asset_of_the_same_group() -> None:
    """Dagster 1.13: ``AssetIn("b_df")`` in an asset with ``key_prefix=["my_schema"]`` keeps the
    key ``b_df`` on the definition (``keys_by_input_name``), and the run loads ``my_schema/b_df``:
    a one-part key that names no asset resolves to the one asset of the same group whose key
    ends with that name (whatever its prefix). In another group it is
    ``DagsterInvalidDefinitionError`` ("Input asset ... is not produced by any of the provided
    asset ops")."""

    @dg.asset(key_prefix=["my_schema"])
    def b_df() -> list[int]:
        return [1, 2]

    @dg.asset(key_prefix=["my_schema"], ins={"b_df": dg.AssetIn("b_df")})
    def c_df(b_df: list[int]) -> int:
        return sum(b_df)

    result = dg.materialize_to_memory([b_df, c_df])
    assert result.success
    assert result.asset_value(["my_schema", "c_df"]) == 3
    assert c_df.inputs[0].key == dg.AssetKey("b_df")  # the user's definition is unchanged

    @dg.asset(key_prefix=["other"])
    def d_df() -> int:
        return 5

    @dg.asset(key_prefix=["my_schema"])
    def e_df(d_df: int) -> int:
        return d_df + 1

    assert dg.materialize_to_memory([d_df, e_df]).asset_value(["my_schema", "e_df"]) == 6

    @dg.asset(key_prefix=["x"], group_name="g1")
    def f() -> int:
        return 1

    @dg.asset(key_prefix=["x"], group_name="g2")
    def g(f: int) -> int:
        return f

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="'f'"):
        dg.Definitions(assets=[f, g])
