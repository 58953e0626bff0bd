"""Many partitions end to end: 12,000 static keys and 100 x 120 multi-partitions are defined,
backfilled in one run, recorded and loaded back. The shape is pinned with counters (store reads
and writes, key parsing), never with times: nothing may grow with the partition count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import wharf as dg
from tests.statements import Statements, record_statements
from wharf._core.partitioning.time_windows import TimeWindowPartitionsDefinition
from wharf._stores.sql import SqlStore
from wharf.duckdb import DuckDBPandasIOManager

STATIC = dg.StaticPartitionsDefinition([f"k{i:05d}" for i in range(12_000)])
DAYS_120 = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-04-30")
MULTI = dg.MultiPartitionsDefinition(
    {"day": DAYS_120, "store": dg.StaticPartitionsDefinition([f"s{i:03d}" for i in range(100)])}
)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the SQL store writes and how often a daily key is parsed."""
    counts = {"write": 0, "parse": 0}
    write = SqlStore.write
    parse = TimeWindowPartitionsDefinition._find_key_index

    def counted(name: str, real: Any) -> Any:
        def spy(*args: Any, **kw: Any) -> Any:
            counts[name] += 1
            return real(*args, **kw)

        return spy

    monkeypatch.setattr(SqlStore, "write", counted("write", write))
    monkeypatch.setattr(TimeWindowPartitionsDefinition, "_find_key_index", counted("parse", parse))
    return counts


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    return record_statements(monkeypatch)


def _one_query_one_transaction(seen: Statements) -> None:
    """The backfill: one transaction; the load: one connection, one query of the rows. (A
    pandas write also holds the database open, on a connection that runs nothing.)"""
    (write,) = [n for n, reads in enumerate(seen.reading) if not reads and seen.sessions[n]]
    backfill = seen.sessions[write]
    assert backfill.count("BEGIN TRANSACTION") == backfill.count("COMMIT") == 1, backfill
    (load,) = seen.sessions[write + 1 :]  # one connection for the whole load
    rows = [q for q in load if q.startswith("SELECT") and "FROM" in q and "WHERE FALSE" not in q]
    rows = [q for q in rows if "duckdb_" not in q and "information_schema" not in q]
    assert len(rows) == 1, load  # every partition in one query (missing ones seen in its rows)


def _backfill_then_load(pdef: Any, columns: dict[str, str], tmp_path: Path, instance: Any) -> int:
    expr: Any = columns["key"] if len(columns) == 1 else columns

    @dg.asset(
        partitions_def=pdef, metadata={"partition_expr": expr},
        backfill_policy=dg.BackfillPolicy.single_run(),
    )  # fmt: skip
    def readings(context: dg.AssetExecutionContext) -> pd.DataFrame:
        keys = context.partition_keys
        if len(columns) == 1:
            return pd.DataFrame({"key": keys, "n": range(len(keys))})
        parts = [k.keys_by_dimension for k in keys]  # type: ignore[attr-defined]
        day = pd.to_datetime([p["day"] for p in parts])
        return pd.DataFrame({"day": day, "store": [p["store"] for p in parts], "n": 1})

    @dg.asset(io_manager_key="mem")
    def everything(readings: pd.DataFrame) -> int:
        return len(readings)

    keys = pdef.get_partition_keys()
    res = {
        "io_manager": DuckDBPandasIOManager(database=str(tmp_path / "w.duckdb")),
        "mem": dg.InMemoryIOManager(),
    }
    rng = dg.PartitionKeyRange(keys[0], keys[-1])
    dg.materialize([readings], resources=res, partition_key_range=rng, instance=instance)
    loaded = dg.materialize([readings, everything], resources=res, selection=[everything],
                            instance=instance)  # fmt: skip
    return int(loaded.output_for_node("everything"))


def test_twelve_thousand_static_partitions_in_one_run(
    tmp_path: Path, calls: dict[str, int], statements: Statements
) -> None:
    instance = dg.DagsterInstance(tmp_path / "home")
    rows = _backfill_then_load(STATIC, {"key": "key"}, tmp_path, instance)
    assert rows == 12_000
    assert calls["write"] == 1  # the range in one write
    _one_query_one_transaction(statements)
    history = instance.run_history()
    assert history is not None
    with history:
        assert len(history.latest_attempts()) >= 12_000  # one row per partition


def test_multi_partitions_of_100_by_120_in_one_run(
    tmp_path: Path, calls: dict[str, int], statements: Statements
) -> None:
    ephemeral = dg.DagsterInstance.ephemeral()
    rows = _backfill_then_load(MULTI, {"day": "day", "store": "store"}, tmp_path, ephemeral)
    assert rows == 12_000
    assert calls["write"] == 1
    _one_query_one_transaction(statements)  # store IN (100 values) AND one day range
    assert calls["parse"] <= 120  # each day key parsed once at most, not once per partition
