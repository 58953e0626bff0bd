"""BigQuery table I/O: store and load a 10-column frame through wharf vs the best direct path.

Both sides run against the same local bqemulator (from ``.venv-bq``; started here, stopped at
the end), with anonymous credentials:

- ``direct`` store: ``client.load_table_from_dataframe`` (pandas) / ``load_table_from_file`` of
  a Parquet buffer with the schema (pyarrow), ``WRITE_TRUNCATE``, into the target;
- ``direct`` load: ``query("SELECT * ...").result().to_arrow(create_bqstorage_client=False)``
  (REST result pages, as without the Storage API package; ``list_rows(table).to_arrow()`` takes
  the same time), + ``to_pandas`` for pandas;
- ``wharf``: ``BigQueryIOManager.handle_output`` / ``load_input`` with ``build_output_context``
  / ``build_input_context`` (a load job into a stage table, then ``CREATE OR REPLACE TABLE ...
  AS SELECT``: the atomic swap costs a server-side copy and two more jobs).

Each figure is the median of ``--repeats`` runs in this process, direct and wharf runs
alternating (the emulator's speed drifts). Loads are slow on both sides (~50 s per 1e6 rows):
the REST pages are JSON, parsed cell by cell in Python by the client library. The target: wharf within 1.2x
of direct, for both operations, at 1e6 rows.

    .venv/bin/python bench/bigquery_io.py [--rows N] [--repeats N] [--libs pandas,pyarrow]
        [--ops store,load]
"""

from __future__ import annotations

import argparse
import io as _io
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

from duckdb_io import make_table

TARGET = 1.2
DATASET = "bench"


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


def direct_ops(bq: Any, lib: str, frame: Any) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import pyarrow.parquet as pq
    from google.cloud import bigquery

    table_id = f"{bq.project}.{DATASET}.direct"
    truncate = bigquery.WriteDisposition.WRITE_TRUNCATE

    def store() -> None:
        client = bq.client()
        try:
            if lib == "pandas":
                config = bigquery.LoadJobConfig(write_disposition=truncate)
                client.load_table_from_dataframe(frame, table_id, job_config=config).result()
            else:
                buf = _io.BytesIO()
                pq.write_table(frame, buf, compression="snappy")
                buf.seek(0)
                config = bigquery.LoadJobConfig(
                    source_format=bigquery.SourceFormat.PARQUET,
                    write_disposition=truncate,
                    schema=[bigquery.SchemaField(f.name, _bq_type(f.type)) for f in frame.schema],
                )
                client.load_table_from_file(buf, table_id, job_config=config).result()
        finally:
            client.close()

    def load() -> Any:
        client = bq.client()
        try:
            rows = client.query(f"SELECT * FROM `{DATASET}`.`direct`").result()
            table = rows.to_arrow(create_bqstorage_client=False)
        finally:
            client.close()
        return table.to_pandas() if lib == "pandas" else table

    return store, load


def _bq_type(t: Any) -> str:
    import pyarrow as pa

    if pa.types.is_integer(t):
        return "INT64"
    if pa.types.is_floating(t):
        return "FLOAT64"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP" if t.tz else "DATETIME"
    return "STRING"


def wharf_ops(bq: Any, lib: str, frame: Any) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import pandas as pd
    import pyarrow as pa

    import wharf
    from wharf.bigquery import BigQueryIOManager

    io = BigQueryIOManager(**bq.config(DATASET))
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

    from wharf.testing.bigquery import start_bqemulator

    failures = 0
    with start_bqemulator() as bq:
        client = bq.client()
        client.create_dataset(DATASET, exists_ok=True)
        client.close()
        print(f"BigQuery (bqemulator) table I/O, {args.rows:,} rows x 10 columns")
        print(f"{'lib':8} {'op':6} {'direct s':>9} {'wharf s':>9} {'ratio':>6}  target {TARGET}x")
        for lib in args.libs.split(","):
            table = make_table(args.rows)
            frame = table.to_pandas() if lib == "pandas" else table
            d_store, d_load = direct_ops(bq, lib, frame)
            w_store, w_load = wharf_ops(bq, lib, frame)
            d_store(), w_store()  # warm up
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
