"""Per-step cost of ops: a chain of trivial ops in one job vs a chain of trivial assets.

Both run on wharf's one engine, so an op step should cost no more than an asset step. The same
worker code runs against Dagster (``import dagster as dg``) in bench/.venv-dagster (built on
first use), each side in a fresh subprocess: the job with ``execute_in_process()`` (values in
memory, as Dagster's default there), the assets with ``materialize`` and an
``InMemoryIOManager``.

    .venv/bin/python bench/ops.py            # 1,000 steps, 3 repeats
    .venv/bin/python bench/ops.py --quick    # 100 steps, 1 repeat
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import _harness as h
from overhead import build_chain as build_asset_chain  # the same asset chain as overhead.py

SCRIPT = Path(__file__).resolve()
#: an op step may cost at most this much more than an asset step (run-to-run noise)
TARGET_OP_OVER_ASSET = 1.10


# ---------------------------------------------------------------- worker (either venv)
def build_op_job(dg: Any, n: int) -> tuple[Any, str]:
    """A job ``first -> step -> step_2 -> ... -> step_{n-1}``; (the job, its last node)."""

    @dg.op
    def first() -> int:
        return 0

    @dg.op
    def step(up: int) -> int:
        return up + 1

    @dg.job
    def chain() -> None:
        value = first()
        for _ in range(n - 1):
            value = step(value)

    return chain, ("step" if n == 2 else f"step_{n - 1}")


def _check(side: str, what: str, got: Any, want: int) -> None:
    if got != want:
        msg = f"{side}: the last {what} returned {got!r}, expected {want}"
        raise RuntimeError(msg)


def worker_chain(side: str, n: int, repeats: int) -> dict[str, Any]:
    if side == "wharf":
        import wharf as dg
    else:
        import dagster as dg
    ops_s, assets_s = [], []
    for _ in range(repeats):
        job, last = build_op_job(dg, n)
        t0 = time.perf_counter()
        result = job.execute_in_process()
        ops_s.append(time.perf_counter() - t0)
        _check(side, "op", result.output_for_node(last), n - 1)

        assets = build_asset_chain(dg, n)
        t0 = time.perf_counter()
        done = dg.materialize(assets, resources={"io_manager": dg.InMemoryIOManager()})
        assets_s.append(time.perf_counter() - t0)
        _check(side, "asset", done.output_for_node(f"a{n - 1}"), n - 1)
    return {"ops_s": h.median(ops_s), "assets_s": h.median(assets_s),
            "peak_rss_mb": h.peak_rss_mb()}  # fmt: skip


def worker(spec: dict[str, Any]) -> None:
    h.emit(worker_chain(spec["side"], spec["n"], spec["repeats"]))


# ---------------------------------------------------------------- driver (wharf's venv)
def run(quick: bool, no_dagster: bool, n: int | None = None) -> dict[str, Any]:
    n = n or (100 if quick else 1000)
    repeats = 1 if quick else 3
    dag_py, why = h.dagster_python(no_dagster)
    sides: dict[str, Path | None] = {"wharf": h.wharf_python(), "dagster": dag_py}
    print(f"\n== Ops: a chain of {n} trivial ops (one job) vs a chain of {n} trivial assets ==")
    print(f"   {h.machine_summary()}; {repeats} repeat(s), median; values in memory")
    h.print_versions(sides)
    res: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    for side, python in sides.items():
        if python is None:
            notes[side] = why
            continue
        r = h.run_worker(python, SCRIPT, {"side": side, "n": n, "repeats": repeats}, timeout=1800)
        if "error" in r:
            notes[side] = r["error"]
        else:
            res[side] = r

    def per_step(side: str, key: str) -> float | None:
        return res[side][key] * 1000 / n if side in res else None

    rows = []
    for label, key in (("op job (execute_in_process), ms/step", "ops_s"),
                       ("asset chain (materialize), ms/step", "assets_s")):  # fmt: skip
        w, d = per_step("wharf", key), per_step("dagster", key)
        rows.append([label, h.fmt(w), h.fmt(d), h.ratio(w, d)])
    w_ratio = h.ratio(per_step("wharf", "ops_s"), per_step("wharf", "assets_s"))
    d_ratio = h.ratio(per_step("dagster", "ops_s"), per_step("dagster", "assets_s"))
    rows.append(["op step / asset step", w_ratio, d_ratio, ""])
    w, d = res.get("wharf", {}).get("peak_rss_mb"), res.get("dagster", {}).get("peak_rss_mb")
    rows.append(["peak RSS of the worker, MB", h.fmt(w), h.fmt(d), h.ratio(w, d)])
    h.print_table(["metric", "wharf", "dagster", "wharf/dagster"], rows)
    for side, note in notes.items():
        print(f"  note: {side}: n/a ({note})")
    if "wharf" in res:
        over = res["wharf"]["ops_s"] / res["wharf"]["assets_s"]
        verdict = "OK" if over <= TARGET_OP_OVER_ASSET else "MISSED"
        print(f"  wharf target: an op step costs no more than an asset step: {verdict} "
              f"({over:.2f}x, allowed {TARGET_OP_OVER_ASSET:g}x)")  # fmt: skip
    return {"n": n, "results": res, "notes": notes}


def main(argv: list[str]) -> int:
    spec = h.worker_spec(argv)
    if spec is not None:
        worker(spec)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 steps, 1 repeat")
    parser.add_argument("--no-dagster", action="store_true", help="wharf only")
    parser.add_argument("-n", type=int, default=None, help="number of steps in each chain")
    args = parser.parse_args(argv[1:])
    run(args.quick, args.no_dagster, args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
