"""Execution overhead: a chain of trivial assets, Definitions build + validate, import time.

wharf runs in the repo's .venv, Dagster in bench/.venv-dagster (built on first use); each
measurement is a fresh subprocess, and the same worker code below runs against either module
(``import wharf as dg`` or ``import dagster as dg``).

    .venv/bin/python bench/overhead.py            # 1,000 assets, 3 repeats, 11 import samples
    .venv/bin/python bench/overhead.py --quick    # 100 assets, 1 repeat, 3 import samples
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
TARGET_MS_PER_ASSET = 1.0
TARGET_DEFS_S = 0.5
TARGET_IMPORT_MS = 150.0


# ---------------------------------------------------------------- worker (either venv)
def build_chain(dg: Any, n: int) -> list[Any]:
    """``a0`` returns 0; ``a{i}`` takes ``a{i-1}`` through ``ins=`` and returns it + 1."""

    def make(i: int) -> Any:
        if i == 0:

            @dg.asset(name="a0")
            def first() -> int:
                return 0

            return first

        @dg.asset(name=f"a{i}", ins={"up": dg.AssetIn(key=f"a{i - 1}")})
        def step(up: int) -> int:
            return up + 1

        return step

    return [make(i) for i in range(n)]


def validate(dg: Any, defs: Any) -> None:
    """Force the validation Dagster defers (wharf validates in ``Definitions.__init__``)."""
    if hasattr(dg.Definitions, "validate_loadable"):
        dg.Definitions.validate_loadable(defs)
    if hasattr(defs, "get_repository_def"):
        defs.get_repository_def()


def worker_chain(side: str, n: int, repeats: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    if side == "wharf":
        import wharf as dg
    else:
        import dagster as dg
    import_s = time.perf_counter() - t0
    decorate, defs_build, run = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        assets = build_chain(dg, n)
        decorate.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        defs = dg.Definitions(assets=assets, resources={"io_manager": dg.InMemoryIOManager()})
        validate(dg, defs)
        defs_build.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        result = dg.materialize(assets, resources={"io_manager": dg.InMemoryIOManager()})
        run.append(time.perf_counter() - t0)
        if not result.success:
            msg = f"{side}: materialize failed"
            raise RuntimeError(msg)
        last = result.output_for_node(f"a{n - 1}")
        if last != n - 1:
            msg = f"{side}: last asset returned {last!r}, expected {n - 1}"
            raise RuntimeError(msg)
    return {
        "import_s": import_s,
        "decorate_s": h.median(decorate),
        "defs_s": h.median(defs_build),
        "run_s": h.median(run),
        "run_first_s": run[0],
        "peak_rss_mb": h.peak_rss_mb(),
    }


def worker(spec: dict[str, Any]) -> None:
    h.emit(worker_chain(spec["side"], spec["n"], spec["repeats"]))


# ---------------------------------------------------------------- driver (wharf's venv)
def import_times(python: Path, module: str, samples: int) -> list[float] | str:
    """Seconds to ``import module`` in ``samples`` fresh interpreters (after one warm-up)."""
    import subprocess

    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out: list[float] = []
    with tempfile.TemporaryDirectory() as cwd:
        for i in range(samples + 1):
            try:
                proc = subprocess.run(
                    [str(python), "-c", code], capture_output=True, text=True, cwd=cwd,
                    env=h.bench_env(), timeout=120, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                return "timed out"
            if proc.returncode != 0:
                return f"error: {(proc.stderr.strip().splitlines() or ['?'])[-1][:120]}"
            if i > 0:  # the first run only fills the bytecode cache
                out.append(float(proc.stdout.strip()))
    return out


def run(quick: bool, no_dagster: bool, n: int | None = None) -> dict[str, Any]:
    n = n or (100 if quick else 1000)
    repeats = 1 if quick else 3
    samples = 3 if quick else 11
    dag_py, why = h.dagster_python(no_dagster)
    sides: dict[str, Path | None] = {"wharf": h.wharf_python(), "dagster": dag_py}

    print(f"\n== Execution overhead: chain of {n} trivial assets, InMemoryIOManager ==")
    print(
        f"   {h.machine_summary()}; {repeats} repeat(s), median; import: median of {samples} fresh processes"
    )
    h.print_versions(sides)

    res: dict[str, dict[str, Any]] = {}
    imp: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    for side, python in sides.items():
        if python is None:
            notes[side] = why
            continue
        r = h.run_worker(python, SCRIPT, {"side": side, "n": n, "repeats": repeats}, timeout=900)
        if "error" in r:
            notes[side] = r["error"]
        else:
            res[side] = r
        t = import_times(python, side, samples)
        if isinstance(t, str):
            notes[side + " import"] = t
        else:
            imp[side] = h.median(t)

    def col(side: str, key: str, scale: float = 1.0) -> float | None:
        return res[side][key] * scale if side in res else None

    rows = []
    metrics = [
        (f"materialize, ms/asset (target wharf < {TARGET_MS_PER_ASSET:g})", "run_s", 1000 / n),
        ("materialize, first run in process, ms/asset", "run_first_s", 1000 / n),
        ("materialize, total s", "run_s", 1.0),
        (f"Definitions build+validate, s (target wharf < {TARGET_DEFS_S:g} @1000)", "defs_s", 1.0),
        ("@asset decoration of all assets, s", "decorate_s", 1.0),
        ("peak RSS of the worker, MB", "peak_rss_mb", 1.0),
    ]
    for label, key, scale in metrics:
        w, d = col("wharf", key, scale), col("dagster", key, scale)
        rows.append([label, h.fmt(w), h.fmt(d), h.ratio(w, d)])
    wi, di = imp.get("wharf"), imp.get("dagster")
    rows.append([
        f"import time, ms (target wharf < {TARGET_IMPORT_MS:g})",
        h.fmt(wi * 1000 if wi is not None else None),
        h.fmt(di * 1000 if di is not None else None),
        h.ratio(wi, di),
    ])  # fmt: skip
    h.print_table(["metric", "wharf", "dagster", "wharf/dagster"], rows)
    for side, note in notes.items():
        print(f"  note: {side}: n/a ({note})")
    verdicts = []
    if "wharf" in res:
        ms = res["wharf"]["run_s"] * 1000 / n
        verdicts.append(f"ms/asset {'OK' if ms < TARGET_MS_PER_ASSET else 'MISSED'}")
        if n >= 1000:
            ok = res["wharf"]["defs_s"] < TARGET_DEFS_S
            verdicts.append(f"defs build {'OK' if ok else 'MISSED'}")
    if wi is not None:
        verdicts.append(f"import {'OK' if wi * 1000 < TARGET_IMPORT_MS else 'MISSED'}")
    if verdicts:
        print("  wharf targets: " + ", ".join(verdicts))
    return {"n": n, "results": res, "import_s": imp, "notes": notes}


def main(argv: list[str]) -> int:
    spec = h.worker_spec(argv)
    if spec is not None:
        worker(spec)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 assets, 1 repeat")
    parser.add_argument("--no-dagster", action="store_true", help="wharf only")
    parser.add_argument("-n", type=int, default=None, help="number of assets in the chain")
    args = parser.parse_args(argv[1:])
    run(args.quick, args.no_dagster, args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
