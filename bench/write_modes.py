"""Append and merge writes into a DuckDB table: wharf's I/O manager vs hand-written SQL (issue 15).

A base table of N rows (1e7; ``--quick`` 1e6) of ``id BIGINT, qty INTEGER, price DOUBLE,
category VARCHAR`` is created from one pyarrow Table (not timed; the raw sides and wharf get the
same row-group layout, which decides what the closing checkpoint rewrites), then one write of
M = N/10 rows, as a pyarrow Table, connection open and close (the checkpoint) included:

- ``merge``: half the new rows' ids exist (they are replaced), half are new.
  - ``raw MERGE``: ``MERGE INTO t USING new ON t.id = new.id WHEN MATCHED THEN UPDATE ... WHEN
    NOT MATCHED THEN INSERT ...`` (no index needed);
  - ``raw ON CONFLICT``: ``INSERT INTO t SELECT * FROM new ON CONFLICT (id) DO UPDATE SET ...``
    into a base table with ``PRIMARY KEY (id)`` (the index is built in the untimed setup);
  - ``wharf``: ``DuckDBIOManager.handle_output`` of an asset with ``write_mode="merge",
    merge_keys=["id"]`` (duplicate-key check, delete the matched rows, insert, one transaction).
- ``append``: M new rows; ``raw INSERT`` (``INSERT INTO t SELECT * FROM new``) vs ``wharf``
  with ``write_mode="append"``.

Dagster's DuckDB I/O managers have no append or merge (each write replaces the table or a
partition), so the Dagster column says n/a. Each measurement is a fresh subprocess on a fresh
database file; medians over ``--repeats``. Targets: merge within 1.3x of the faster raw merge,
append within 1.1x of raw ``INSERT``.

    .venv/bin/python bench/write_modes.py [--quick] [--rows N] [--repeats 3]
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
TARGETS = {"merge": 1.3, "append": 1.1}
COLUMNS = "id, qty, price, category"


def _base_sql(n: int, offset: int = 0) -> str:
    return (
        f"SELECT (range + {offset})::BIGINT AS id, (range % 1000)::INTEGER AS qty, "
        f"(range * 0.5)::DOUBLE AS price, 'cat_' || (range % 100)::VARCHAR AS category "
        f"FROM range({n})"
    )


def _new_rows(mode: str, n: int, m: int) -> Any:
    """M rows as a pyarrow Table: for a merge, half update existing ids and half are new."""
    import duckdb

    offset = n - m // 2 if mode == "merge" else n
    return duckdb.sql(_base_sql(m, offset)).to_arrow_table()


def _setup(db: str, side: str, n: int) -> None:
    import duckdb

    if side == "wharf":  # the table a wharf asset wrote (its stored schema in the comment)
        import wharf
        from wharf.duckdb import DuckDBIOManager

        table = duckdb.sql(_base_sql(n)).to_arrow_table()
        io = DuckDBIOManager(database=db, schema="public")
        io.handle_output(wharf.build_output_context(asset_key="t"), table)
        return
    with duckdb.connect(db) as con:  # from the same Arrow table: the same row-group layout
        con.register("base", duckdb.sql(_base_sql(n)).to_arrow_table())
        con.execute("CREATE SCHEMA IF NOT EXISTS public")
        if side == "raw ON CONFLICT":
            con.execute(
                "CREATE TABLE public.t (id BIGINT PRIMARY KEY, qty INTEGER, price DOUBLE, "
                "category VARCHAR)"
            )
            con.execute("INSERT INTO public.t SELECT * FROM base")
        else:
            con.execute("CREATE TABLE public.t AS SELECT * FROM base")


def _write(db: str, side: str, mode: str, new: Any) -> None:
    import duckdb

    if side == "wharf":
        import wharf
        from wharf.duckdb import DuckDBIOManager

        meta = (
            {"write_mode": mode, "merge_keys": ["id"]} if mode == "merge" else {"write_mode": mode}
        )
        io = DuckDBIOManager(database=db, schema="public")
        io.handle_output(wharf.build_output_context(asset_key="t", definition_metadata=meta), new)
        return
    sets = "qty = new.qty, price = new.price, category = new.category"
    with duckdb.connect(db) as con:
        con.register("new", new)
        if side == "raw MERGE":
            con.execute(
                f"MERGE INTO public.t USING new ON t.id = new.id WHEN MATCHED THEN UPDATE SET "
                f"{sets} WHEN NOT MATCHED THEN INSERT ({COLUMNS}) VALUES "
                "(new.id, new.qty, new.price, new.category)"
            )
        elif side == "raw ON CONFLICT":
            excluded = sets.replace("new.", "excluded.")
            con.execute(
                f"INSERT INTO public.t SELECT {COLUMNS} FROM new ON CONFLICT (id) DO UPDATE SET "
                f"{excluded}"
            )
        else:  # raw INSERT
            con.execute(f"INSERT INTO public.t SELECT {COLUMNS} FROM new")


def worker(spec: dict[str, Any]) -> None:
    import duckdb

    n, m, mode, side = spec["rows"], spec["rows"] // 10, spec["mode"], spec["side"]
    with tempfile.TemporaryDirectory(prefix="wharf-bench-modes-") as tmp:
        db = str(Path(tmp, "w.duckdb"))
        _setup(db, side, n)
        new = _new_rows(mode, n, m)
        start = time.perf_counter()
        _write(db, side, mode, new)
        seconds = time.perf_counter() - start
        with duckdb.connect(db) as con:
            rows = con.execute("SELECT count(*) FROM public.t").fetchone()
    expected = n + (m - m // 2 if mode == "merge" else m)
    h.emit({"s": seconds, "rows": rows[0] if rows else None, "expected": expected})


SIDES = {"merge": ("raw MERGE", "raw ON CONFLICT", "wharf"), "append": ("raw INSERT", "wharf")}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-dagster", action="store_true", help="(no Dagster column to skip)")
    args = parser.parse_args(argv)
    return run(args.quick, args.rows, args.repeats)


def run(quick: bool, rows: int | None = None, repeats: int = 1) -> int:
    """Print the table (``make bench`` calls this); 1 if a target is missed."""
    n = rows or (1_000_000 if quick else 10_000_000)
    repeats = 1 if quick else repeats
    python = h.wharf_python()
    h.log(h.machine_summary())
    rows, failed = [], False
    for mode, sides in SIDES.items():
        times: dict[str, float | None] = {}
        for side in sides:
            got = []
            for _ in range(repeats):
                spec = {"mode": mode, "side": side, "rows": n}
                result = h.run_worker(python, SCRIPT, spec, timeout=900)
                if "error" in result or result["rows"] != result["expected"]:
                    h.log(f"{mode} / {side}: {result}")
                    break
                got.append(result["s"])
            times[side] = h.median(got) if len(got) == repeats else None
        raws = [t for s, t in times.items() if s != "wharf" and t is not None]
        best = min(raws) if raws else None
        wharf_s = times["wharf"]
        ok = wharf_s is not None and best is not None and wharf_s <= TARGETS[mode] * best
        failed |= not ok
        rows.append([
            mode, f"{n:,} + {n // 10:,}",
            *(h.fmt(times.get(s), " s") for s in ("raw MERGE", "raw ON CONFLICT", "raw INSERT")),
            h.fmt(wharf_s, " s"), h.ratio(wharf_s, best), f"<= {TARGETS[mode]}x", "ok" if ok else "MISSED",
            "n/a (no append/merge)",
        ])  # fmt: skip
    h.print_table(
        ["mode", "rows", "raw MERGE", "raw ON CONFLICT", "raw INSERT", "wharf", "wharf/raw",
         "target", "", "dagster"],
        rows,
        title="DuckDB append and merge writes (pyarrow Table in)",
    )  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    spec = h.worker_spec(sys.argv)
    if spec is not None:
        worker(spec)
    else:
        sys.exit(main(sys.argv[1:]))
