"""Parallel execution: the multiprocess executor against in-process, and against Dagster's.

Two graphs, each run by both libraries in fresh processes (wharf in .venv, Dagster in
bench/.venv-dagster), with a filesystem I/O manager:

- ``cpu``: 8 independent assets that each burn about 1 s of CPU. On 2 cores the multiprocess
  executor should take close to half the in-process time.
- ``overhead``: 20 trivial independent assets run one at a time (``max_concurrent=1``): the
  time per asset is the executor's scheduling overhead (target for wharf: under 50 ms).

    .venv/bin/python bench/executors.py [--quick] [--no-dagster]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
TARGET_OVERHEAD_MS = 50.0


def burn(seconds: float) -> int:
    """Spend ``seconds`` of CPU time."""
    end, n = time.process_time() + seconds, 0
    while time.process_time() < end:
        n += 1
    return n


def build(dg: Any, n: int, work_s: float) -> list[Any]:
    def make(i: int) -> Any:
        @dg.asset(name=f"task_{i}")
        def task() -> int:
            return burn(work_s) if work_s else i

        return task

    return [make(i) for i in range(n)]


# The Dagster side needs a module-level job for its multiprocess executor (reconstructable);
# its step processes re-import this file, and read the run's spec from the environment.
SPEC: dict[str, Any] = eval(os.environ.get("WHARF_BENCH_SPEC", "{}"))


def dagster_job() -> Any:
    import dagster as dg

    defs = dg.Definitions(
        assets=build(dg, SPEC["n"], SPEC["work_s"]),
        jobs=[dg.define_asset_job("bench_job", selection="*")],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=SPEC["base"])},
        executor=dg.multiprocess_executor.configured({"max_concurrent": SPEC["concurrent"]}),
    )
    return defs.get_job_def("bench_job")


def run_side(spec: dict[str, Any]) -> dict[str, Any]:
    side, n, work_s, mode = spec["side"], spec["n"], spec["work_s"], spec["mode"]
    with tempfile.TemporaryDirectory() as base:
        if side == "wharf":
            import wharf as dg

            executor = (
                dg.multiprocess_executor(max_concurrent=spec["concurrent"])
                if mode == "multiprocess" else None
            )  # fmt: skip
            assets = build(dg, n, work_s)
            io = dg.FilesystemIOManager(base_dir=base)
            t0 = time.perf_counter()  # the first run of a process starts the worker fork server
            dg.materialize(assets[:1], resources={"io_manager": io}, executor=executor)
            startup = time.perf_counter() - t0
            t0 = time.perf_counter()
            ok = dg.materialize(assets, resources={"io_manager": io}, executor=executor).success
            return {"seconds": time.perf_counter() - t0, "ok": ok, "first_run_s": startup}
        import dagster as dg

        if mode == "in_process":
            assets = build(dg, n, work_s)
            t0 = time.perf_counter()
            ok = dg.materialize(
                assets, resources={"io_manager": dg.FilesystemIOManager(base_dir=base)}
            ).success
            return {"seconds": time.perf_counter() - t0, "ok": ok}
        SPEC.update(spec, base=base)
        os.environ["WHARF_BENCH_SPEC"] = repr(dict(SPEC))
        with dg.instance_for_test(temp_dir=base) as instance:
            t0 = time.perf_counter()
            result = dg.execute_job(dg.reconstructable(dagster_job), instance=instance)
            return {"seconds": time.perf_counter() - t0, "ok": result.success}


def worker(spec: dict[str, Any]) -> None:
    h.emit(run_side(spec))


def main(argv: list[str]) -> int:
    spec = h.worker_spec(argv)
    if spec is not None:
        worker(spec)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="0.3 s of CPU per asset")
    parser.add_argument("--no-dagster", action="store_true", help="wharf only")
    args = parser.parse_args(argv[1:])
    run(args.quick, args.no_dagster)
    return 0


def run(quick: bool, no_dagster: bool) -> dict[str, Any]:
    work = 0.3 if quick else 1.0
    dag_py, why = h.dagster_python(no_dagster)
    sides: dict[str, Path | None] = {"wharf": h.wharf_python(), "dagster": dag_py}
    print(f"\n== Executors: 8 assets x {work:g} s CPU, and 20 trivial assets one at a time ==")
    print(f"   {h.machine_summary()}")
    h.print_versions(sides)
    cases = [
        ("cpu, in-process", {"n": 8, "work_s": work, "mode": "in_process", "concurrent": 2}),
        (
            "cpu, multiprocess (2)",
            {"n": 8, "work_s": work, "mode": "multiprocess", "concurrent": 2},
        ),
        (
            "overhead, multiprocess (1)",
            {"n": 20, "work_s": 0.0, "mode": "multiprocess", "concurrent": 1},
        ),
    ]
    got: dict[tuple[str, str], float | None] = {}
    for label, case in cases:
        for side, python in sides.items():
            if python is None:
                got[(label, side)] = None
                continue
            r = h.run_worker(python, SCRIPT, {"side": side, **case}, timeout=900)
            ok = "error" not in r and r.get("ok")
            got[(label, side)] = r["seconds"] if ok else None
            if ok and "first_run_s" in r and case["mode"] == "multiprocess":
                print(
                    f"  {side} {label}: a first 1-asset run (starts the fork server) took {r['first_run_s']:.2f} s"
                )
            if not ok:
                print(f"  note: {side} {label}: {r.get('error', 'run failed')}")
    rows = []
    for label, case in cases:
        w, d = got[(label, "wharf")], got[(label, "dagster")]
        per = 1000 / case["n"]
        rows.append([label, h.fmt(w, " s"), h.fmt(d, " s"), h.ratio(w, d),
                     h.fmt(w * per if w else None, " ms"), h.fmt(d * per if d else None, " ms")])  # fmt: skip
    h.print_table(
        ["case", "wharf", "dagster", "wharf/dagster", "wharf per asset", "dagster per asset"], rows
    )
    serial, parallel = got[("cpu, in-process", "wharf")], got[("cpu, multiprocess (2)", "wharf")]
    if serial and parallel:
        print(f"  wharf multiprocess / in-process on 2 cores: {parallel / serial:.2f} (ideal 0.50)")
    over = got[("overhead, multiprocess (1)", "wharf")]
    if over:
        ms = over * 1000 / 20
        verdict = "OK" if ms < TARGET_OVERHEAD_MS else "MISSED"
        print(
            f"  wharf per-asset overhead: {ms:.1f} ms (target < {TARGET_OVERHEAD_MS:g}): {verdict}"
        )
    if why and no_dagster is False and dag_py is None:
        print(f"  note: dagster: n/a ({why})")
    return {"results": {f"{k[0]}|{k[1]}": v for k, v in got.items()}}


if __name__ == "__main__":
    sys.exit(main(sys.argv))
