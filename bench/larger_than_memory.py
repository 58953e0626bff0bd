"""Larger than memory: a lazy wharf asset over a multi-GB DuckDB table, and its peak RSS.

Builds ``public.big`` in a DuckDB file (``--gb`` of Arrow data, default 3; id, two ints-ish,
two doubles, a timestamp, two strings), then, each in a fresh process, runs:

- ``wharf relation``: an asset ``def out(big: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation``
  that filters and projects, stored back through ``DuckDBIOManager``;
- ``wharf reader``: the same with ``pa.RecordBatchReader`` in and out, filtering each batch in
  pyarrow;
- ``wharf lazyframe``: the same with ``pl.LazyFrame`` in and out (the input is spilled to a
  temporary Arrow file, then scanned batch by batch; compared with ``raw reader``);
- ``raw sql`` / ``raw reader``: the same work written directly against duckdb
  (``CREATE TABLE ... AS SELECT ... WHERE``, and a reader filtered batch by batch in Python and
  written back with ``CREATE TABLE ... AS SELECT * FROM reader``).

It reports wall time and the peak RSS of the whole process (``ru_maxrss``), which must stay far
under the data size, once with DuckDB's default ``memory_limit`` (80% of RAM: DuckDB then keeps
blocks it has read cached, so even raw DuckDB grows) and once with ``memory_limit=1GB`` given to
raw DuckDB and to ``DuckDBIOManager(connection_config=...)``. Dagster is not in this table: its DuckDB I/O managers load whole pandas or
polars frames, so it has no lazy path to compare.

    .venv/bin/python bench/larger_than_memory.py [--gb 3] [--memory-limit default 1GB] [--keep] [--quick]
"""

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
SCHEMA = "public"
SOURCE = "big"
THRESHOLD = 500  # keep rows with k < 500: half of them
MODES = ("raw sql", "wharf relation", "raw reader", "wharf reader", "wharf lazyframe")
MEMORY_LIMITS = ("default", "1GB")  # passed as connection_config to raw and wharf alike
BASELINE = {
    "wharf relation": "raw sql",
    "wharf reader": "raw reader",
    "wharf lazyframe": "raw reader",
}

GENERATE_SQL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE OR REPLACE TABLE {SCHEMA}.{SOURCE} AS
SELECT range AS id,
       (range % 1000)::INTEGER AS k,
       random() AS x,
       random() AS y,
       TIMESTAMP '2020-01-01' + to_seconds(range) AS ts,
       md5(range::VARCHAR) AS s,
       'cat_' || (range % 100)::VARCHAR AS c
FROM range({{rows}})
"""


def expected_rows(rows: int) -> int:
    return rows // 1000 * THRESHOLD + min(rows % 1000, THRESHOLD)


# ---------------------------------------------------------------- workers (wharf's venv)
def worker_generate(db: str, rows: int) -> dict[str, Any]:
    import duckdb

    Path(db).unlink(missing_ok=True)
    con = duckdb.connect(db)
    try:
        con.execute(GENERATE_SQL.format(rows=rows))
        sample = con.sql(f"SELECT * FROM {SCHEMA}.{SOURCE} LIMIT 100000").to_arrow_table()
    finally:
        con.close()
    return {
        "arrow_gb": sample.nbytes / sample.num_rows * rows / 2**30,
        "file_gb": Path(db).stat().st_size / 2**30,
    }


def bytes_per_row() -> float:
    """Arrow bytes per row of the generated table, from a small in-memory sample."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(GENERATE_SQL.format(rows=100_000))
        return float(con.sql(f"SELECT * FROM {SCHEMA}.{SOURCE}").to_arrow_table().nbytes) / 100_000
    finally:
        con.close()


def filter_batches(reader: Any) -> Any:
    """``reader`` filtered to k < THRESHOLD and projected to (id, k, xy, s), batch by batch."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = pa.schema(
        [("id", pa.int64()), ("k", pa.int32()), ("xy", pa.float64()), ("s", pa.string())]
    )

    def batches() -> Any:
        for batch in reader:
            kept = batch.filter(pc.less(batch.column("k"), THRESHOLD))
            xy = pc.multiply(kept.column("x"), kept.column("y"))
            yield pa.RecordBatch.from_arrays(
                [kept.column("id"), kept.column("k"), xy, kept.column("s")], schema=schema
            )

    return pa.RecordBatchReader.from_batches(schema, batches())


def raw_sql(db: str, config: dict[str, str], out: str) -> None:
    import duckdb

    con = duckdb.connect(db, config=config)
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {SCHEMA}.{out} AS "
            f"SELECT id, k, x * y AS xy, s FROM {SCHEMA}.{SOURCE} WHERE k < {THRESHOLD}"
        )
    finally:
        con.close()


def raw_reader(db: str, config: dict[str, str], out: str) -> None:
    import duckdb

    con = duckdb.connect(db, config=config)
    try:
        source = con.sql(f"SELECT * FROM {SCHEMA}.{SOURCE}").to_arrow_reader()
        filtered = filter_batches(source)
        writer = con.cursor()
        writer.register("filtered", filtered)
        writer.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{out} AS SELECT * FROM filtered")
        writer.close()
    finally:
        con.close()


def wharf_run(db: str, config: dict[str, str], out: str, lazy: str) -> None:
    import duckdb
    import pyarrow as pa

    import wharf as dg
    from wharf.duckdb import DuckDBIOManager

    if lazy == "relation":

        @dg.asset(name=out)
        def derived(big: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
            return big.filter(f"k < {THRESHOLD}").project("id, k, x * y AS xy, s")

    elif lazy == "lazyframe":
        import polars as pl

        @dg.asset(name=out)
        def derived(big: pl.LazyFrame) -> pl.LazyFrame:
            xy = (pl.col("x") * pl.col("y")).alias("xy")
            return big.filter(pl.col("k") < THRESHOLD).select("id", "k", xy, "s")

    else:

        @dg.asset(name=out)
        def derived(big: pa.RecordBatchReader) -> pa.RecordBatchReader:
            return filter_batches(big)

    kwargs: dict[str, Any] = {"database": db, "schema": SCHEMA}
    if config:
        kwargs["connection_config"] = config
    result = dg.materialize(
        [dg.AssetSpec(SOURCE), derived], resources={"io_manager": DuckDBIOManager(**kwargs)}
    )
    if not result.success:
        msg = f"materialize failed: {result.failures}"
        raise RuntimeError(msg)


def count_rows(db: str, table: str) -> int:
    import duckdb

    con = duckdb.connect(db, read_only=True)
    try:
        row = con.execute(f"SELECT count(*) FROM {SCHEMA}.{table}").fetchone()
        return int(row[0]) if row else -1
    finally:
        con.close()


def worker(spec: dict[str, Any]) -> None:
    if spec["mode"] == "generate":
        h.emit(worker_generate(spec["db"], spec["rows"]))
        return
    mode, db, config = spec["mode"], spec["db"], spec["config"]
    out = "out_" + mode.replace(" ", "_")
    if mode.startswith("wharf"):
        try:
            import wharf.duckdb  # noqa: F401
        except ImportError:
            h.emit({"na": "wharf.duckdb not importable"})
            return
    t0 = time.perf_counter()
    if mode == "raw sql":
        raw_sql(db, config, out)
    elif mode == "raw reader":
        raw_reader(db, config, out)
    else:
        wharf_run(db, config, out, mode.split()[1])
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    got, want = count_rows(db, out), expected_rows(spec["rows"])
    if got != want:
        h.emit({"error": f"{out} has {got} rows, expected {want}"})
        return
    h.emit({"seconds": seconds, "peak_mb": peak})


# ---------------------------------------------------------------- driver
def run(gb: float, memory_limits: list[str], keep: bool, db_path: str | None) -> None:
    python = h.wharf_python()
    per_row = _in_worker_bytes_per_row(python)
    rows = max(int(gb * 2**30 / per_row), 1000)
    db = Path(db_path) if db_path else h.CACHE_DIR / "ltm" / f"big-{rows}.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)

    print(f"\n== Larger than memory: {rows:,} rows (~{gb:g} GB as Arrow) in {db} ==")
    print(f"   {h.machine_summary()}")
    h.print_versions({"wharf": python})
    print(
        "   peak RSS = ru_maxrss of the whole process; memory_limit 'default' is DuckDB's (80% of RAM)"
    )
    t0 = time.perf_counter()
    if db.exists() and db_path is None:
        print(f"   reusing {db.name} ({db.stat().st_size / 2**30:.2f} GB file)")
    else:
        gen = h.run_worker(
            python, SCRIPT, {"mode": "generate", "db": str(db), "rows": rows}, timeout=3600
        )
        if "error" in gen:
            print(f"  error: generating the table failed: {gen['error']}")
            return
        print(
            f"   generated in {time.perf_counter() - t0:.0f} s: {gen['arrow_gb']:.2f} GB as Arrow, {gen['file_gb']:.2f} GB file"
        )
    data_mb = rows * per_row / 2**20

    table, notes = [], []
    for limit in memory_limits:
        config = {} if limit == "default" else {"memory_limit": limit}
        results: dict[str, dict[str, Any]] = {}
        for mode in MODES:
            spec = {"mode": mode, "db": str(db), "rows": rows, "config": config}
            results[mode] = h.run_worker(python, SCRIPT, spec, timeout=3600)
        for mode in MODES:
            r = results[mode]
            base = results.get(BASELINE.get(mode, ""), {})
            if "na" in r or "error" in r:
                table.append([limit, mode, "n/a" if "na" in r else "ERROR", "", "", "", ""])
                notes.append(
                    f"  {mode} ({limit}): "
                    + (f"n/a ({r['na']})" if "na" in r else f"error: {r['error']}")
                )
                continue
            table.append([
                limit, mode, f"{r['seconds']:.1f}", f"{r['peak_mb']:.0f}", f"{r['peak_mb'] / data_mb:.0%}",
                h.ratio(r["seconds"], base.get("seconds")) if base else "",
                h.ratio(r["peak_mb"], base.get("peak_mb")) if base else "",
            ])  # fmt: skip
    h.print_table(
        ["memory_limit", "run", "seconds", "peak RSS MB", "RSS/data", "time vs raw", "RSS vs raw"],
        table,
    )
    for note in notes:
        print(note)
    print(f"  data: {data_mb:,.0f} MB as Arrow; wharf's peak RSS should stay far under it")
    if not keep and db_path is None:
        for suffix in ("", ".wal"):
            Path(str(db) + suffix).unlink(missing_ok=True)


def _in_worker_bytes_per_row(python: Path) -> float:
    code = f"import sys; sys.path.insert(0, {str(h.BENCH_DIR)!r}); import larger_than_memory as m; print(m.bytes_per_row())"
    proc = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env=h.bench_env(),
        check=True,
    )
    return float(proc.stdout.strip())


def main(argv: list[str]) -> int:
    spec = h.worker_spec(argv)
    if spec is not None:
        worker(spec)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--gb", type=float, default=3.0, help="size of the table as Arrow data, GB (default 3)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 0.05 GB")
    parser.add_argument(
        "--memory-limit",
        nargs="+",
        default=list(MEMORY_LIMITS),
        help="DuckDB memory_limit settings to run under ('default' = DuckDB's own); default: default 1GB",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the generated database for the next run"
    )
    parser.add_argument("--db", default=None, help="use (and regenerate) this database file")
    args = parser.parse_args(argv[1:])
    run(0.05 if args.quick else args.gb, args.memory_limit, args.keep, args.db)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
