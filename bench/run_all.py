"""Run every benchmark: wharf (this venv) against raw DuckDB/pyarrow and Dagster (its own venv).

    .venv/bin/python bench/run_all.py            # overhead, DuckDB I/O at 1e5/1e6 rows, executors
    .venv/bin/python bench/run_all.py --quick    # smoke run, < 60 s once the Dagster venv exists
    .venv/bin/python bench/run_all.py --large    # also 1e7 rows and the ~3 GB larger-than-memory run

The first run builds bench/.venv-dagster (dagster, dagster-duckdb, dagster-duckdb-pandas,
dagster-duckdb-polars, pandas, polars, pyarrow, duckdb) with uv.
"""

from __future__ import annotations

import argparse
import sys
import time

import _harness as h
import config_checks
import duckdb_io
import executors
import larger_than_memory
import ops
import overhead
import partitions
import ui_server
import versions
import write_modes

import object_stores


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat")
    parser.add_argument(
        "--large", action="store_true", help="add 1e7-row I/O and the larger-than-memory run"
    )
    parser.add_argument(
        "--gb", type=float, default=3.0, help="larger-than-memory table size (with --large)"
    )
    parser.add_argument("--no-dagster", action="store_true", help="skip the Dagster comparison")
    args = parser.parse_args(argv[1:])

    t0 = time.perf_counter()
    h.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    print(f"wharf benchmarks on {h.machine_summary()}")
    if not args.no_dagster:
        _, why = h.ensure_dagster_venv()
        if why:
            print(f"  Dagster comparison unavailable: {why}")
    overhead.run(args.quick, args.no_dagster)
    config_checks.run(args.quick, args.no_dagster)
    ops.run(args.quick, args.no_dagster)
    duckdb_io.run(args.quick, args.large, None, args.no_dagster)
    write_modes.run(args.quick)
    executors.run(args.quick, args.no_dagster)
    partitions.run([10, 1000] if args.quick else [10, 1000, 3650], args.no_dagster)
    object_stores.run(args.quick)
    ui_server.run(args.quick)
    versions.run(args.quick)
    if args.large:
        larger_than_memory.run(
            0.05 if args.quick else args.gb,
            list(larger_than_memory.MEMORY_LIMITS),
            keep=False,
            db_path=None,
        )
    print(f"\nall benchmarks done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
