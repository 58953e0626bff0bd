"""Partitioned runs: the run's key, contexts, mappings, validation before anything runs, history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import wharf as dg
from wharf._core.history import RunHistory
from wharf.errors import DefinitionError, UnknownPartitionError, UnsafeNameError

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-08")
REGIONS = dg.StaticPartitionsDefinition(["eu", "us"])


def run(assets: list[Any], key: str | None = None, **kw: Any) -> dg.ExecuteInProcessResult:
    io = kw.pop("io", None) or dg.InMemoryIOManager()
    return dg.materialize(assets, resources={"io_manager": io}, partition_key=key, **kw)


def test_asset_context_partition_properties() -> None:
    seen: dict[str, Any] = {}

    @dg.asset(partitions_def=DAYS)
    def daily(context: dg.AssetExecutionContext) -> int:
        seen.update(
            key=context.partition_key, keys=context.partition_keys, has=context.has_partition_key,
            window=context.partition_time_window, rng=context.partition_key_range,
            out=context.asset_partition_key_for_output(),
            out_window=context.asset_partitions_time_window_for_output(),
        )  # fmt: skip
        return 1

    run([daily], "2024-01-03")
    assert seen["key"] == "2024-01-03"
    assert seen["keys"] == ["2024-01-03"]
    assert seen["has"] is True
    assert seen["window"] == dg.TimeWindow(
        datetime(2024, 1, 3, tzinfo=UTC), datetime(2024, 1, 4, tzinfo=UTC)
    )
    assert seen["rng"] == dg.PartitionKeyRange("2024-01-03", "2024-01-03")
    assert (seen["out"], seen["out_window"]) == ("2024-01-03", seen["window"])


def test_input_partitions_follow_the_mapping() -> None:
    seen: dict[str, Any] = {}

    @dg.asset(partitions_def=DAYS)
    def events(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    rolling_in = dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-2))

    @dg.asset(partitions_def=DAYS, ins={"events": rolling_in})
    def rolling(context: dg.AssetExecutionContext, events: dict[str, str]) -> list[str]:
        seen["keys"] = context.asset_partition_keys_for_input("events")
        seen["window"] = context.asset_partitions_time_window_for_input("events")
        seen["def"] = context.asset_partitions_def_for_input("events")
        return sorted(events.values())

    io = dg.InMemoryIOManager()
    for key in DAYS.get_partition_keys()[:4]:
        run([events], key, io=io)
    result = run([events, rolling], "2024-01-04", io=io, selection=[rolling])
    assert result.output_for_node("rolling") == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert seen["keys"] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert seen["window"].start == datetime(2024, 1, 2, tzinfo=UTC)
    assert seen["window"].end == datetime(2024, 1, 5, tzinfo=UTC)
    assert seen["def"] is DAYS


def test_default_mappings_identity_all_and_hourly_to_daily() -> None:
    hours = dg.HourlyPartitionsDefinition(
        start_date="2024-01-01-00:00", end_date="2024-01-03-00:00"
    )

    @dg.asset(partitions_def=hours)
    def hourly(context: dg.AssetExecutionContext) -> int:
        return int(context.partition_key[-5:-3])

    @dg.asset(partitions_def=DAYS)
    def daily(hourly: dict[str, int]) -> int:  # a daily asset reads its 24 hours
        return len(hourly)

    @dg.asset(partitions_def=REGIONS)
    def by_region(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    @dg.asset(partitions_def=REGIONS)
    def same_region(by_region: str) -> str:  # identity
        return by_region.upper()

    @dg.asset
    def every_region(by_region: dict[str, str]) -> list[str]:  # unpartitioned: all
        return sorted(by_region)

    io = dg.InMemoryIOManager()
    for key in hours.get_partition_keys()[:24]:
        run([hourly], key, io=io)
    assert (
        run([hourly, daily], "2024-01-01", io=io, selection=[daily]).output_for_node("daily") == 24
    )
    for key in ("eu", "us"):
        run([by_region], key, io=io)
    assert (
        run([by_region, same_region], "us", io=io, selection=[same_region]).output_for_node(
            "same_region"
        )
        == "US"
    )
    result = run([by_region, every_region], io=io, selection=[every_region])
    assert result.output_for_node("every_region") == ["eu", "us"]


def test_last_and_static_mappings() -> None:
    @dg.asset(partitions_def=REGIONS)
    def region(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    @dg.asset(ins={"region": dg.AssetIn(partition_mapping=dg.LastPartitionMapping())})
    def latest(region: str) -> str:
        return region

    countries = dg.StaticPartitionsDefinition(["fr", "de", "ca"])
    by_region = dg.StaticPartitionMapping({"eu": ["fr", "de"], "us": "ca"})

    @dg.asset(partitions_def=countries, ins={"region": dg.AssetIn(partition_mapping=by_region)})
    def country(context: dg.AssetExecutionContext, region: str) -> str:
        return f"{context.partition_key} in {region}"

    io = dg.InMemoryIOManager()
    for key in ("eu", "us"):
        run([region], key, io=io)
    assert run([region, latest], io=io, selection=[latest]).output_for_node("latest") == "us"
    got = run([region, country], "de", io=io, selection=[country]).output_for_node("country")
    assert got == "de in eu"


def test_nonexistent_upstream_partitions_error_or_are_dropped() -> None:
    @dg.asset(partitions_def=DAYS)
    def events(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    strict = dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))
    lenient = dg.AssetIn(
        partition_mapping=dg.TimeWindowPartitionMapping(
            start_offset=-1, allow_nonexistent_upstream_partitions=True
        )
    )

    @dg.asset(partitions_def=DAYS, ins={"events": strict})
    def strict_roll(events: dict[str, str]) -> int:
        return len(events)

    @dg.asset(partitions_def=DAYS, ins={"events": lenient})
    def lenient_roll(events: dict[str, str]) -> int:
        return len(events)

    io = dg.InMemoryIOManager()
    run([events], "2024-01-01", io=io)
    result = run([events, strict_roll], "2024-01-01", io=io, selection=[strict_roll],
                 raise_on_error=False)  # fmt: skip
    err = result.failures[dg.AssetKey("strict_roll")]
    assert isinstance(err, UnknownPartitionError)
    assert "['2023-12-31']" in str(err)
    assert "allow_nonexistent_upstream_partitions=True" in str(err)
    one = run([events, lenient_roll], "2024-01-01", io=io, selection=[lenient_roll])
    assert one.output_for_node("lenient_roll") == 1


def test_identity_between_different_static_definitions_names_the_missing_key() -> None:
    @dg.asset(partitions_def=REGIONS)
    def region(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["eu", "apac"]))
    def report(region: str) -> str:
        return region

    result = run([region, report], "apac", selection=[report], raise_on_error=False)
    err = result.failures[dg.AssetKey("report")]
    assert isinstance(err, UnknownPartitionError)
    assert "loads partitions ['apac'] of 'region'" in str(err)


def test_keys_are_checked_before_anything_runs(tmp_path: Path) -> None:
    ran: list[str] = []

    @dg.asset
    def plain() -> int:
        ran.append("plain")
        return 1

    @dg.asset(partitions_def=DAYS)
    def daily() -> int:
        ran.append("daily")
        return 1

    with pytest.raises(DefinitionError, match=r"asset 'daily' is partitioned \(Daily.*e.g. "):
        run([plain, daily])
    with pytest.raises(UnknownPartitionError, match="has no partition '2025-01-01'"):
        run([plain, daily], "2025-01-01")
    with pytest.raises(UnsafeNameError, match=r"partition key '\.\./x'"):
        run([plain, daily], "../x")
    with pytest.raises(DefinitionError, match="none of the selected assets is partitioned"):
        run([plain, daily], "2024-01-01", selection=[plain])
    assert ran == []


def test_mixed_runs_and_history(wharf_home: Path) -> None:
    @dg.asset
    def lookup() -> dict[str, int]:
        return {"eu": 1}

    @dg.asset(partitions_def=REGIONS)
    def sales(context: dg.AssetExecutionContext, lookup: dict[str, int]) -> int:
        return lookup.get(context.partition_key, 0)

    result = run([lookup, sales], "eu")
    assert result.output_for_node("sales") == 1
    assert result.partition_key == "eu"
    events = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()}
    assert events["sales"].materialization.partition == "eu"
    assert events["lookup"].materialization.partition is None
    with RunHistory() as history:
        records = {r.asset_key: r.partition_key for r in history.for_run(result.run_id)}
    assert records == {"lookup": None, "sales": "eu"}


def test_definition_time_errors() -> None:
    with pytest.raises(DefinitionError, match="expected a PartitionsDefinition"):

        @dg.asset(partitions_def="daily")
        def bad() -> int:
            return 1

    with pytest.raises(DefinitionError, match="expected a PartitionMapping"):
        dg.AssetIn(partition_mapping="last")

    @dg.asset(partitions_def=REGIONS)
    def region() -> int:
        return 1

    windowed = dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping())

    @dg.asset(partitions_def=DAYS, ins={"region": windowed})
    def daily(region: int) -> int:
        return region

    with pytest.raises(DefinitionError, match="TimeWindowPartitionMapping joins time-window") as e:
        dg.Definitions(assets=[region, daily])
    assert "in input 'region' of asset 'daily'" in "\n".join(e.value.__notes__)
    bad_keys = dg.AssetIn(partition_mapping=dg.StaticPartitionMapping({"mars": "2024-01-01"}))

    @dg.asset(partitions_def=DAYS, ins={"region": bad_keys})
    def mapped(region: int) -> int:
        return region

    with pytest.raises(UnknownPartitionError, match=r"upstream keys \['mars'\]"):
        dg.Definitions(assets=[region, mapped])


def test_dynamic_partitions_in_runs_and_context_instance() -> None:
    files = dg.DynamicPartitionsDefinition(name="files")

    @dg.asset
    def discover(context: dg.AssetExecutionContext) -> int:
        context.instance.add_dynamic_partitions("files", ["a.csv", "b.csv"])
        return 2

    @dg.asset(partitions_def=files)
    def parsed(context: dg.AssetExecutionContext) -> str:
        return context.partition_key.upper()

    instance = dg.DagsterInstance.ephemeral()
    io = dg.InMemoryIOManager()
    with pytest.raises(UnknownPartitionError, match="it has no partitions yet"):
        run([parsed], "a.csv", io=io, instance=instance)
    run([discover], io=io, instance=instance)
    assert run([parsed], "b.csv", io=io, instance=instance).output_for_node("parsed") == "B.CSV"
    with RunHistory() as history:  # an ephemeral instance records no history
        assert history.for_asset("parsed") == []


def test_load_asset_value_by_partition() -> None:
    @dg.asset(partitions_def=REGIONS)
    def region(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    io = dg.InMemoryIOManager()
    defs = dg.Definitions(assets=[region], resources={"io_manager": io})
    for key in ("eu", "us"):
        defs.materialize(partition_key=key)
    assert defs.load_asset_value("region", partition_key="us") == "us"
    assert defs.load_asset_value("region") == {"eu": "eu", "us": "us"}
    assert defs.load_asset_value("region", python_type=dict[str, str], partition_key="eu") == {
        "eu": "eu"
    }


def test_io_contexts_built_for_tests() -> None:
    out = dg.build_output_context(
        asset_key="a", partition_key="2024-01-02", asset_partitions_def=DAYS
    )
    assert out.has_asset_partitions
    assert out.asset_partition_key == "2024-01-02"
    assert out.asset_partitions_time_window.end == datetime(2024, 1, 3, tzinfo=UTC)
    assert out.get_identifier() == ["a", "2024-01-02"]
    rng = dg.PartitionKeyRange("2024-01-02", "2024-01-04")
    inp = dg.build_input_context(
        asset_key="a", asset_partition_key_range=rng, asset_partitions_def=DAYS
    )
    assert inp.asset_partition_keys == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert inp.asset_partition_key_range == rng
    with pytest.raises(ValueError, match="has 3 partitions"):
        _ = inp.asset_partition_key
    plain = dg.build_input_context(asset_key="a")
    assert not plain.has_asset_partitions
    assert not plain.has_partition_key
    with pytest.raises(ValueError, match="is not partitioned"):
        _ = plain.asset_partition_keys
    ctx = dg.build_asset_context(partition_key="2024-01-05", partitions_def=DAYS)
    assert ctx.partition_time_window.start == datetime(2024, 1, 5, tzinfo=UTC)
    multi = dg.MultiPartitionsDefinition({"d": DAYS, "r": REGIONS})
    ctx = dg.build_asset_context(partition_key="2024-01-05|eu", partitions_def=multi)
    assert ctx.partition_key.keys_by_dimension == {"d": "2024-01-05", "r": "eu"}  # type: ignore[attr-defined]
    assert ctx.partition_time_window.start == datetime(2024, 1, 5, tzinfo=UTC)
