"""Partitions at scale: a single-run backfill and a load of every partition, wharf vs Dagster vs
the raw engine, at 10, 1,000, 3,650 and 12,000 daily partitions of 10 rows (issue 19).

For each store (DuckDB, PostgreSQL, the filesystem) and partition count, in fresh processes
(PostgreSQL: a throw-away local server, ``wharf.testing.postgres``, a schema per measurement;
Dagster has no PostgreSQL I/O manager, so its cells say n/a):

- ``backfill``: one run materializes every partition (``BackfillPolicy.single_run()`` and a
  partition range; Dagster: the same policy with its range tags). Dagster's filesystem I/O
  manager cannot store several partitions from one output, so its cell says n/a.
- ``load``: an unpartitioned downstream asset loads every partition as one pandas frame
  (annotated ``pd.DataFrame`` on wharf; Dagster's filesystem manager hands a dict of
  partitions whatever the annotation, which the asset concatenates);
  its row count goes to the in-memory I/O manager on both sides, so the time is the load's
  (a filesystem manager for that int cost wharf ~0.1 s of fsspec/upath imports on first use).
- ``raw``: the same rows read by the engine alone: one DuckDB ``SELECT`` with the range, or a
  ``pyarrow.dataset`` read of the partition files, or the same ``SELECT`` through ADBC on
  PostgreSQL (connect included in every raw time).

    .venv/bin/python bench/partitions.py [--quick] [--no-dagster] [-n 10 1000 3650 12000]
        [--stores duckdb postgres filesystem] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
ROWS = 10
START = "1990-01-01"  # 12,000 days end before today
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def definitions(dg: Any, store: str, n: int, base: str) -> tuple[Any, Any, Any, list[str]]:
    """(partitioned asset, downstream asset, resources, keys) on either library."""
    import pandas as pd

    end = (pd.Timestamp(START) + pd.Timedelta(days=n)).strftime("%Y-%m-%d")
    days = dg.DailyPartitionsDefinition(start_date=START, end_date=end)
    keys = days.get_partition_keys()
    policy = dg.BackfillPolicy.single_run()
    table = store in ("duckdb", "postgres")
    meta = {"partition_expr": "day"} if table else {}

    @dg.asset(partitions_def=days, backfill_policy=policy, metadata=meta)
    def events(context):  # type: ignore[no-untyped-def]  # Dagster refuses an Any context
        w = context.partition_time_window
        day = pd.date_range(w.start, w.end, freq="D", inclusive="left").tz_localize(None)
        frame = pd.DataFrame({"day": day.repeat(ROWS), "v": range(ROWS * len(day))})
        if table:
            return frame
        return {
            k: part
            for k, (_, part) in zip(context.partition_keys, frame.groupby("day"), strict=True)
        }

    def count(events: Any) -> Any:
        frame = events if isinstance(events, pd.DataFrame) else pd.concat(events.values())
        return len(frame)

    # wharf's files managers give the partitions as one frame when the input asks for one;
    # Dagster's give a dict whatever the annotation, which the asset concatenates
    count.__annotations__["events"] = pd.DataFrame if dg.__name__ == "wharf" else Any
    total = dg.asset(
        name="total",
        ins={"events": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
        io_manager_key="mem",
    )(count)

    if store == "duckdb":
        if dg.__name__ == "wharf":
            from wharf.duckdb import DuckDBPandasIOManager
        else:
            from dagster_duckdb_pandas import DuckDBPandasIOManager
        io: Any = DuckDBPandasIOManager(database=f"{base}/bench.duckdb")
    elif store == "postgres":
        from wharf.postgres import PostgresPandasIOManager

        host, port = _pg_address()
        io = PostgresPandasIOManager(host=host, port=port, schema=_pg_schema())
    else:
        io = dg.FilesystemIOManager(base_dir=base)
    return events, total, {"io_manager": io, "mem": dg.mem_io_manager}, keys


def _pg_address() -> tuple[str, int]:
    import os

    host_port = os.environ["BENCH_PG_URI"].split("@", 1)[-1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    return host, int(port)


def _pg_schema() -> str:
    import os

    return os.environ["BENCH_PG_SCHEMA"]


def run_side(spec: dict[str, Any]) -> dict[str, Any]:
    side, store, n, step = spec["side"], spec["store"], spec["n"], spec["step"]
    if store == "postgres":
        import os

        os.environ["BENCH_PG_URI"], os.environ["BENCH_PG_SCHEMA"] = spec["uri"], spec["schema"]
    with tempfile.TemporaryDirectory() as base:
        if side == "wharf":
            import wharf as dg
        else:
            import dagster as dg
        events, total, resources, keys = definitions(dg, store, n, base)
        instance = dg.DagsterInstance.ephemeral() if side == "wharf" else None

        def backfill() -> bool:
            if side == "wharf":
                rng = dg.PartitionKeyRange(keys[0], keys[-1])
                kw: dict[str, Any] = {"partition_key_range": rng, "instance": instance}
            else:
                kw = {"tags": {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}}
            return bool(dg.materialize([events], resources=resources, **kw).success)

        if step == "backfill":
            t0 = time.perf_counter()
            ok = backfill()
            return {"seconds": time.perf_counter() - t0, "ok": ok}
        if side == "dagster" and store == "filesystem":  # no single-run store: its manager
            dagster_files(dg, resources["io_manager"], keys)  # writes each partition's file
        elif not backfill():
            return {"ok": False, "error": "the backfill failed"}
        if step == "raw":
            t0 = time.perf_counter()
            rows = raw_read(store, base, keys)
            return {"seconds": time.perf_counter() - t0, "ok": rows == n * ROWS}
        kw = {"instance": instance} if side == "wharf" else {}
        t0 = time.perf_counter()
        result = dg.materialize([events, total], resources=resources, selection=[total], **kw)
        took = time.perf_counter() - t0
        return {"seconds": took, "ok": bool(result.success)}


def dagster_files(dg: Any, factory: Any, keys: list[str]) -> None:
    """Each partition's file written by Dagster's own filesystem I/O manager (a run per
    partition would take longer than the load measured)."""
    import pandas as pd

    manager = factory.create_io_manager(dg.build_init_resource_context())
    for key in keys:
        frame = pd.DataFrame({"day": [pd.Timestamp(key)] * ROWS, "v": range(ROWS)})
        context = dg.build_output_context(asset_key=dg.AssetKey("events"), partition_key=key)
        manager.handle_output(context, frame)


def raw_read(store: str, base: str, keys: list[str]) -> int:
    import pandas as pd

    if store == "duckdb":
        import duckdb

        with duckdb.connect(f"{base}/bench.duckdb") as con:
            frame = con.execute(
                "SELECT * FROM public.events WHERE day >= ? AND day < ?",
                [pd.Timestamp(keys[0]), pd.Timestamp(keys[-1]) + pd.Timedelta(days=1)],
            ).df()
        return len(frame)
    if store == "postgres":
        import os

        import adbc_driver_postgresql.dbapi as adbc

        day = pd.Timestamp(keys[-1]) + pd.Timedelta(days=1)
        sql = (
            f'SELECT * FROM "{_pg_schema()}".events WHERE day >= '
            f"'{keys[0]}'::timestamp AND day < '{day:%Y-%m-%d}'::timestamp"
        )
        with adbc.connect(os.environ["BENCH_PG_URI"]) as con, con.cursor() as cur:
            cur.execute(sql)
            return len(cur.fetch_arrow_table().to_pandas())
    import pyarrow.dataset as ds

    files = sorted(str(p) for p in Path(base, "events").rglob("*") if p.is_file())
    return len(ds.dataset(files, format="parquet").to_table().to_pandas())


def worker(spec: dict[str, Any]) -> None:
    h.emit(run_side(spec))


def main(argv: list[str]) -> int:
    spec = h.worker_spec(argv)
    if spec is not None:
        worker(spec)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10 and 1,000 partitions only")
    parser.add_argument("--no-dagster", action="store_true", help="wharf and raw only")
    parser.add_argument("-n", type=int, nargs="+", default=None, help="partition counts")
    parser.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    parser.add_argument(
        "--repeat", type=int, default=1, help="fresh processes per cell, the fastest shown"
    )
    args = parser.parse_args(argv[1:])
    counts = args.n or ([10, 1000] if args.quick else [10, 1000, 3650, 12000])
    run(counts, args.no_dagster, args.stores, args.repeat)
    return 0


STORES = ("duckdb", "postgres", "filesystem")


def run(
    counts: list[int], no_dagster: bool, stores: list[str] | None = None, repeat: int = 1
) -> dict[str, Any]:
    from wharf.testing.postgres import start_postgres

    stores = stores or list(STORES)
    server = start_postgres() if "postgres" in stores else None
    try:
        return _run(counts, no_dagster, server.uri if server else "", stores, max(1, repeat))
    finally:
        if server is not None:
            server.stop()


def _run(
    counts: list[int], no_dagster: bool, uri: str, stores: list[str], repeat: int
) -> dict[str, Any]:
    dag_py, why = h.dagster_python(no_dagster)
    sides: dict[str, Path | None] = {"wharf": h.wharf_python(), "dagster": dag_py}
    print(
        f"\n== Partitions: single-run backfill and a load of every partition ({ROWS} rows each) =="
    )
    import os

    print(f"   {h.machine_summary()}, load average {os.getloadavg()[0]:.1f} at the start")
    if repeat > 1:
        print(f"   each cell: the fastest of {repeat} runs, each in a fresh process")
    h.print_versions(sides)
    got: dict[str, float | None] = {}
    rows = []
    for store in stores:
        for n in counts:
            cell: dict[str, float | None] = {}
            for step in ("backfill", "load", "raw"):
                for side, python in sides.items():
                    if python is None or (step == "raw" and side == "dagster"):
                        continue
                    if step == "backfill" and side == "dagster" and store == "filesystem":
                        continue  # UPathIOManager refuses several partitions from one output
                    if side == "dagster" and store == "postgres":
                        continue  # no Dagster I/O manager for PostgreSQL tables
                    times = []
                    for again in range(repeat):  # each in a fresh process; the fastest kept
                        spec = {"side": side, "store": store, "n": n, "step": step, "uri": uri,
                                "schema": f"b{n}_{step}_{side}_{again}"}  # fmt: skip
                        r = h.run_worker(python, SCRIPT, spec, timeout=1800)
                        if "error" in r or not r.get("ok"):
                            failed = r.get("error", "failed")
                            print(f"  note: {side} {store} {n} {step}: {failed}")
                            break
                        times.append(r["seconds"])
                    cell[f"{side} {step}"] = min(times) if len(times) == repeat else None
            got.update({f"{store}|{n}|{k}": v for k, v in cell.items()})
            wb, db = cell.get("wharf backfill"), cell.get("dagster backfill")
            wl, dl, raw = cell.get("wharf load"), cell.get("dagster load"), cell.get("wharf raw")
            rows.append([
                store, f"{n:,}", h.fmt(wb, " s"), h.fmt(db, " s"), h.ratio(wb, db),
                h.fmt(wl, " s"), h.fmt(dl, " s"), h.fmt(raw, " s"), h.ratio(wl, dl),
                h.ratio(wl, raw),
            ])  # fmt: skip
    h.print_table(
        ["store", "partitions", "backfill wharf", "dagster", "wharf/dg", "load wharf",
         "dagster", "raw", "wharf/dg", "wharf/raw"],
        rows,
    )  # fmt: skip
    print(f"   load average {os.getloadavg()[0]:.1f} at the end")
    if why and not no_dagster and dag_py is None:
        print(f"  note: dagster: n/a ({why})")
    return {"results": got}


if __name__ == "__main__":
    sys.exit(main(sys.argv))
