"""PostgreSQL table I/O: store and load a 1e6-row frame through PostgresIOManager vs raw ADBC.

Against a throw-away local server (``wharf.testing.postgres``: Debian's binaries, fsync off) or
``--uri``, for a pyarrow Table and a pandas DataFrame of 10 columns (ints, floats, strings,
timestamps with and without a zone), each of:

- ``raw``: the best direct client path, ADBC: ``cursor.adbc_ingest(table, mode="replace")`` +
  ``commit()`` to store (``pa.Table.from_pandas`` first for pandas), ``cursor.execute("SELECT *
  ...")`` + ``fetch_arrow_table()`` to load (``.to_pandas()`` for pandas); connect and close
  included;
- ``wharf``: ``wharf.postgres.PostgresIOManager`` called through ``handle_output`` /
  ``load_input`` (``build_output_context`` / ``build_input_context``): stage + swap in one
  transaction, row-count check, schema comment, and the restore of the written Arrow types.

Raw and wharf alternate, each measured ``--repeats`` times; the median is reported with the
ratio wharf / raw (target: at most 1.2).

    .venv/bin/python bench/postgres_io.py [--rows N] [--repeats N] [--uri postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

TARGET_VS_RAW = 1.2


def make_table(n: int) -> Any:
    """A deterministic table: 3 int, 3 float, 2 string and 2 timestamp columns."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(42)
    start = np.datetime64("2020-01-01T00:00:00", "us").astype(np.int64)

    def strings(prefix: str, values: Any) -> Any:
        return pc.binary_join_element_wise(prefix, pc.cast(pa.array(values), pa.string()), "")

    seconds = rng.integers(0, 3 * 365 * 86400, n) * 1_000_000
    return pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "qty": pa.array(rng.integers(0, 1000, n, dtype=np.int32)),
            "customer_id": pa.array(rng.integers(0, 1_000_000, n, dtype=np.int64)),
            "price": pa.array(rng.random(n) * 100),
            "discount": pa.array(rng.random(n)),
            "weight": pa.array(rng.random(n) * 10),
            "sku": strings("sku-", rng.integers(0, 50_000, n)),
            "region": strings("region-", rng.integers(0, 20, n)),
            "ordered_at": pa.array(start + seconds, pa.timestamp("us")),
            "shipped_at": pa.array(start + seconds + 86_400_000_000, pa.timestamp("us", tz="UTC")),
        }
    )


def median_of(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--uri", help="an existing server (default: start a throw-away one)")
    args = parser.parse_args(argv[1:])

    import adbc_driver_postgresql.dbapi as adbc
    import pandas as pd
    import pyarrow as pa

    import wharf
    from wharf.postgres import PostgresIOManager
    from wharf.testing.postgres import start_postgres

    server = None if args.uri else start_postgres()
    uri = args.uri or server.uri  # type: ignore[union-attr]
    try:
        table = make_table(args.rows)
        frames = {"pyarrow": (table, pa.Table), "pandas": (table.to_pandas(), pd.DataFrame)}
        parts = uri.split("/")[2].rsplit("@", 1)[-1]
        host, port = parts.rsplit(":", 1)
        io = PostgresIOManager(host=host, port=int(port), schema="bench")
        print(f"PostgreSQL I/O, {args.rows:,} rows x 10 columns, median of {args.repeats}")
        print(f"{'frame':<8} {'op':<5} {'raw ADBC s':>11} {'wharf s':>9} {'ratio':>6}")
        worst = 0.0
        for lib, (value, annotation) in frames.items():

            def raw_store(value: Any = value, lib: str = lib) -> None:
                data = value if lib == "pyarrow" else pa.Table.from_pandas(value)
                with adbc.connect(uri) as con, con.cursor() as cur:
                    cur.adbc_ingest("raw_t", data, mode="replace")
                    con.commit()

            def raw_load(lib: str = lib) -> Any:
                with adbc.connect(uri) as con, con.cursor() as cur:
                    cur.execute("SELECT * FROM raw_t")
                    got = cur.fetch_arrow_table()
                return got if lib == "pyarrow" else got.to_pandas()

            def wharf_store(value: Any = value) -> None:
                io.handle_output(wharf.build_output_context(asset_key="t"), value)

            def wharf_load(annotation: Any = annotation) -> Any:
                ctx = wharf.build_input_context(asset_key="t", dagster_type=annotation)
                return io.load_input(ctx)

            raw_store()
            wharf_store()  # warm up: tables exist, connections and imports are hot
            for op, raw, ours in (
                ("store", raw_store, wharf_store),
                ("load", raw_load, wharf_load),
            ):
                r, w = [], []
                for _ in range(args.repeats):  # alternate, so drift hits both alike
                    r.append(median_of(raw, 1))
                    w.append(median_of(ours, 1))
                raw_s, wharf_s = statistics.median(r), statistics.median(w)
                worst = max(worst, wharf_s / raw_s)
                print(f"{lib:<8} {op:<5} {raw_s:>11.3f} {wharf_s:>9.3f} {wharf_s / raw_s:>6.2f}")
        verdict = "ok" if worst <= TARGET_VS_RAW else "ABOVE TARGET"
        print(f"worst ratio {worst:.2f} (target <= {TARGET_VS_RAW}): {verdict}")
        return 0 if worst <= TARGET_VS_RAW else 1
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
