"""``@multi_asset(check_specs=...)``: the body yields one AssetCheckResult per declared check of
its assets; each is evaluated against its own asset, blocks like an asset's own check, and a
missing or unknown result, or a spec of another asset, is an error naming the multi-asset."""

from __future__ import annotations

import pytest

import wharf as dg
from wharf._core.history import RunHistory
from wharf.errors import DefinitionError

SPECS = [
    dg.AssetCheckSpec("a_has_rows", asset="a"),
    dg.AssetCheckSpec("b_has_rows", asset="b", blocking=True),
]


def two(b_rows: list[int], *, checks: bool = True, can_subset: bool = False) -> dg.AssetsDefinition:
    @dg.multi_asset(
        specs=[dg.AssetSpec("a", skippable=can_subset), dg.AssetSpec("b", skippable=can_subset)],
        check_specs=SPECS,
        can_subset=can_subset,
    )
    def make(context: dg.AssetExecutionContext):
        rows = {"a": [1, 2], "b": b_rows}
        for key in sorted(k.to_user_string() for k in context.selected_asset_keys):
            yield dg.MaterializeResult(asset_key=key, metadata={"rows": len(rows[key])})
            if checks:
                yield dg.AssetCheckResult(
                    asset_key=key, check_name=f"{key}_has_rows", passed=bool(rows[key])
                )

    return make


@dg.asset(deps=["b"])
def after_b() -> int:
    return 1


def test_each_check_is_evaluated_against_its_own_asset() -> None:
    result = dg.materialize([two([3])], resources={"io_manager": dg.InMemoryIOManager()})
    found = {(e.asset_key.to_user_string(), e.check_name): e.passed
             for e in result.get_asset_check_evaluations()}  # fmt: skip
    assert found == {("a", "a_has_rows"): True, ("b", "b_has_rows"): True}
    with RunHistory() as history:
        a = history.last("a#a_has_rows", status=None)
        b = history.last("b#b_has_rows", status=None)
    assert a is not None
    assert b is not None
    assert (a.metadata["passed"], b.metadata["passed"]) == (True, True)


def test_a_failed_blocking_check_skips_what_is_downstream() -> None:
    result = dg.materialize_to_memory([two([]), after_b], raise_on_error=False)
    statuses = {o.step_key: o.status for o in result.outcomes}
    assert statuses == {"make": "failed", "after_b": "skipped"}
    err = str(next(iter(result.failures.values())))
    assert "blocking asset check 'b_has_rows' of asset 'b' did not pass" in err, err
    [failed] = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert (failed.asset_key, failed.check_name) == (dg.AssetKey("b"), "b_has_rows")


def test_a_missing_result_names_the_multi_asset_and_the_check() -> None:
    result = dg.materialize_to_memory([two([3], checks=False)], raise_on_error=False)
    err = str(next(iter(result.failures.values())))
    assert "multi-asset 'make' declares check_specs 'a#a_has_rows', 'b#b_has_rows'" in err, err


def test_a_result_for_an_undeclared_check_is_an_error() -> None:
    @dg.multi_asset(specs=[dg.AssetSpec("a")], check_specs=[SPECS[0]])
    def one():
        yield dg.MaterializeResult(asset_key="a")
        yield dg.AssetCheckResult(asset_key="a", check_name="typo", passed=True)

    result = dg.materialize_to_memory([one], raise_on_error=False)
    err = str(next(iter(result.failures.values())))
    assert "gave a result for check 'a#typo', which is not in its check_specs" in err, err
    assert "expected one of [a#a_has_rows]" in err


def test_a_spec_of_an_asset_it_does_not_make_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match=r"check 'b_has_rows' of asset 'b'.*\['a'\]"):

        @dg.multi_asset(specs=[dg.AssetSpec("a")], check_specs=SPECS)
        def one() -> None: ...

    with pytest.raises(DefinitionError, match="a list of AssetCheckSpec"):

        @dg.multi_asset(specs=[dg.AssetSpec("a")], check_specs=["a_has_rows"])
        def other() -> None: ...


def test_a_subset_needs_only_the_checks_of_its_selected_assets() -> None:
    result = dg.materialize_to_memory([two([3], can_subset=True)], selection=["a"])
    assert result.success
    found = [(e.asset_key.to_user_string(), e.check_name)
             for e in result.get_asset_check_evaluations()]  # fmt: skip
    assert found == [("a", "a_has_rows")]


def test_a_failed_blocking_check_keeps_the_other_evaluations_of_its_step() -> None:
    result = dg.materialize([two([])], resources={"io_manager": dg.InMemoryIOManager()},
                            raise_on_error=False)  # fmt: skip
    found = {(e.asset_key.to_user_string(), e.check_name): e.passed
             for e in result.get_asset_check_evaluations()}  # fmt: skip
    assert found == {("a", "a_has_rows"): True, ("b", "b_has_rows"): False}
    with RunHistory() as history:
        a = history.last("a#a_has_rows", status=None)
    assert a is not None
    assert a.run_id == result.run_id
    assert a.metadata["passed"] is True


def test_a_key_prefix_given_later_prefixes_the_check_specs_and_the_inputs() -> None:
    import types

    module = types.ModuleType("checked_multi")

    @dg.asset
    def raw() -> list[int]:
        return [1, 2, 3]

    @dg.multi_asset(
        specs=[dg.AssetSpec("a"), dg.AssetSpec("b", deps=["raw"])],
        check_specs=[dg.AssetCheckSpec("b_has_rows", asset="b", blocking=True)],
    )
    def make(context: dg.AssetExecutionContext, raw: list[int]):
        for key in sorted(context.selected_asset_keys):
            yield dg.MaterializeResult(asset_key=key, value=len(raw))
        yield dg.AssetCheckResult(check_name="b_has_rows", passed=bool(raw))

    module.raw, module.make = raw, make  # type: ignore[attr-defined]
    loaded = dg.load_assets_from_modules([module], key_prefix="lake")
    (node,) = [item for item in loaded if isinstance(item, type(make))]
    assert [s.asset_key for s in node.check_specs] == [dg.AssetKey(["lake", "b"])]
    assert [i.key for i in node.inputs] == [dg.AssetKey(["lake", "raw"])]
    graph = dg.Definitions(assets=loaded).get_repository_def().asset_graph
    assert dg.AssetKey(["lake", "raw"]) in graph.upstream(dg.AssetKey(["lake", "b"]))
    result = dg.materialize(loaded, resources={"io_manager": dg.InMemoryIOManager()})
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.asset_key, evaluation.check_name) == (
        dg.AssetKey(["lake", "b"]),
        "b_has_rows",
    )
    assert evaluation.passed
