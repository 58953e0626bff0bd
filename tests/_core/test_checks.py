"""Asset checks: @asset_check runs right after its asset, blocking checks skip downstream
assets, evaluations are on the result and in run history, bad checks are definition errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import wharf as dg
from wharf._core.history import RunHistory
from wharf.errors import DefinitionError, UnknownAssetError


# Dagster's asset checks documentation example, imports changed only.
@dg.asset
def orders():
    orders_df = pd.DataFrame({"order_id": [1, 2], "item_id": [432, 878]})
    orders_df.to_csv("orders.csv")


@dg.asset_check(asset=orders)
def orders_id_has_no_nulls():
    orders_df = pd.read_csv("orders.csv")
    num_null_order_ids = orders_df["order_id"].isna().sum()
    return dg.AssetCheckResult(passed=bool(num_null_order_ids == 0))


def test_documented_check_runs_with_its_asset() -> None:
    defs = dg.Definitions(assets=[orders], asset_checks=[orders_id_has_no_nulls])
    result = defs.materialize()
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.asset_key == dg.AssetKey("orders")
    assert evaluation.check_name == "orders_id_has_no_nulls"
    assert evaluation.passed
    with RunHistory() as history:
        rec = history.last("orders#orders_id_has_no_nulls")
    assert rec is not None
    assert rec.metadata["passed"] is True


@dg.asset
def amounts() -> list[int]:
    return [3, -1, 4]


@dg.asset
def total(amounts: list[int]) -> int:
    return sum(amounts)


def no_negatives(blocking: bool, severity: dg.AssetCheckSeverity) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=amounts, blocking=blocking, description="amounts are >= 0")
    def non_negative(amounts: list[int]) -> dg.AssetCheckResult:
        bad = [a for a in amounts if a < 0]
        return dg.AssetCheckResult(
            passed=not bad, severity=severity, metadata={"negative_count": len(bad)}
        )

    return non_negative


def test_a_failed_blocking_check_skips_the_downstream_assets() -> None:
    check = no_negatives(blocking=True, severity=dg.AssetCheckSeverity.ERROR)
    result = dg.materialize_to_memory([amounts, total, check], raise_on_error=False)
    assert not result.success
    status = {o.step_key: o.status for o in result.outcomes}
    assert status == {"amounts": "success", "amounts__check__non_negative": "failed",
                      "total": "skipped"}  # fmt: skip
    assert "blocking asset check 'non_negative' of asset 'amounts' did not pass" in str(
        result.failures[dg.AssetKey(["amounts__check__non_negative"])]
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.blocking
    assert evaluation.metadata["negative_count"].value == 1
    assert result.asset_value("amounts") == [3, -1, 4]  # the asset itself was stored


@pytest.mark.parametrize(
    ("blocking", "severity"),
    [(False, dg.AssetCheckSeverity.ERROR), (True, dg.AssetCheckSeverity.WARN)],
)
def test_non_blocking_or_warning_checks_let_downstream_run(
    blocking: bool, severity: dg.AssetCheckSeverity
) -> None:
    check = no_negatives(blocking=blocking, severity=severity)
    result = dg.materialize_to_memory([amounts, total, check])
    assert result.success
    assert result.output_for_node("total") == 6
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity is severity


def test_checks_with_context_additional_ins_and_resources() -> None:
    class Threshold(dg.ConfigurableResource):
        value: int

    @dg.asset_check(asset=total, additional_ins={"amounts": dg.AssetIn("amounts")})
    def total_matches(
        context: dg.AssetExecutionContext, total: int, amounts: list[int], threshold: Threshold
    ) -> dg.AssetCheckResult:
        context.log.info("checking %d values", len(amounts))
        return dg.AssetCheckResult(passed=total == sum(amounts) and total > threshold.value)

    result = dg.materialize_to_memory(
        [amounts, total, total_matches], resources={"threshold": Threshold(value=1)}
    )
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True]
    check_outcome = next(o for o in result.outcomes if o.kind == "check")
    assert [ln.message for ln in check_outcome.logs] == ["checking 3 values"]


def test_checks_run_in_worker_processes(tmp_path: Path) -> None:
    check = no_negatives(blocking=True, severity=dg.AssetCheckSeverity.ERROR)
    result = dg.materialize(
        [amounts, total, check],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "s"))},
        executor=dg.multiprocess_executor(max_concurrent=2),
        raise_on_error=False,
    )
    assert {o.step_key: o.status for o in result.outcomes}["total"] == "skipped"
    assert [e.passed for e in result.get_asset_check_evaluations()] == [False]


def test_bad_checks_are_errors_that_name_them() -> None:
    with pytest.raises(DefinitionError, match="expected asset="):

        @dg.asset_check()
        def nothing() -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=True)

    with pytest.raises(DefinitionError, match="blocking='yes'"):
        dg.asset_check(asset="amounts", blocking="yes")(lambda: None)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="expected at most one"):

        @dg.asset_check(asset=amounts)
        def two(amounts: list[int], other: int) -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=True)

    @dg.asset_check(asset="missing")
    def dangling() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    with pytest.raises(UnknownAssetError, match="asset check 'dangling' needs asset 'missing'"):
        dg.Definitions(assets=[amounts], asset_checks=[dangling])
    with pytest.raises(DefinitionError, match="expected True or False"):
        dg.AssetCheckResult(passed="yes")  # type: ignore[arg-type]

    @dg.asset_check(asset=amounts)
    def returns_bool(amounts: list[int]) -> bool:
        return True

    result = dg.materialize_to_memory([amounts, returns_bool], raise_on_error=False)
    assert "returned bool: expected an AssetCheckResult" in str(
        next(o for o in result.outcomes if o.kind == "check").error
    )


def test_check_specs_evaluated_by_the_asset_itself() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("has_rows", asset="loaded", blocking=True)])
    def loaded() -> dg.MaterializeResult:
        rows = [1, 2]
        return dg.MaterializeResult(
            value=rows,
            check_results=[dg.AssetCheckResult(passed=bool(rows), metadata={"rows": len(rows)})],
        )

    @dg.asset(deps=[loaded])
    def after() -> int:
        return 1

    result = dg.materialize([loaded, after], resources={"io_manager": dg.InMemoryIOManager()})
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed) == ("has_rows", True)
    with RunHistory() as history:
        rec = history.last("loaded#has_rows", status=None)
    assert rec is not None
    assert rec.metadata == {"passed": True, "severity": "ERROR", "rows": 2}

    @dg.asset(
        name="loaded", check_specs=[dg.AssetCheckSpec("has_rows", asset="loaded", blocking=True)]
    )
    def empty():
        yield dg.Output([])
        yield dg.AssetCheckResult(check_name="has_rows", passed=False)

    result = dg.materialize_to_memory([empty, after], raise_on_error=False)
    assert {o.step_key: o.status for o in result.outcomes} == {
        "loaded": "failed",
        "after": "skipped",
    }
    assert [e.passed for e in result.get_asset_check_evaluations()] == [False]

    @dg.asset(name="loaded", check_specs=[dg.AssetCheckSpec("has_rows", asset="loaded")])
    def forgot() -> list[int]:
        return [1]

    result = dg.materialize_to_memory([forgot], raise_on_error=False)
    assert "gave no AssetCheckResult for them" in str(result.failures[dg.AssetKey("loaded")])
