"""Parallel execution: the multiprocess and Dask executors against in-process, and Dagster's.

Two graphs, each run in fresh processes (wharf in .venv, Dagster in bench/.venv-dagster), with a
filesystem I/O manager:

- ``cpu``: 4 independent assets that each burn about 0.5 s of CPU. On 2 quiet cores the
  multiprocess executor should take at most 0.6 of the in-process time (ideal 0.5).
- ``fan-out``: one root and 200 trivial assets that read it. The overhead per step is the run's
  time less the in-process run's, over the steps, with one step at a time (``max_concurrent=1``,
  target: at most 5 ms) and with two; the same for the Dask executor on a local cluster started
  before the timing (its start-up is printed apart). Dagster runs a 20-asset fan-out (its
  multiprocess executor starts a process per step, about a second each).

Each wharf process first runs a 1-asset graph (it starts the worker fork server, or warms the
Dask cluster), which is printed apart too. The load average is printed with every number: the
machine is shared.

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
TARGET_RATIO = 0.6
TARGET_OVERHEAD_MS = 5.0
FAN = 200
DAGSTER_FAN = 20


def burn(seconds: float) -> int:
    """Spend ``seconds`` of CPU time."""
    end, n = time.process_time() + seconds, 0
    while time.process_time() < end:
        n += 1
    return n


def build(dg: Any, n: int, work_s: float, fan: bool) -> list[Any]:
    """``n`` independent assets burning ``work_s`` each, or (``fan``) a root and ``n`` readers."""

    @dg.asset(name="root")
    def root() -> int:
        return 1

    def make(i: int) -> Any:
        if fan:

            @dg.asset(name=f"task_{i}")
            def read(root: int) -> int:
                return root + i

            return read

        @dg.asset(name=f"task_{i}")
        def task() -> int:
            return burn(work_s)

        return task

    return ([root] if fan else []) + [make(i) for i in range(n)]


# The Dagster side needs a module-level job for its multiprocess executor (reconstructable);
# its step processes re-import this file, and read the run's spec from the environment.
SPEC: dict[str, Any] = eval(os.environ.get("WHARF_BENCH_SPEC", "{}"))


def dagster_job() -> Any:
    import dagster as dg

    defs = dg.Definitions(
        assets=build(dg, SPEC["n"], SPEC["work_s"], SPEC["fan"]),
        jobs=[dg.define_asset_job("bench_job", selection="*")],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=SPEC["base"])},
        executor=dg.multiprocess_executor.configured({"max_concurrent": SPEC["concurrent"]}),
    )
    return defs.get_job_def("bench_job")


def wharf_side(spec: dict[str, Any], base: str) -> dict[str, Any]:
    import wharf as dg

    mode, cluster, out = spec["mode"], None, {}
    executor: Any = None
    if mode == "multiprocess":
        executor = dg.multiprocess_executor(max_concurrent=spec["concurrent"])
    elif mode == "dask":
        import distributed

        t0 = time.perf_counter()
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=":0")  # fmt: skip
        out["cluster_s"] = time.perf_counter() - t0
        executor = dg.dask_executor(cluster.scheduler_address)
    try:
        assets = build(dg, spec["n"], spec["work_s"], spec["fan"])
        io = dg.FilesystemIOManager(base_dir=base)
        t0 = time.perf_counter()  # the first run starts the fork server (or warms the cluster)
        dg.materialize(build(dg, 1, 0.0, False), resources={"io_manager": io}, executor=executor)
        out["first_run_s"] = time.perf_counter() - t0
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        ok = dg.materialize(assets, resources={"io_manager": io}, executor=executor).success
        took = time.perf_counter() - t0
        return {**out, "seconds": took, "ok": ok, "load": (load + os.getloadavg()[0]) / 2}
    finally:
        if cluster is not None:
            cluster.close()


def run_side(spec: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as base:
        if spec["side"] == "wharf":
            return wharf_side(spec, base)
        import dagster as dg

        load = os.getloadavg()[0]
        if spec["mode"] == "in_process":
            assets = build(dg, spec["n"], spec["work_s"], spec["fan"])
            t0 = time.perf_counter()
            ok = dg.materialize(
                assets, resources={"io_manager": dg.FilesystemIOManager(base_dir=base)}
            ).success
        else:
            SPEC.update(spec, base=base)
            os.environ["WHARF_BENCH_SPEC"] = repr(dict(SPEC))
            with dg.instance_for_test(temp_dir=base) as instance:
                t0 = time.perf_counter()
                ok = dg.execute_job(dg.reconstructable(dagster_job), instance=instance).success
        took = time.perf_counter() - t0
        return {"seconds": took, "ok": ok, "load": (load + os.getloadavg()[0]) / 2}


def main(argv: list[str]) -> int:
    spec = h.worker_spec(argv)
    if spec is not None:
        h.emit(run_side(spec))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="0.25 s of CPU per asset")
    parser.add_argument("--no-dagster", action="store_true", help="wharf only")
    args = parser.parse_args(argv[1:])
    run(args.quick, args.no_dagster)
    return 0


def _cases(work: float) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    cpu = {"n": 4, "work_s": work, "fan": False}
    fan = {"n": FAN, "work_s": 0.0, "fan": True}
    small = {"n": DAGSTER_FAN, "work_s": 0.0, "fan": True}
    both, wharf = ("wharf", "dagster"), ("wharf",)
    return [
        ("cpu, in-process", {**cpu, "mode": "in_process", "concurrent": 1}, both),
        ("cpu, multiprocess (2)", {**cpu, "mode": "multiprocess", "concurrent": 2}, both),
        (f"fan-out {FAN}, in-process", {**fan, "mode": "in_process", "concurrent": 1}, wharf),
        (f"fan-out {FAN}, multiprocess (1)", {**fan, "mode": "multiprocess", "concurrent": 1},
         wharf),
        (f"fan-out {FAN}, multiprocess (2)", {**fan, "mode": "multiprocess", "concurrent": 2},
         wharf),
        (f"fan-out {FAN}, dask (2 workers)", {**fan, "mode": "dask", "concurrent": 2}, wharf),
        (f"fan-out {DAGSTER_FAN}, in-process", {**small, "mode": "in_process", "concurrent": 1},
         ("dagster",)),
        (f"fan-out {DAGSTER_FAN}, multiprocess (1)",
         {**small, "mode": "multiprocess", "concurrent": 1}, ("dagster",)),
    ]  # fmt: skip


def run(quick: bool, no_dagster: bool) -> dict[str, Any]:
    work = 0.25 if quick else 0.5
    dag_py, why = h.dagster_python(no_dagster)
    sides: dict[str, Path | None] = {"wharf": h.wharf_python(), "dagster": dag_py}
    print(f"\n== Executors: 4 assets x {work:g} s CPU; a {FAN}-asset fan-out ==")
    print(f"   {h.machine_summary()}, load average now {os.getloadavg()[0]:.1f}")
    h.print_versions(sides)
    got: dict[tuple[str, str], dict[str, Any]] = {}
    rows = []
    for label, case, who in _cases(work):
        for side in who:
            python = sides[side]
            if python is None:
                continue
            r = h.run_worker(python, SCRIPT, {"side": side, **case}, timeout=900)
            if "error" in r or not r.get("ok"):
                print(f"  note: {side} {label}: {r.get('error', 'run failed')}")
                continue
            got[(label, side)] = r
            steps = case["n"] + (1 if case["fan"] else 0)
            extra = []
            if "cluster_s" in r:
                extra.append(f"cluster start {r['cluster_s']:.2f} s")
            if "first_run_s" in r and case["mode"] != "in_process":
                extra.append(f"first 1-asset run {r['first_run_s']:.2f} s")
            rows.append([label, side, h.fmt(r["seconds"], " s"),
                         h.fmt(r["seconds"] * 1000 / steps, " ms"), f"{r['load']:.1f}",
                         "; ".join(extra)])  # fmt: skip
    h.print_table(["case", "side", "wall", "per step", "load", "apart from the timing"], rows)
    verdicts = _verdicts(got)
    if why and not no_dagster and dag_py is None:
        print(f"  note: dagster: n/a ({why})")
    return {"results": {f"{k[0]}|{k[1]}": v["seconds"] for k, v in got.items()}, **verdicts}


def _verdicts(got: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def seconds(label: str, side: str = "wharf") -> float | None:
        r = got.get((label, side))
        return r["seconds"] if r else None

    for side in ("wharf", "dagster"):
        serial, parallel = seconds("cpu, in-process", side), seconds("cpu, multiprocess (2)", side)
        if serial and parallel:
            ratio = parallel / serial
            verdict = f" (target <= {TARGET_RATIO}: {'OK' if ratio <= TARGET_RATIO else 'MISSED'})"
            print(f"  {side} multiprocess / in-process, cpu graph on 2 cores: {ratio:.2f} "
                  f"(ideal 0.50){verdict if side == 'wharf' else ''}")  # fmt: skip
            out[f"{side}_cpu_ratio"] = ratio
    for side, n in (("wharf", FAN), ("dagster", DAGSTER_FAN)):
        base = seconds(f"fan-out {n}, in-process", side)
        kinds = {"multiprocess (1)": "mp1", "multiprocess (2)": "mp2", "dask (2 workers)": "dask"}
        for kind, short in list(kinds.items())[: 3 if side == "wharf" else 1]:
            took = seconds(f"fan-out {n}, {kind}", side)
            if base is None or took is None:
                continue
            ms = (took - base) * 1000 / (n + 1)
            goal = ""
            if side == "wharf" and kind == "multiprocess (1)":
                goal = f" (target <= {TARGET_OVERHEAD_MS:g}: "
                goal += f"{'OK' if ms <= TARGET_OVERHEAD_MS else 'MISSED'})"
            print(f"  {side} {kind} overhead per step over in-process: {ms:.1f} ms{goal}")
            out[f"{side}_{short}_overhead_ms"] = ms
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv))
