"""Object stores: store and load a 1e6-row pandas frame on S3, GCS and Azure (local servers).

moto, fake-gcs-server and Azurite are started on free loopback ports (wharf.testing.servers,
fake credentials; Azurite needs `make azurite`). For each store, best of ``--repeats``:

- ``direct``: the same Parquet written and read with pyarrow through a plain fsspec filesystem
  (``pq.write_table(pa.Table.from_pandas(df), fs.open(url, "wb"))`` and
  ``pq.read_table(fs.open(url)).to_pandas()``), i.e. the fastest obvious hand-written code;
- ``wharf``: ``ObjectStoreIOManager(base_path="<scheme>://bench/...")`` through
  ``wharf.materialize``: an asset returning the frame, then an asset that takes it as input;
- ``pickle``: what the seed's pickle managers (Dagster's S3PickleIOManager, GCSPickleIOManager,
  ConfigurablePickledObjectADLS2IOManager) do with a frame: ``pickle.dumps`` + one upload, one
  download + ``pickle.loads``. wharf's managers of those names store it as Parquet.

The target is wharf within 1.2x of ``direct``; the ratio ``pickle / wharf`` is printed too.

A second table stores the same rows as a stream of 2,000 small Arrow batches (an asset returning
a ``pyarrow.RecordBatchReader``) on local disk and each store, and loads it back as a
``pyarrow.Table``: wharf's writer (batches gathered into row groups) against
``pq.write_table(table, row_group_size=64 Mi)`` (one row group) and against one row group per
incoming batch (``ParquetWriter.write_batch`` each, wharf's file writer before issue 12), with
the ratios to ``write_table`` and each file's row groups and size.

    .venv/bin/python bench/object_stores.py [--rows N] [--repeats N] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import _harness as h

TARGET_VS_DIRECT = 1.2
BUCKET = "bench"
SCHEME = {"s3": "s3", "gcs": "gs", "azure": "abfs"}


def make_frame(n: int) -> Any:
    """A deterministic pandas frame: ints, floats, a 1000-value string column, timestamps."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "id": np.arange(n, dtype=np.int64),
        "qty": rng.integers(0, 1000, n, dtype=np.int32),
        "price": rng.random(n) * 100,
        "customer": pd.Series([f"customer-{i % 1000}" for i in range(n)], dtype="str"),
        "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="s"),
    })  # fmt: skip


def best(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@contextlib.contextmanager
def servers(logs: Path) -> Iterator[list[Any]]:
    from wharf.testing.servers import FAKE_AWS_ENV, start_azurite, start_fake_gcs, start_moto

    os.environ.update(FAKE_AWS_ENV)
    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    started: list[Any] = []
    try:
        for start in (start_moto, start_fake_gcs, start_azurite):
            server = start(logs)
            started.append(server)
            server.create_bucket(BUCKET)
        yield started
    finally:
        for server in started:
            server.close()


def measure_store(server: Any, df: Any, repeats: int) -> dict[str, float]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    import wharf as dg
    from wharf._io.object_store import ObjectStoreIOManager

    fs = server.filesystem()  # a plain fsspec client, as hand-written code would use
    root = f"{SCHEME[server.kind]}://{BUCKET}"
    direct_url, pickle_url = f"{root}/direct/t.parquet", f"{root}/pickle/t"

    def direct_store() -> None:
        with fs.open(direct_url, "wb") as f:
            pq.write_table(pa.Table.from_pandas(df), f)

    def direct_load() -> None:
        with fs.open(direct_url, "rb") as f:
            assert len(pq.read_table(f).to_pandas()) == len(df)

    def pickle_store() -> None:
        fs.pipe_file(pickle_url, pickle.dumps(df, protocol=pickle.HIGHEST_PROTOCOL))

    def pickle_load() -> None:
        assert len(pickle.loads(fs.cat_file(pickle_url))) == len(df)

    import pandas as pd

    def produce():  # type: ignore[no-untyped-def]
        return df

    def consume(t):  # type: ignore[no-untyped-def]
        assert len(t) == len(df)

    # real classes, not strings: the frame types are imported in this function
    produce.__annotations__ = {"return": pd.DataFrame}
    consume.__annotations__ = {"t": pd.DataFrame, "return": None}
    produce = dg.asset(name="t")(produce)
    consumer = dg.asset(name="consume", io_manager_key="consume_io")(consume)  # None in memory

    io = ObjectStoreIOManager(base_path=f"{root}/wharf", storage_options=server.storage_options())
    resources = {"io_manager": io, "consume_io": dg.InMemoryIOManager()}

    def wharf_store() -> None:
        assert dg.materialize([produce], resources={"io_manager": io}).success

    def wharf_load() -> None:
        result = dg.materialize([produce, consumer], resources=resources, selection=[consumer.key])
        assert result.success

    out: dict[str, float] = {}
    for name, fn in (
        ("direct_store", direct_store), ("direct_load", direct_load),
        ("wharf_store", wharf_store), ("wharf_load", wharf_load),
        ("pickle_store", pickle_store), ("pickle_load", pickle_load),
    ):  # fmt: skip
        fn()  # warm up: connections, imports, first-object costs
        out[name] = best(fn, repeats)
    out["parquet_mb"] = fs.size(f"{root}/wharf/t.parquet") / 2**20
    out["pickle_mb"] = fs.size(pickle_url) / 2**20
    return out


STREAM_BATCHES = 2_000


def measure_stream(fs: Any, root: str, table: Any, repeats: int, **options: Any) -> dict[str, Any]:
    """Store ``table`` as a stream of small batches and load it: wharf, write_table, per batch."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import wharf as dg
    from wharf._io.object_store import ObjectStoreIOManager

    batches = table.to_batches(max_chunksize=max(1, table.num_rows // STREAM_BATCHES))
    urls = {k: f"{root}/stream-{k}/events.parquet" for k in ("write_table", "per_batch")}
    fs.makedirs(f"{root}/stream-write_table", exist_ok=True)
    fs.makedirs(f"{root}/stream-per_batch", exist_ok=True)

    def write_table() -> None:
        with fs.open(urls["write_table"], "wb") as f:
            pq.write_table(table, f, row_group_size=64 * 2**20)

    def per_batch() -> None:
        with fs.open(urls["per_batch"], "wb") as f, pq.ParquetWriter(f, table.schema) as w:
            for batch in batches:
                w.write_batch(batch)

    def events() -> Any:
        return pa.RecordBatchReader.from_batches(table.schema, batches)

    def consume(events: Any) -> None:
        assert events.num_rows == table.num_rows

    events.__annotations__ = {"return": pa.RecordBatchReader}
    consume.__annotations__ = {"events": pa.Table, "return": None}
    producer = dg.asset(events)
    consumer = dg.asset(consume, io_manager_key="consume_io")
    io = ObjectStoreIOManager(base_path=f"{root}/stream-wharf", storage_options=options)
    resources = {"io_manager": io, "consume_io": dg.InMemoryIOManager()}
    urls["wharf"] = f"{root}/stream-wharf/events.parquet"

    def wharf_store() -> None:
        assert dg.materialize([producer], resources={"io_manager": io}).success

    def wharf_load() -> None:
        result = dg.materialize([producer, consumer], resources=resources, selection=["consume"])
        assert result.success

    def reader(kind: str) -> Callable[[], None]:
        def load() -> None:
            with fs.open(urls[kind], "rb") as f:
                assert pq.read_table(f).num_rows == table.num_rows

        return load

    out: dict[str, Any] = {}
    for kind, store, load in (
        ("write_table", write_table, reader("write_table")),
        ("per_batch", per_batch, reader("per_batch")),
        ("wharf", wharf_store, wharf_load),
    ):
        for op, fn in (("store", store), ("load", load)):
            fn()
            out[f"{kind}_{op}"] = best(fn, repeats)
        with fs.open(urls[kind], "rb") as f:
            out[f"{kind}_groups"] = pq.ParquetFile(f).num_row_groups
        out[f"{kind}_mb"] = fs.size(urls[kind]) / 2**20
    return out


def print_streams(results: dict[str, dict[str, Any]], rows: int) -> None:
    table = []
    for where, r in results.items():
        base_store, base_load = r["write_table_store"], r["write_table_load"]
        table.extend(
            [
                where, kind, h.fmt(r[f"{kind}_store"], " s"), h.ratio(r[f"{kind}_store"], base_store),
                h.fmt(r[f"{kind}_load"], " s"), h.ratio(r[f"{kind}_load"], base_load),
                str(r[f"{kind}_groups"]), f"{r[f'{kind}_mb']:.1f} MB",
            ]
            for kind in ("write_table", "per_batch", "wharf")
        )  # fmt: skip
    h.print_table(
        ["where", "writer", "store", "vs write_table", "load", "vs write_table", "row groups",
         "size"],
        table,
        title=f"a stream of {STREAM_BATCHES:,} batches ({rows:,} rows) stored and loaded as Arrow",
    )  # fmt: skip


def run(quick: bool = False, rows: int | None = None, repeats: int | None = None) -> bool:
    """Run the benchmark; print the tables; return whether wharf met the target everywhere."""
    rows = rows or (100_000 if quick else 1_000_000)
    repeats = repeats or (1 if quick else 5)
    print(f"\nobject stores: store + load a {rows:,}-row pandas frame (best of {repeats})")
    df = make_frame(rows)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="wharf-bench-") as logs, servers(Path(logs)) as live:
        for server in live:
            h.log(f"  {server.kind}: {server.url}")
            results[server.kind] = measure_store(server, df, repeats)
        import fsspec
        import pyarrow as pa

        arrow = pa.Table.from_pandas(df, preserve_index=False)
        streams = {"local disk": measure_stream(fsspec.filesystem("file"), logs, arrow, repeats)}
        for server in live:
            root = f"{SCHEME[server.kind]}://{BUCKET}"
            streams[server.kind] = measure_stream(
                server.filesystem(), root, arrow, repeats, **server.storage_options()
            )
    ok = True
    rows_out = []
    for kind, r in results.items():
        for op in ("store", "load"):
            direct, wharf = r[f"direct_{op}"], r[f"wharf_{op}"]
            ratio = wharf / direct
            ok = ok and ratio <= TARGET_VS_DIRECT
            rows_out.append([
                kind, op, h.fmt(direct, " s"), h.fmt(wharf, " s"), f"{ratio:.2f}x",
                "ok" if ratio <= TARGET_VS_DIRECT else f"> {TARGET_VS_DIRECT}x",
            ])  # fmt: skip
    h.print_table(
        ["store", "op", "direct pyarrow", "wharf", "wharf/direct", f"target {TARGET_VS_DIRECT}x"],
        rows_out, title="wharf ObjectStoreIOManager vs writing/reading the Parquet directly",
    )  # fmt: skip
    pickle_rows = [
        [
            kind, h.fmt(r["pickle_store"], " s"), h.fmt(r["wharf_store"], " s"),
            f"{r['pickle_store'] / r['wharf_store']:.2f}x", h.fmt(r["pickle_load"], " s"),
            h.fmt(r["wharf_load"], " s"), f"{r['pickle_load'] / r['wharf_load']:.2f}x",
            f"{r['pickle_mb']:.1f} / {r['parquet_mb']:.1f} MB",
        ]
        for kind, r in results.items()
    ]  # fmt: skip
    h.print_table(
        ["store", "pickle store", "parquet store", "ratio", "pickle load", "parquet load",
         "ratio", "pickle / parquet size"],
        pickle_rows, title="the seed's pickle managers: pickling the frame vs wharf's Parquet",
    )  # fmt: skip
    print_streams(streams, rows)
    return ok


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1e5 rows, 1 repeat")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv[1:])
    print(f"wharf object-store benchmark on {h.machine_summary()}")
    ok = run(args.quick, args.rows, args.repeats)
    print(
        f"\nwharf within {TARGET_VS_DIRECT}x of direct pyarrow everywhere: {'yes' if ok else 'NO'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
