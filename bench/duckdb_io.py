"""DuckDB table I/O: store and load a 10-column frame through an I/O manager vs raw DuckDB.

For pandas, polars and pyarrow, at 1e5 and 1e6 rows (1e7 with ``--large``), each of:

- ``raw``: the same operation written directly against duckdb on a file database:
  ``CREATE TABLE public.t AS SELECT * FROM df`` and ``con.sql("SELECT * FROM public.t").df()``
  (``.pl()``, ``.to_arrow_table()``), connect and close included;
- ``wharf``: ``wharf.duckdb.DuckDBIOManager(database=..., schema="public")`` called directly
  through ``handle_output`` / ``load_input`` with ``build_output_context`` / ``build_input_context``;
- ``dagster``: ``DuckDBPandasIOManager`` / ``DuckDBPolarsIOManager`` called the same way (Dagster
  has no DuckDB I/O manager for pyarrow tables).

Every measurement is a fresh subprocess: it builds the frame (or, for a load, nothing), resets the
kernel's peak-RSS mark, runs the one operation, and reports wall time, peak RSS during the call
and that peak minus the RSS just before it (the memory the operation itself needed). Each store
goes into a new database file; the loads then read the table that side stored.

    .venv/bin/python bench/duckdb_io.py [--quick] [--large] [--repeats N] [--no-dagster]
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
LIBS = ("pandas", "polars", "pyarrow")
TARGET_VS_RAW = 1.15
TABLE = "t"
SCHEMA = "public"


# ---------------------------------------------------------------- worker (either venv)
def make_table(n: int) -> Any:
    """A deterministic pyarrow table: 3 int, 3 float, 2 string and 2 timestamp columns."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(42)
    ids = np.arange(n, dtype=np.int64)
    start = np.datetime64("2020-01-01T00:00:00", "us").astype(np.int64)

    def strings(prefix: str, values: Any) -> Any:
        return pc.binary_join_element_wise(prefix, pc.cast(pa.array(values), pa.string()), "")

    return pa.table({
        "id": pa.array(ids),
        "qty": pa.array(rng.integers(0, 1000, n, dtype=np.int32)),
        "customer_id": pa.array(rng.integers(0, 1_000_000, n, dtype=np.int64)),
        "price": pa.array(rng.random(n) * 100),
        "discount": pa.array(rng.random(n)),
        "score": pa.array(rng.standard_normal(n)),
        "category": strings("cat_", ids % 100),
        "label": strings("user_", rng.integers(0, 10**9, n)),
        "created_at": pa.array(start + ids * 1_000_000, type=pa.timestamp("us")),
        "updated_at": pa.array(start + rng.integers(0, 10**15, n), type=pa.timestamp("us")),
    })  # fmt: skip


def make_frame(lib: str, n: int) -> Any:
    table = make_table(n)
    if lib == "pandas":
        return table.to_pandas()
    if lib == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table


def frame_type(lib: str) -> Any:
    if lib == "pandas":
        import pandas as pd

        return pd.DataFrame
    if lib == "polars":
        import polars as pl

        return pl.DataFrame
    import pyarrow as pa

    return pa.Table


def num_rows(obj: Any) -> int:
    return int(obj.num_rows) if hasattr(obj, "num_rows") else len(obj)


def raw_store(db: str, df: Any) -> None:
    import duckdb

    con = duckdb.connect(db)
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        con.execute(f"CREATE TABLE {SCHEMA}.{TABLE} AS SELECT * FROM df")
    finally:
        con.close()


def raw_load(db: str, lib: str) -> Any:
    import duckdb

    con = duckdb.connect(db)
    try:
        rel = con.sql(f"SELECT * FROM {SCHEMA}.{TABLE}")
        if lib == "pandas":
            return rel.df()
        if lib == "polars":
            return rel.pl()
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
    finally:
        con.close()


def _handler(manager: Any, build_init_resource_context: Any) -> Any:
    """The object with handle_output/load_input (Dagster's factories build one on init)."""
    if hasattr(manager, "handle_output"):
        return manager
    return manager.create_io_manager(build_init_resource_context())


Ops = tuple[Any, Any]  # (store(db, df), load(db) -> frame)


def raw_ops(lib: str) -> Ops:
    return raw_store, lambda db: raw_load(db, lib)


def wharf_ops(lib: str) -> Ops:
    import wharf
    from wharf.duckdb import DuckDBIOManager

    typ = frame_type(lib)
    init = getattr(wharf, "build_init_resource_context", None)

    def store(db: str, df: Any) -> None:
        io = _handler(DuckDBIOManager(database=db, schema=SCHEMA), init)
        io.handle_output(wharf.build_output_context(asset_key=TABLE), df)

    def load(db: str) -> Any:
        io = _handler(DuckDBIOManager(database=db, schema=SCHEMA), init)
        return io.load_input(wharf.build_input_context(asset_key=TABLE, dagster_type=typ))

    return store, load


def dagster_ops(lib: str) -> Ops:
    import dagster as dg

    if lib == "pandas":
        from dagster_duckdb_pandas import DuckDBPandasIOManager as Manager
    elif lib == "polars":
        from dagster_duckdb_polars import DuckDBPolarsIOManager as Manager
    else:
        msg = "Dagster has no DuckDB I/O manager for pyarrow"
        raise LookupError(msg)
    typ = frame_type(lib)
    dagster_type = dg.DagsterType(
        type_check_fn=lambda _ctx, _v: True, name=typ.__name__, typing_type=typ
    )
    key = dg.AssetKey([TABLE])

    def config(db: str) -> dict[str, Any]:
        # Called outside a run, Dagster's DuckDB client reads its settings from the context.
        return {"database": db, "schema": SCHEMA, "connection_config": {}}

    def store(db: str, df: Any) -> None:
        io = _handler(Manager(database=db, schema=SCHEMA), dg.build_init_resource_context)
        io.handle_output(dg.build_output_context(asset_key=key, resource_config=config(db)), df)

    def load(db: str) -> Any:
        io = _handler(Manager(database=db, schema=SCHEMA), dg.build_init_resource_context)
        out_ctx = dg.build_output_context(asset_key=key, resource_config=config(db))
        ctx = dg.build_input_context(
            asset_key=key,
            resource_config=config(db),
            dagster_type=dagster_type,
            upstream_output=out_ctx,
        )
        return io.load_input(ctx)

    return store, load


def remove_db(db: str) -> None:
    for suffix in ("", ".wal"):
        Path(db + suffix).unlink(missing_ok=True)


def worker(spec: dict[str, Any]) -> None:
    side, lib, op, rows, db = spec["side"], spec["lib"], spec["op"], spec["rows"], spec["db"]
    try:
        store, load = {"raw": raw_ops, "wharf": wharf_ops, "dagster": dagster_ops}[side](lib)
    except ImportError as exc:
        h.emit({"na": f"{exc.name or 'module'} not importable"})
        return
    except LookupError as exc:
        h.emit({"na": str(exc)})
        return
    # Warm up on a tiny frame in a scratch database, so that one-off lazy imports and first-call
    # set-up in duckdb, the frame library or the I/O manager are not charged to the measurement.
    scratch = db + ".warmup"
    remove_db(scratch)
    store(scratch, make_frame(lib, 1000))
    load(scratch)
    remove_db(scratch)

    if op == "store":
        remove_db(db)
        df = make_frame(lib, rows)
        gc.collect()
        seconds, peak, delta, _ = h.measure(lambda: store(db, df))
        got = rows
    else:
        gc.collect()
        seconds, peak, delta, value = h.measure(lambda: load(db))
        got = num_rows(value)
        if not isinstance(value, frame_type(lib)):
            h.emit(
                {
                    "error": f"load returned {type(value).__name__}, expected {frame_type(lib).__name__}"
                }
            )
            return
    if got != rows:
        h.emit({"error": f"{op} saw {got} rows, expected {rows}"})
        return
    h.emit(
        {
            "seconds": seconds,
            "peak_mb": peak,
            "delta_mb": delta,
            "file_mb": os.path.getsize(db) / 2**20,
        }
    )


# ---------------------------------------------------------------- driver (wharf's venv)
def wharf_duckdb_status(python: Path) -> str:
    """'' if ``wharf.duckdb`` imports in wharf's venv, else why not."""
    try:
        proc = subprocess.run(
            [str(python), "-c", "from wharf.duckdb import DuckDBIOManager"],
            capture_output=True, text=True, timeout=120, env=h.bench_env(), check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return "wharf.duckdb import timed out"
    if proc.returncode == 0:
        return ""
    last = (proc.stderr.strip().splitlines() or ["?"])[-1]
    return f"wharf.duckdb not importable: {last[:120]}"


def measure_side(
    python: Path, side: str, lib: str, rows: int, repeats: int, workdir: Path
) -> dict[str, dict[str, Any]]:
    """Median store and load results for one side, each repeat a fresh process."""
    db = str(workdir / f"{side}-{lib}-{rows}.duckdb")
    timeout = 180 + 600 * rows / 10**7
    out: dict[str, dict[str, Any]] = {}
    for op in ("store", "load"):
        runs = []
        for _ in range(repeats):
            spec = {"side": side, "lib": lib, "op": op, "rows": rows, "db": db}
            r = h.run_worker(python, SCRIPT, spec, timeout)
            if "error" in r or "na" in r:
                out[op] = r
                break
            runs.append(r)
        else:
            out[op] = {k: h.median([r[k] for r in runs]) for k in runs[0]}
        if op == "store" and ("error" in out[op] or "na" in out[op]):  # nothing to load
            out["load"] = out["store"]
            break
    remove_db(db)
    return out


def cell(r: dict[str, Any] | None, key: str, digits: int = 3) -> str:
    if r is None:
        return "-"
    if "na" in r:
        return "n/a"
    if "error" in r:
        return "ERROR"
    return h.fmt(r[key], digits=digits)


def value(r: dict[str, Any] | None, key: str) -> float | None:
    return r[key] if r is not None and key in r else None


def run(
    quick: bool, large: bool, repeats: int | None, no_dagster: bool, sizes: list[int] | None = None
) -> None:
    sizes = sizes or ([100_000] if quick else [100_000, 1_000_000])
    if large and not quick and 10_000_000 not in sizes:
        sizes = [*sizes, 10_000_000]
    repeats = repeats or (1 if quick else 3)
    wharf_py = h.wharf_python()
    dag_py, dag_why = h.dagster_python(no_dagster)
    wharf_why = wharf_duckdb_status(wharf_py)
    wharf_vers, dag_vers = h.package_versions(wharf_py), h.package_versions(dag_py)

    print(
        f"\n== DuckDB table I/O: 10-column frame, file database, store then load ({repeats} repeat(s), median) =="
    )
    print(f"   {h.machine_summary()}")
    h.print_versions({"wharf": wharf_py, "dagster": dag_py})
    print(
        "   s = wall seconds; dMB = peak RSS during the call minus RSS before it; ratios are of seconds"
    )
    if wharf_why:
        print(f"   wharf: n/a ({wharf_why})")
    if dag_py is None:
        print(f"   dagster: n/a ({dag_why})")
    # raw DuckDB is also run in the Dagster venv for a library whose version differs there
    # (pandas: dagster-duckdb-pandas pins pandas<3), so Dagster is compared like for like.
    differs = (
        set()
        if dag_py is None
        else {
            lib
            for lib in LIBS
            if any(dag_vers.get(n) != wharf_vers.get(n) for n in (lib, "duckdb"))
        }
    )

    headers = [
        "rows", "lib", "op", "raw s", "wharf s", "dagster s", "raw(dg venv) s",
        "wharf/raw", "wharf/dagster", "dagster/raw(dg)", "raw dMB", "wharf dMB", "dagster dMB", "file MB raw/wh/dg",
    ]  # fmt: skip
    rows_out: list[list[str]] = []
    misses: list[str] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="io-", dir=h.CACHE_DIR) as tmp:
        workdir = Path(tmp)
        for rows in sizes:
            for lib in LIBS:
                res: dict[str, dict[str, dict[str, Any]]] = {}
                res["raw"] = measure_side(wharf_py, "raw", lib, rows, repeats, workdir)
                if wharf_why:
                    res["wharf"] = {"store": {"na": wharf_why}, "load": {"na": wharf_why}}
                else:
                    res["wharf"] = measure_side(wharf_py, "wharf", lib, rows, repeats, workdir)
                if dag_py is None:
                    res["dagster"] = {"store": {"na": dag_why}, "load": {"na": dag_why}}
                else:
                    res["dagster"] = measure_side(dag_py, "dagster", lib, rows, repeats, workdir)
                    if lib in differs:
                        res["rawdg"] = measure_side(dag_py, "raw", lib, rows, repeats, workdir)
                for op in ("store", "load"):
                    raw, wh, dg, rdg = (
                        res.get(s, {}).get(op) for s in ("raw", "wharf", "dagster", "rawdg")
                    )
                    for side, r in (
                        ("raw", raw),
                        ("wharf", wh),
                        ("dagster", dg),
                        ("raw(dg venv)", rdg),
                    ):
                        if r is not None and "error" in r:
                            errors.append(f"{side} {lib} {op} {rows:,}: {r['error']}")
                    ws, rs = value(wh, "seconds"), value(raw, "seconds")
                    if ws is not None and rs is not None and ws / rs > TARGET_VS_RAW:
                        misses.append(f"{lib} {op} {rows:,}: {ws / rs:.2f}x")
                    files = (
                        "/".join(cell(r, "file_mb", 2) for r in (raw, wh, dg))
                        if op == "store"
                        else ""
                    )
                    rows_out.append([
                        f"{rows:,}", lib, op,
                        cell(raw, "seconds"), cell(wh, "seconds"), cell(dg, "seconds"),
                        cell(rdg, "seconds") if lib in differs else "",
                        h.ratio(ws, rs), h.ratio(ws, value(dg, "seconds")),
                        h.ratio(value(dg, "seconds"), value(rdg, "seconds")) if lib in differs else "",
                        cell(raw, "delta_mb", 4), cell(wh, "delta_mb", 4), cell(dg, "delta_mb", 4), files,
                    ])  # fmt: skip
    h.print_table(headers, rows_out)
    if differs and dag_py is not None:
        pins = ", ".join(
            f"{name} {wharf_vers.get(name)} vs {dag_vers.get(name)}"
            for name in ("duckdb", *LIBS)
            if wharf_vers.get(name) != dag_vers.get(name)
        )
        print(f"  raw(dg venv): raw DuckDB in the Dagster venv, where versions differ ({pins})")
    if dag_py is not None:
        print("  dagster pyarrow: n/a (Dagster has no DuckDB I/O manager for pyarrow tables)")
    for err in errors:
        print(f"  error: {err}")
    if not wharf_why:
        verdict = "OK" if not misses else "MISSED for " + "; ".join(misses)
        if repeats < 3:
            verdict += f" ({repeats} repeat(s): noisy)"
        print(f"  wharf target wharf/raw <= {TARGET_VS_RAW}: {verdict}")


def main(argv: list[str]) -> int:
    spec = h.worker_spec(argv)
    if spec is not None:
        worker(spec)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 1e5 rows, 1 repeat")
    parser.add_argument("--large", action="store_true", help="add 1e7 rows (slow, ~1 GB frames)")
    parser.add_argument(
        "--repeats", type=int, default=None, help="processes per measurement (default 3)"
    )
    parser.add_argument(
        "--rows", type=int, nargs="*", default=None, help="row counts (overrides the defaults)"
    )
    parser.add_argument("--no-dagster", action="store_true", help="wharf and raw only")
    args = parser.parse_args(argv[1:])
    h.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    run(args.quick, args.large, args.repeats, args.no_dagster, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
