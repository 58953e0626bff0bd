"""Snowflake table I/O: store and load a 10-column frame through wharf vs the best direct path.

Both sides run against the same local fakesnow server (started here, stopped at the end):

- ``direct`` store: what the connector's ``write_pandas`` does, written out by hand, because
  ``write_pandas`` itself fails against fakesnow's server (``backends.md``): the frame to a
  Parquet file, ``CREATE TABLE``, ``PUT`` to a temporary stage, ``COPY INTO ...
  MATCH_BY_COLUMN_NAME``; connect and close included;
- ``direct`` load: ``cursor.execute("SELECT * ...")`` + ``fetch_arrow_all()`` (+ ``to_pandas``);
- ``wharf``: ``SnowflakeIOManager.handle_output`` / ``load_input`` with
  ``build_output_context`` / ``build_input_context`` (the store stages, then swaps the table in
  with ``CREATE OR REPLACE TABLE ... AS SELECT``: the atomic part costs a server-side copy).

Each figure is the median of ``--repeats`` runs in this process, direct and wharf runs
alternating. The target: wharf within 1.2x
of direct, for both operations, at 1e6 rows.

    .venv/bin/python bench/snowflake_io.py [--rows N] [--repeats N] [--libs pandas,pyarrow]
        [--ops store,load]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from duckdb_io import make_table

TARGET = 1.2


def compare(
    direct: Callable[[], Any], ours: Callable[[], Any], repeats: int
) -> tuple[float, float]:
    """Median seconds of each, the runs alternating so that drift hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, sink in zip((direct, ours), times, strict=True):
            start = time.perf_counter()
            fn()
            sink.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def direct_ops(snow: Any, lib: str, frame: Any) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def store() -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False) if lib == "pandas" else frame
        con = snow.connect("BENCH")
        try:
            with tempfile.TemporaryDirectory() as tmp, con.cursor() as cur:
                path = Path(tmp, "part.parquet")
                pq.write_table(table, path, compression="snappy")
                cur.execute('CREATE SCHEMA IF NOT EXISTS "DIRECT"')
                cur.execute(
                    'CREATE OR REPLACE TABLE "DIRECT"."T" ("id" NUMBER(38,0), "qty" NUMBER(38,0), '
                    '"customer_id" NUMBER(38,0), "price" FLOAT, "discount" FLOAT, "score" FLOAT, '
                    '"category" VARCHAR, "label" VARCHAR, "created_at" TIMESTAMP_NTZ(6), '
                    '"updated_at" TIMESTAMP_NTZ(6))'
                )
                stage = f'"DIRECT"."ST_{uuid.uuid4().hex}"'
                cur.execute(f"CREATE TEMPORARY STAGE {stage}")
                with path.open("rb") as data:
                    cur.execute(
                        f"PUT 'file://part.parquet' @{stage} AUTO_COMPRESS = FALSE",
                        file_stream=data,
                    )
                cur.execute(
                    f'COPY INTO "DIRECT"."T" FROM @{stage} FILE_FORMAT = (TYPE = PARQUET '
                    "USE_LOGICAL_TYPE = TRUE) MATCH_BY_COLUMN_NAME = CASE_SENSITIVE PURGE = TRUE"
                )
        finally:
            con.close()

    def load() -> Any:
        con = snow.connect("BENCH")
        try:
            with con.cursor() as cur:
                cur.execute('SELECT * FROM "DIRECT"."T"')
                table = cur.fetch_arrow_all()
        finally:
            con.close()
        return table.to_pandas() if lib == "pandas" else table

    return store, load


def wharf_ops(snow: Any, lib: str, frame: Any) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import pandas as pd
    import pyarrow as pa

    import wharf
    from wharf.snowflake import SnowflakeIOManager

    io = SnowflakeIOManager(**snow.config("BENCH"), schema="WHARF")
    typ = pd.DataFrame if lib == "pandas" else pa.Table

    def store() -> None:
        io.handle_output(wharf.build_output_context(asset_key="t"), frame)

    def load() -> Any:
        return io.load_input(wharf.build_input_context(asset_key="t", dagster_type=typ))

    return store, load


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--libs", default="pandas,pyarrow")
    parser.add_argument("--ops", default="store,load", help="store, load or both")
    args = parser.parse_args(argv[1:])
    warnings.simplefilter("ignore")

    from wharf.testing.snowflake import start_fakesnow

    failures = 0
    with start_fakesnow() as snow:
        print(f"Snowflake (fakesnow server) table I/O, {args.rows:,} rows x 10 columns")
        print(f"{'lib':8} {'op':6} {'direct s':>9} {'wharf s':>9} {'ratio':>6}  target {TARGET}x")
        for lib in args.libs.split(","):
            table = make_table(args.rows)
            frame = table.to_pandas() if lib == "pandas" else table
            d_store, d_load = direct_ops(snow, lib, frame)
            w_store, w_load = wharf_ops(snow, lib, frame)
            d_store(), w_store()  # warm up: first connection, schemas
            ops = {"store": (d_store, w_store), "load": (d_load, w_load)}
            wanted = args.ops.split(",")
            results = {op: compare(*ops[op], args.repeats) for op in ops if op in wanted}
            if len(results) == 2:  # store + load: the round trip an asset pays
                both = [sum(r[i] for r in results.values()) for i in (0, 1)]
                results["both"] = (both[0], both[1])
            for op, (direct, ours) in results.items():
                ratio = ours / direct
                failures += op != "both" and ratio > TARGET
                flag = "" if ratio <= TARGET else "  (over target)"
                print(f"{lib:8} {op:6} {direct:9.3f} {ours:9.3f} {ratio:6.2f}{flag}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
