"""What run config, asset checks and selections cost.

* a chain of N trivial assets, three ways: plain; each asset taking a ``Config`` given by the
  run config; each asset followed by an ``@asset_check`` -> the extra ms per asset (the issue's
  target for wharf: under 0.1 ms per asset for config validation and for check evaluation);
* resolving selections over a graph of 10,000 assets (10 groups of 1,000-asset chains):
  ``"*a9999"`` (string syntax), ``AssetSelection.groups(...).downstream()`` and an ``and``/``not``
  expression (target for wharf: under 50 ms each; median of 5, each after ``gc.collect()``).

The same worker runs ``import wharf as dg`` and ``import dagster as dg`` (bench/.venv-dagster,
built on first use) in fresh subprocesses; the ratio column is wharf/Dagster.

    .venv/bin/python bench/config_checks.py            # 1,000 assets, 5 repeats
    .venv/bin/python bench/config_checks.py --quick    # 200 assets, 1 repeat
"""

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
TARGET_EXTRA_MS = 0.1
TARGET_SELECT_MS = 50.0
SELECT_REPEATS = 5


def chain(dg: Any, n: int, *, config: bool, checks: bool) -> list[Any]:
    step_config = step_config_class(dg)

    def make(i: int) -> list[Any]:
        if i == 0:

            @dg.asset(name="a0")
            def first() -> int:
                return 0

            node = first
        elif config:

            @dg.asset(name=f"a{i}", ins={"up": dg.AssetIn(key=f"a{i - 1}")})
            def configured(config: step_config, up: int) -> int:  # type: ignore[valid-type]
                return up + config.inc

            node = configured
        else:

            @dg.asset(name=f"a{i}", ins={"up": dg.AssetIn(key=f"a{i - 1}")})
            def plain(up: int) -> int:
                return up + 1

            node = plain
        if not checks:
            return [node]

        @dg.asset_check(asset=node, name=f"c{i}")
        def positive() -> Any:
            return dg.AssetCheckResult(passed=True)

        return [node, positive]

    return [item for i in range(n) for item in make(i)]


_CONFIG_CLASSES: dict[str, Any] = {}


def step_config_class(dg: Any) -> Any:
    """``class Step(dg.Config): inc: int = 1``, made once per library."""
    if dg.__name__ not in _CONFIG_CLASSES:
        _CONFIG_CLASSES[dg.__name__] = type(
            "Step", (dg.Config,), {"__annotations__": {"inc": int}, "inc": 1}
        )
    return _CONFIG_CLASSES[dg.__name__]


def time_run(dg: Any, n: int, *, config: bool, checks: bool) -> tuple[float, float]:
    """Wall and CPU seconds (this process, every thread) of one ``materialize`` of the chain
    (built before the clocks start)."""
    run_config = None
    if config:
        run_config = {"ops": {f"a{i}": {"config": {"inc": 1}} for i in range(1, n)}}
    items = chain(dg, n, config=config, checks=checks)
    t0, c0 = time.perf_counter(), time.process_time()
    result = dg.materialize(
        items, resources={"io_manager": dg.InMemoryIOManager()}, run_config=run_config
    )
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if not result.success or result.output_for_node(f"a{n - 1}") != n - 1:
        msg = "the chain did not compute"
        raise RuntimeError(msg)
    return seconds, cpu


KINDS = {
    "plain_s": {"config": False, "checks": False},
    "config_s": {"config": True, "checks": False},
    "checks_s": {"config": False, "checks": True},
}


def time_runs(dg: Any, n: int, repeats: int) -> dict[str, float]:
    """Median wall seconds of each kind of chain (``plain_s``, ...) and median CPU seconds
    (``plain_cpu_s``, ...: less disturbed by other processes on a shared machine). The kinds
    alternate (plain, config, checks,
    plain, ...) after one warm-up run each, so drift on a shared machine hits them alike;
    each kind keeps its own run history (wharf's ``$WHARF_HOME``), so no kind reads the
    history the others wrote."""
    home = os.environ.get("WHARF_HOME")
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    cpus: dict[str, list[float]] = {k: [] for k in KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(repeats + 1):
            for name, kind in KINDS.items():
                os.environ["WHARF_HOME"] = str(Path(tmp) / name)
                seconds, cpu = time_run(dg, n, **kind)
                if rep:  # the first round warms up
                    times[name].append(seconds)
                    cpus[name].append(cpu)
    if home is not None:
        os.environ["WHARF_HOME"] = home
    out = {name: h.median(ts) for name, ts in times.items()}
    out.update({name.replace("_s", "_cpu_s"): h.median(cs) for name, cs in cpus.items()})
    return out


def wide_graph(dg: Any, groups: int = 10, length: int = 1000) -> list[Any]:
    out = []
    for g in range(groups):
        for i in range(length):
            n = g * length + i
            deps = [f"a{n - 1}"] if i else []
            out.append(dg.AssetSpec(f"a{n}", deps=deps, group_name=f"g{g}", tags={"t": str(g % 2)}))
    return out


def time_selections(dg: Any) -> dict[str, float]:
    specs = wide_graph(dg)
    t0 = time.perf_counter()
    graph = dg.Definitions(assets=specs).get_repository_def().asset_graph  # built once per defs
    out = {"(building the 10,000-asset graph)": time.perf_counter() - t0}
    sel = dg.AssetSelection
    cases = {
        "string '*a9999'": lambda: sel.from_string("*key:a9999"),
        "groups('g3').downstream()": lambda: sel.groups("g3", include_sources=True).downstream(),
        "'tag:t=1 and not group:g9'": lambda: sel.from_string('tag:"t"="1" and not group:"g9"'),
    }
    for label, build in cases.items():
        times = []
        for _ in range(SELECT_REPEATS):
            gc.collect()  # each repeat starts clean: no collection left over from the last one
            t0 = time.perf_counter()
            keys = build().resolve(graph)
            times.append(time.perf_counter() - t0)
            if not keys:
                msg = f"{label} selected nothing"
                raise RuntimeError(msg)
        out[label] = h.median(times)
    return out


def worker(spec: dict[str, Any]) -> None:
    if spec["side"] == "wharf":
        import wharf as dg
    else:
        import dagster as dg
    n, repeats = spec["n"], spec["repeats"]
    result: dict[str, Any] = time_runs(dg, n, repeats)
    result["select_s"] = time_selections(dg)
    h.emit(result)


def run(quick: bool, no_dagster: bool) -> dict[str, Any]:
    n, repeats = (200, 1) if quick else (1000, 5)
    dag_py, why = h.dagster_python(no_dagster)
    sides: dict[str, Path | None] = {"wharf": h.wharf_python(), "dagster": dag_py}
    print(f"\n== Run config, asset checks and selections: chain of {n}, InMemoryIOManager ==")
    print(f"   {h.machine_summary()}; {repeats} repeat(s), median")
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

    def per_asset(side: str, key: str, base: str = "plain_s") -> float | None:
        if side not in res or key not in res[side]:
            return None
        return (res[side][key] - res[side][base]) * 1000 / n

    rows = []
    for label, key in (("config validation", "config_s"), ("check evaluation", "checks_s")):
        w, d = per_asset("wharf", key), per_asset("dagster", key)
        target = f"{label}: extra ms/asset (target wharf < {TARGET_EXTRA_MS:g})"
        rows.append([target, h.fmt(w), h.fmt(d), h.ratio(w, d)])
        cpu_key = key.replace("_s", "_cpu_s")
        w, d = (
            per_asset("wharf", cpu_key, "plain_cpu_s"),
            per_asset("dagster", cpu_key, "plain_cpu_s"),
        )
        rows.append([f"{label}: extra CPU ms/asset", h.fmt(w), h.fmt(d), h.ratio(w, d)])
    base_w = res["wharf"]["plain_s"] * 1000 / n if "wharf" in res else None
    base_d = res["dagster"]["plain_s"] * 1000 / n if "dagster" in res else None
    rows.append(["plain chain, ms/asset", h.fmt(base_w), h.fmt(base_d), h.ratio(base_w, base_d)])
    labels = res.get("wharf", res.get("dagster", {})).get("select_s", {})
    for label in labels:
        w = res["wharf"]["select_s"][label] * 1000 if "wharf" in res else None
        d = res["dagster"]["select_s"][label] * 1000 if "dagster" in res else None
        target = "" if label.startswith("(") else " (target < 50)"
        rows.append([f"select {label}, ms{target}", h.fmt(w), h.fmt(d), h.ratio(w, d)])
    h.print_table(["metric", "wharf", "dagster", "wharf/dagster"], rows)
    for side, note in notes.items():
        print(f"  note: {side}: n/a ({note})")
    if "wharf" in res:
        cfg, chk = per_asset("wharf", "config_s"), per_asset("wharf", "checks_s")
        sel_ok = all(
            v * 1000 < TARGET_SELECT_MS
            for k, v in res["wharf"]["select_s"].items()
            if not k.startswith("(")
        )
        print(
            "  wharf targets: "
            f"config {'OK' if cfg is not None and cfg < TARGET_EXTRA_MS else 'MISSED'}, "
            f"checks {'OK' if chk is not None and chk < TARGET_EXTRA_MS else 'MISSED'}, "
            f"selection {'OK' if sel_ok else 'MISSED'}"
        )
    return {"n": n, "results": res, "notes": notes}


def main(argv: list[str]) -> int:
    spec = h.worker_spec(argv)
    if spec is not None:
        worker(spec)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 assets, 1 repeat")
    parser.add_argument("--no-dagster", action="store_true", help="wharf only")
    args = parser.parse_args(argv[1:])
    run(args.quick, args.no_dagster)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
