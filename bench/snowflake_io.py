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

import functools
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import _harness as h


def direct_ops(snow: Any, lib: str, frame: Any) -> h.Ops:
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


def main(argv: list[str]) -> int:
    args = h.store_load_args(argv, __doc__)
    from wharf.snowflake import SnowflakeIOManager
    from wharf.testing.snowflake import start_fakesnow

    with start_fakesnow() as snow:
        io = SnowflakeIOManager(**snow.config("BENCH"), schema="WHARF")
        ops = functools.partial(direct_ops, snow)
        return h.direct_vs_wharf(args, "Snowflake (fakesnow server) table I/O", ops, io)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
