"""Range runs and backfill policies: one run materializes a range of partitions
(``partition_key_range=``, Dagster's range tags, ``BackfillPolicy.single_run()``), the context
shows the range, table stores replace it in one write, path stores write each partition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

import wharf as dg
from wharf._core.partitioning.runs import plan_backfill
from wharf._stores.sql import SqlStore
from wharf.duckdb import DuckDBPandasIOManager
from wharf.errors import AssetTypeError, ContextError, DefinitionError

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-11")


def test_backfill_policy_kinds_and_checks() -> None:
    single, multi = dg.BackfillPolicy.single_run(), dg.BackfillPolicy.multi_run(4)
    assert single.max_partitions_per_run is None
    assert single.policy_type == dg.BackfillPolicyType.SINGLE_RUN
    assert (multi.max_partitions_per_run, multi.policy_type) == (4, dg.BackfillPolicyType.MULTI_RUN)
    assert dg.BackfillPolicy.multi_run().max_partitions_per_run == 1
    assert multi == dg.BackfillPolicy.multi_run(max_partitions_per_run=4)
    with pytest.raises(DefinitionError, match="max_partitions_per_run=0"):
        dg.BackfillPolicy.multi_run(0)

    @dg.asset(partitions_def=DAYS, backfill_policy=single)
    def events() -> None: ...

    assert events.backfill_policy == single


def test_a_range_run_shows_the_range_to_the_asset_and_its_downstream(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def events(context: dg.AssetExecutionContext) -> dict[str, int]:
        seen["range"] = context.partition_key_range
        seen["asset_range"] = context.asset_partition_key_range
        seen["keys"] = context.partition_keys
        seen["window"] = context.partition_time_window
        with pytest.raises(ContextError, match=r"runs 3 partitions .*context.partition_key_range"):
            _ = context.partition_key
        return {k: int(k[-2:]) for k in context.partition_keys}

    @dg.asset(partitions_def=DAYS)
    def doubled(context: dg.AssetExecutionContext, events: dict[str, int]) -> dict[str, int]:
        seen["inputs"] = context.asset_partition_keys_for_input("events")
        return {k: 2 * v for k, v in events.items()}

    instance = dg.DagsterInstance(tmp_path / "home")
    result = dg.materialize(
        [events, doubled], partition_key_range=dg.PartitionKeyRange("2024-01-02", "2024-01-04"),
        resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))},
        instance=instance,
    )  # fmt: skip
    days = ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert seen["range"] == seen["asset_range"] == dg.PartitionKeyRange(days[0], days[-1])
    assert seen["keys"] == seen["inputs"] == days
    assert (seen["window"].start.day, seen["window"].end.day) == (2, 5)
    assert sorted(p.name for p in (tmp_path / "doubled").iterdir()) == days  # one file each
    assert result.asset_value("doubled") == {"2024-01-02": 4, "2024-01-03": 6, "2024-01-04": 8}
    history = instance.run_history()
    assert history is not None
    with history:
        status = {r.partition_key: r.status for r in history.for_asset("doubled")}
    assert status == dict.fromkeys(days, "success")  # one history row per partition


def test_dagster_range_tags_make_a_range_run() -> None:
    @dg.asset(partitions_def=DAYS)
    def events(context: dg.AssetExecutionContext) -> dict[str, int]:
        return dict.fromkeys(context.partition_keys, 1)

    tags = {
        "dagster/asset_partition_range_start": "2024-01-05",
        "dagster/asset_partition_range_end": "2024-01-06",
    }
    result = dg.materialize_to_memory([events], tags=tags)
    assert result.asset_value("events") == {"2024-01-05": 1, "2024-01-06": 1}


def test_bad_ranges_fail_before_running() -> None:
    @dg.asset(partitions_def=DAYS)
    def events() -> int:
        return 1

    @dg.asset
    def plain() -> int:
        return 1

    rng = dg.PartitionKeyRange("2024-01-02", "2024-01-03")
    with pytest.raises(DefinitionError, match="expected one of them"):
        dg.materialize_to_memory([events], partition_key="2024-01-02", partition_key_range=rng)
    with pytest.raises(DefinitionError, match="none of the selected assets is partitioned"):
        dg.materialize_to_memory([plain], partition_key_range=rng)
    with pytest.raises(DefinitionError, match="expected both tags"):
        dg.materialize_to_memory([events], tags={"dagster/asset_partition_range_end": "x"})


def test_a_path_store_needs_a_dict_by_partition_for_a_range(tmp_path: Path) -> None:
    @dg.asset(partitions_def=DAYS)
    def events() -> list[int]:
        return [1, 2]

    with pytest.raises(AssetTypeError, match=r"needs a dict of partition key .* got list"):
        dg.materialize(
            [events], partition_key_range=dg.PartitionKeyRange("2024-01-02", "2024-01-03"),
            resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))},
            instance=dg.DagsterInstance.ephemeral(),
        )  # fmt: skip
    assert not (tmp_path / "events").exists()


def test_time_window_mapping_maps_a_range_at_once() -> None:
    hours = dg.HourlyPartitionsDefinition(
        start_date="2024-01-01-00:00", end_date="2024-01-04-00:00"
    )
    calls: list[str | None] = []

    class Counted(dg.TimeWindowPartitionMapping):
        def upstream_partition_keys(self, key: Any, *args: Any, **kw: Any) -> list[str]:
            calls.append(key)
            return super().upstream_partition_keys(key, *args, **kw)

    @dg.asset(partitions_def=hours)
    def ticks(context: dg.AssetExecutionContext) -> dict[str, int]:
        return dict.fromkeys(context.partition_keys, 1)

    @dg.asset(partitions_def=DAYS, ins={"ticks": dg.AssetIn(partition_mapping=Counted())})
    def daily(context: dg.AssetExecutionContext, ticks: dict[str, int]) -> dict[str, int]:
        return {k: len(ticks) for k in context.partition_keys}

    rng = dg.PartitionKeyRange("2024-01-01-00:00", "2024-01-03-23:00")
    io = dg.InMemoryIOManager()
    dg.materialize([ticks], resources={"io_manager": io}, partition_key_range=rng)
    result = dg.materialize(
        [ticks, daily], resources={"io_manager": io}, selection=[daily],
        partition_key_range=dg.PartitionKeyRange("2024-01-02", "2024-01-03"),
        instance=dg.DagsterInstance.ephemeral(),
    )  # fmt: skip
    assert result.asset_value("daily") == {"2024-01-02": 48, "2024-01-03": 48}
    assert calls == []  # the range was one window, not one call per day


def _counted_writes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    writes: list[Any] = []
    real = SqlStore.write

    def spy(self: SqlStore, ref: Any, data: Any, **kw: Any) -> Any:
        writes.append(kw.get("partition"))
        return real(self, ref, data, **kw)

    monkeypatch.setattr(SqlStore, "write", spy)
    return writes


def test_duckdb_replaces_a_range_in_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @dg.asset(
        partitions_def=DAYS, metadata={"partition_expr": "day"},
        backfill_policy=dg.BackfillPolicy.single_run(),
    )  # fmt: skip
    def events(context: dg.AssetExecutionContext) -> pd.DataFrame:
        days = pd.to_datetime(context.partition_keys)
        return pd.DataFrame({"day": days.repeat(2), "n": range(2 * len(days))})

    db = str(tmp_path / "w.duckdb")
    res = {"io_manager": DuckDBPandasIOManager(database=db)}
    inst = dg.DagsterInstance.ephemeral()
    dg.materialize([events], resources=res, partition_key="2024-01-01", instance=inst)
    writes = _counted_writes(monkeypatch)
    rng = dg.PartitionKeyRange("2024-01-02", "2024-01-10")
    dg.materialize([events], resources=res, partition_key_range=rng, instance=inst)
    assert [len(w) for w in writes] == [1]  # one write, with one range filter
    dg.materialize([events], resources=res, partition_key_range=rng, instance=inst)  # again
    with duckdb.connect(db) as con:
        rows = con.execute("SELECT COUNT(*), COUNT(DISTINCT day) FROM public.events").fetchone()
    assert rows == (20, 10)  # the range replaced, 2024-01-01 kept


def test_duckdb_refuses_rows_outside_the_range(tmp_path: Path) -> None:
    @dg.asset(partitions_def=DAYS, metadata={"partition_expr": "day"})
    def events(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"day": pd.to_datetime(["2024-01-02", "2024-01-09"]), "n": [1, 2]})

    res = {"io_manager": DuckDBPandasIOManager(database=str(tmp_path / "w.duckdb"))}
    rng = dg.PartitionKeyRange("2024-01-02", "2024-01-04")
    with pytest.raises(
        dg.errors.WharfError, match="every row of a partition write must belong to its partition"
    ):
        dg.materialize(
            [events], resources=res, partition_key_range=rng,
            instance=dg.DagsterInstance.ephemeral(),
        )  # fmt: skip


def test_backfill_plan_follows_the_policies() -> None:
    def planned(policy: Any, text: dg.PartitionKeyRange | list[str]) -> list[list[str]]:
        @dg.asset(partitions_def=DAYS, backfill_policy=policy)
        def events() -> None: ...

        graph = dg.Definitions(assets=[events]).asset_graph
        return plan_backfill(graph, [events.key], text).runs

    rng = dg.PartitionKeyRange("2024-01-01", "2024-01-05")
    assert planned(dg.BackfillPolicy.single_run(), rng) == [DAYS.get_partition_keys()[:5]]
    assert [len(r) for r in planned(dg.BackfillPolicy.multi_run(2), rng)] == [2, 2, 1]
    assert planned(None, rng) == [[k] for k in DAYS.get_partition_keys()[:5]]
    gaps = ["2024-01-01", "2024-01-02", "2024-01-05"]  # a list with a gap: two ranges
    assert planned(dg.BackfillPolicy.single_run(), gaps) == [gaps[:2], gaps[2:]]


def test_cli_single_run_backfill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wharf.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WHARF_HOME", str(tmp_path / "home"))
    (tmp_path / "pipeline.py").write_text(
        "import json, wharf as dg\n"
        "days = dg.DailyPartitionsDefinition(start_date='2024-01-01', end_date='2024-01-11')\n"
        "@dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.single_run())\n"
        "def events(context) -> dict:\n"
        "    with open('runs.txt', 'a') as f:\n"
        "        f.write(json.dumps(context.partition_keys) + '\\n')\n"
        "    return {k: 1 for k in context.partition_keys}\n"
        "defs = dg.Definitions(assets=[events])\n"
    )
    argv = ["materialize", "-f", "pipeline.py", "--select", "events", "--partitions"]
    assert main([*argv, "2024-01-01...2024-01-10"]) == 0
    runs = [json.loads(r) for r in (tmp_path / "runs.txt").read_text().splitlines()]
    assert runs == [DAYS.get_partition_keys()]  # one run of all ten days


def test_a_multi_run_backfills_last_run_of_one_partition_stores_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """multi_run(2) over three days runs two days, then one. The body returns a dict by
    partition, as a path store needs for a range: in the one-day run too, where the dict was
    stored whole as that day's value. A dict value of an asset without such a policy is kept."""
    from wharf.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WHARF_HOME", str(tmp_path / "home"))
    (tmp_path / "pipeline.py").write_text(
        "import wharf as dg\n"
        "days = dg.DailyPartitionsDefinition(start_date='2024-01-01', end_date='2024-01-11')\n"
        "@dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.multi_run(2))\n"
        "def events(context):\n"
        "    return {k: int(k[-2:]) for k in context.partition_keys}\n"
        "@dg.asset(partitions_def=days)\n"
        "def labels(context):\n"
        "    return {context.partition_key: 'a day'}\n"
        "defs = dg.Definitions(assets=[events, labels],\n"
        "    resources={'io_manager': dg.FilesystemIOManager(base_dir='store')})\n"
    )
    argv = ["materialize", "-f", "pipeline.py", "--partitions", "2024-01-01...2024-01-03"]
    assert main([*argv, "--select", "events"]) == 0
    assert main([*argv[:3], "--partition", "2024-01-03", "--select", "labels"]) == 0
    import runpy

    load = runpy.run_path(str(tmp_path / "pipeline.py"))["defs"].load_asset_value
    assert [load("events", partition_key=f"2024-01-0{d}") for d in (1, 2, 3)] == [1, 2, 3]
    assert load("labels", partition_key="2024-01-03") == {"2024-01-03": "a day"}


def test_a_range_into_a_path_store_is_refused_with_dagsters_ways_out(tmp_path: Path) -> None:
    """Dagster's UPathIOManager refuses an output of several partitions, pointing to a multi-run
    backfill policy or a body that returns None; wharf takes a dict by partition too."""

    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def frame() -> pd.DataFrame:
        return pd.DataFrame({"n": [1]})

    @dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def written_by_the_body(context: dg.AssetExecutionContext) -> None:
        (tmp_path / "own.txt").write_text(",".join(context.partition_keys))

    rng = dg.PartitionKeyRange("2024-01-02", "2024-01-04")
    io = dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))
    result = dg.materialize(
        [frame], partition_key_range=rng, resources={"io_manager": io}, raise_on_error=False,
        instance=dg.DagsterInstance.ephemeral(),
    )  # fmt: skip
    text = str(result.failures[dg.AssetKey("frame")])
    assert "asset 'frame' materializes 3 partitions in one run" in text
    assert "FilesystemIOManager" in text
    assert "got pandas.DataFrame" in text
    assert "BackfillPolicy.multi_run(1)" in text
    assert "-> None" in text
    assert not (tmp_path / "store" / "frame").exists()
    result = dg.materialize(
        [written_by_the_body], partition_key_range=rng, resources={"io_manager": io},
        instance=dg.DagsterInstance.ephemeral(),
    )  # fmt: skip
    assert result.success
    assert (tmp_path / "own.txt").read_text() == "2024-01-02,2024-01-03,2024-01-04"
    assert not (tmp_path / "store" / "written_by_the_body").exists()  # no I/O manager, as Dagster
