"""Code and data versions in the run history, staleness, and skip-unchanged runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import wharf as dg
from wharf._core.history import RunHistory
from wharf._core.versions import Fingerprint, source_version
from wharf.errors import DefinitionError


def _history(key: str) -> list[object]:
    with RunHistory() as history:
        return list(reversed(history.for_asset(key)))


def _chain(calls: list[str], value: int = 1, code: str = "1") -> list[dg.AssetsDefinition]:
    @dg.asset(code_version=code)
    def raw() -> pd.DataFrame:
        calls.append("raw")
        return pd.DataFrame({"x": [value, 2]})

    @dg.asset(code_version="1")
    def clean(raw: pd.DataFrame) -> pd.DataFrame:
        calls.append("clean")
        return raw.assign(x=raw.x.clip(upper=1))

    @dg.asset(code_version="1")
    def report(clean: pd.DataFrame) -> int:
        calls.append("report")
        return int(clean.x.sum())

    return [raw, clean, report]


def test_every_materialization_records_code_data_and_input_versions() -> None:
    result = dg.materialize(_chain([]))
    assert result.success
    raw, clean = _history("raw")[-1], _history("clean")[-1]
    assert raw.code_version == "1"
    assert raw.data_version.startswith("xxh3-")  # the Parquet writer's stream, hashed
    assert clean.input_versions == {"raw": raw.data_version}
    report = _history("report")[-1]
    assert report.data_version.startswith("xxh3-")  # a pickle: its bytes, hashed


def test_code_version_defaults_to_a_hash_of_the_source() -> None:
    @dg.asset
    def plain() -> int:
        return 1

    dg.materialize([plain])
    assert _history("plain")[-1].code_version == source_version(plain.fn)
    assert source_version(plain.fn).startswith("src-")


def test_same_data_gives_the_same_fingerprint_and_other_data_another() -> None:
    dg.materialize(_chain([], value=1))
    dg.materialize(_chain([], value=1))
    dg.materialize(_chain([], value=5))
    first, again, other = (r.data_version for r in _history("raw"))
    assert first == again != other
    # clip(upper=1) makes clean's data the same for both: its fingerprint says so
    assert len({r.data_version for r in _history("clean")}) == 1


def test_fingerprint_is_computed_in_the_write_pass_of_a_one_shot_stream() -> None:
    @dg.asset
    def streamed() -> pa.RecordBatchReader:
        table = pa.table({"a": list(range(1000))})
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=10))

    dg.materialize([streamed])
    record = _history("streamed")[-1]
    expected = Fingerprint()
    table = pa.table({"a": list(range(1000))})
    expected.update(table.schema.serialize())
    for batch in table.to_batches(max_chunksize=10):
        expected.add_batch(batch)
    assert record.data_version == expected.hexdigest()
    assert dg.Definitions(assets=[streamed]).load_asset_value("streamed").read_all() == table


def test_a_slice_is_fingerprinted_by_its_own_rows_not_its_parents_buffers() -> None:
    # batches cut from a bigger table share its whole buffers: the same rows cut from two
    # different tables must give one fingerprint, and hashing must not read the parent per batch
    rows = {"a": [1, 2, None], "s": ["x", None, "zz"]}
    fresh, cut = Fingerprint(), Fingerprint()
    fresh.add_batch(pa.record_batch(rows))
    parent = pa.table({"a": [7, *rows["a"], 9] * 1000, "s": ["q", *rows["s"], "w"] * 1000})
    cut.add_batch(parent.slice(1, 3).to_batches()[0])
    assert cut.hexdigest() == fresh.hexdigest()


def test_a_function_whose_file_now_holds_other_text_still_gets_a_code_version(
    tmp_path: Path,
) -> None:
    # the file a function was compiled from was edited since: its text no longer parses there
    path = tmp_path / "edited.py"
    path.write_text("x = (\n")
    namespace: dict[str, object] = {}
    exec(compile("def body():\n    return 1\n", str(path), "exec"), namespace)
    assert source_version(namespace["body"]).startswith("src-")
    assert source_version(namespace["body"]) == source_version(namespace["body"])


def test_explicit_data_versions_win() -> None:
    @dg.asset
    def by_output() -> dg.Output[int]:
        return dg.Output(1, data_version=dg.DataVersion("v-out"))

    @dg.asset
    def by_result() -> dg.MaterializeResult:
        return dg.MaterializeResult(data_version=dg.DataVersion("v-result"))

    dg.materialize([by_output, by_result])
    assert _history("by_output")[-1].data_version == "v-out"
    assert _history("by_result")[-1].data_version == "v-result"


def test_data_version_must_be_text() -> None:
    with pytest.raises(DefinitionError, match="must be a string"):
        dg.DataVersion(3)  # type: ignore[arg-type]


def test_staleness_fresh_stale_never_stored_and_failed() -> None:
    calls: list[str] = []
    defs = dg.Definitions(assets=_chain(calls))
    assert {s.status for s in defs.get_staleness().values()} == {"never stored"}
    defs.materialize()
    assert {s.status for s in defs.get_staleness().values()} == {"fresh"}

    changed = dg.Definitions(assets=_chain(calls, code="2"))
    status = changed.get_staleness()
    raw, clean = (status[dg.AssetKey(k)] for k in ("raw", "clean"))
    assert raw.status == "stale"
    assert raw.reasons == ("code version changed (1 -> 2)",)
    assert clean.describe() == "stale: upstream 'raw' is stale"

    dg.materialize(_chain(calls, value=7), selection=["raw"])  # raw's data changed
    status = defs.get_staleness()
    assert status[dg.AssetKey("raw")].status == "fresh"
    assert status[dg.AssetKey("clean")].reasons == ("upstream 'raw' has a newer data version",)

    @dg.asset(name="raw")
    def broken() -> pd.DataFrame:
        raise RuntimeError("boom")

    dg.materialize([broken], raise_on_error=False)
    assert defs.get_staleness(["raw"])[dg.AssetKey("raw")].status == "failed"


def test_skip_unchanged_runs_nothing_when_nothing_changed() -> None:
    calls: list[str] = []
    dg.materialize(_chain(calls))
    calls.clear()
    result = dg.materialize(_chain(calls), skip_unchanged=True)
    assert result.success
    assert calls == []
    assert {o.status for o in result.outcomes} == {"unchanged"}
    assert result.output_for_node("report") == 2  # the stored value
    assert [r.status for r in _history("report")] == ["success", "unchanged"]


def test_skip_unchanged_reruns_what_changed_and_cuts_off_early() -> None:
    calls: list[str] = []
    dg.materialize(_chain(calls, value=1))
    calls.clear()
    # raw's data changes, clean recomputes the same data: report is not run again
    result = dg.materialize(_chain(calls, value=5, code="2"), skip_unchanged=True)
    assert calls == ["raw", "clean"]
    assert [o.status for o in result.outcomes] == ["success", "success", "unchanged"]
    calls.clear()
    dg.materialize(_chain(calls, value=5, code="2"), skip_unchanged=True)
    assert calls == []


def test_skip_unchanged_reruns_a_failed_asset() -> None:
    calls: list[str] = []
    dg.materialize(_chain(calls))

    @dg.asset(name="report", code_version="1")
    def failing(clean: pd.DataFrame) -> int:
        raise RuntimeError("boom")

    raw, clean, _ = _chain(calls)
    dg.materialize([raw, clean, failing], raise_on_error=False)
    calls.clear()
    dg.materialize(_chain(calls), skip_unchanged=True)
    assert calls == ["report"]


def test_partitions_are_tracked_one_by_one() -> None:
    calls: list[str] = []
    parts = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.asset(partitions_def=parts, code_version="1")
    def daily(context: dg.AssetExecutionContext) -> int:
        calls.append(context.partition_key)
        return 1

    @dg.asset(partitions_def=parts, code_version="1")
    def doubled(daily: int) -> int:
        return daily * 2

    defs = dg.Definitions(assets=[daily, doubled])
    defs.materialize(partition_key="a")
    assert defs.get_staleness(partition_key="a")[dg.AssetKey("doubled")].status == "fresh"
    assert defs.get_staleness(partition_key="b")[dg.AssetKey("daily")].status == "never stored"
    calls.clear()
    defs.materialize(partition_key="a", skip_unchanged=True)
    defs.materialize(partition_key="b", skip_unchanged=True)
    assert calls == ["b"]


def test_skip_unchanged_needs_the_history() -> None:
    with pytest.raises(DefinitionError, match="needs the run history"):
        dg.materialize(_chain([]), skip_unchanged=True, record_history=False)


def test_an_older_history_file_gains_the_version_columns(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE materializations (run_id TEXT NOT NULL, asset_key TEXT NOT NULL, "
        "partition_key TEXT, status TEXT NOT NULL, started_at REAL NOT NULL, "
        "duration_s REAL NOT NULL, io_manager TEXT, metadata TEXT NOT NULL, error TEXT)"
    )
    conn.execute("INSERT INTO materializations VALUES ('r', 'a', NULL, 'success', 0, 1, NULL, "
                 "'{}', NULL)")  # fmt: skip
    conn.commit()
    conn.close()
    with RunHistory(path) as history:
        assert history.last("a").data_version is None
        history.record(run_id="r2", asset_key="a", status="success", started_at=1.0,
                       duration_s=0.0, metadata="{}", data_version="v")  # fmt: skip
        assert history.last("a").data_version == "v"
