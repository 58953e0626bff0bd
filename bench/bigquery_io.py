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

import functools
import io as _io
import sys
from typing import Any

import _harness as h

DATASET = "bench"


def direct_ops(bq: Any, lib: str, frame: Any) -> h.Ops:
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


def main(argv: list[str]) -> int:
    args = h.store_load_args(argv, __doc__)
    from wharf.bigquery import BigQueryIOManager
    from wharf.testing.bigquery import start_bqemulator

    with start_bqemulator() as bq:
        client = bq.client()
        client.create_dataset(DATASET, exists_ok=True)
        client.close()
        io = BigQueryIOManager(**bq.config(DATASET))
        ops = functools.partial(direct_ops, bq)
        return h.direct_vs_wharf(args, "BigQuery (bqemulator) table I/O", ops, io)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
