"""Small shared helpers for the benchmarks: venvs, bounded subprocesses, RSS, timing, tables.

Stdlib only: this module is imported both in wharf's venv (.venv) and in the Dagster venv
(bench/.venv-dagster) that :func:`ensure_dagster_venv` builds on first use.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
DAGSTER_VENV = BENCH_DIR / ".venv-dagster"
# What the comparison venv gets. dagster-duckdb-pandas pins pandas<3, and the released
# dagster-duckdb-polars (0.29) calls DuckDBPyConnection.arrow(), which duckdb 2 removed, so
# Dagster gets duckdb<2 here. Raw DuckDB is also measured in this venv for a like-for-like ratio.
DAGSTER_REQUIREMENTS = (
    "dagster>=1.13,<1.14",
    "dagster-duckdb",
    "dagster-duckdb-pandas",
    "dagster-duckdb-polars",
    "pandas",
    "polars",
    "pyarrow",
    "duckdb<2",
)
VERSION_PACKAGES = ("wharf", "dagster", "dagster-duckdb", "pandas", "polars", "pyarrow", "duckdb")
RESULT_PREFIX = "@@BENCH-RESULT "
INSTALL_TIMEOUT_S = 1800


# ---------------------------------------------------------------- interpreters and venvs
def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def wharf_python() -> Path:
    """The interpreter with wharf installed: the repo's .venv, else the current one."""
    candidate = REPO / ".venv" / "bin" / "python"
    return candidate if candidate.exists() else Path(sys.executable)


def _venv_ok(python: Path) -> bool:
    if not python.exists():
        return False
    probe = "import dagster, dagster_duckdb_pandas, dagster_duckdb_polars, pandas, polars, pyarrow, duckdb"
    try:
        proc = subprocess.run(
            [str(python), "-c", probe],
            capture_output=True,
            timeout=300,
            env=bench_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0


def _run_install(cmd: list[str]) -> None:
    log("  $ " + " ".join(cmd))
    subprocess.run(cmd, check=True, timeout=INSTALL_TIMEOUT_S, stdout=sys.stderr)


@functools.cache
def ensure_dagster_venv() -> tuple[Path | None, str]:
    """Create bench/.venv-dagster with Dagster and its DuckDB integrations if it is missing.

    Returns the interpreter, or ``None`` and the reason it could not be built. Never raises.
    """
    python = DAGSTER_VENV / "bin" / "python"
    stamp = DAGSTER_VENV / ".bench-installed"
    wanted = "\n".join(DAGSTER_REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == wanted and _venv_ok(python):
        return python, ""
    log(f"building the Dagster comparison venv in {DAGSTER_VENV} (one-off, a minute or two)...")
    try:
        if not python.exists():
            base = getattr(sys, "_base_executable", None) or sys.executable
            _run_install([base, "-m", "venv", str(DAGSTER_VENV)])
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        try:
            _run_install([*pip, "uv"])
            uv = [str(python), "-m", "uv", "pip", "install", "--python", str(python)]
            _run_install([*uv, "--compile-bytecode", *DAGSTER_REQUIREMENTS])
        except subprocess.CalledProcessError:
            log("uv failed; falling back to pip")
            _run_install([*pip, *DAGSTER_REQUIREMENTS])
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not build {DAGSTER_VENV.name}: {exc}"
    if not _venv_ok(python):
        return (
            None,
            f"{DAGSTER_VENV.name} was built but cannot import dagster and its DuckDB packages",
        )
    stamp.write_text(wanted)
    return python, ""


def dagster_python(skip: bool) -> tuple[Path | None, str]:
    """The Dagster venv's interpreter (built on first use), or ``None`` and why not."""
    if skip:
        return None, "skipped (--no-dagster)"
    return ensure_dagster_venv()


def bench_env(**extra: str) -> dict[str, str]:
    """Environment for every benchmark subprocess, the same for both sides.

    ``import wharf`` finds this checkout's ``src/``. Bytecode is cached under bench/.cache, the
    same for both sides (a PYTHONDONTWRITEBYTECODE from the caller's environment would make
    every fresh process recompile wharf's or Dagster's sources and swamp import times).
    """
    env = dict(os.environ)
    for name in ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    # wharf from this checkout's src/, whatever checkout the venv's editable install names
    env["PYTHONPATH"] = str(REPO / "src")
    env["PYTHONPYCACHEPREFIX"] = str(CACHE_DIR / "pycache")
    env["WHARF_HOME"] = str(CACHE_DIR / "wharf-home")
    env["DAGSTER_HOME"] = str(CACHE_DIR / "dagster-home")
    env.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    env.update(extra)
    (CACHE_DIR / "dagster-home").mkdir(parents=True, exist_ok=True)
    return env


def package_versions(python: Path | None) -> dict[str, str]:
    """Installed versions of the packages that matter, as seen by ``python``."""
    if python is None:
        return {}
    code = (
        "import json, importlib.metadata as m\n"
        f"names = {list(VERSION_PACKAGES)!r}\n"
        "out = {}\n"
        "for n in names:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))\n"
    )
    try:
        proc = subprocess.run(
            [str(python), "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            env=bench_env(),
            check=False,
        )
        return dict(json.loads(proc.stdout)) if proc.returncode == 0 else {}
    except (subprocess.TimeoutExpired, ValueError):
        return {}


def machine_summary() -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, {mem_gb:.0f} GB RAM, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )


def print_versions(sides: dict[str, Path | None]) -> None:
    for side, python in sides.items():
        vers = package_versions(python)
        text = ", ".join(f"{k} {v}" for k, v in vers.items()) if vers else "n/a"
        print(f"  {side:8s} {python if python else '-'}: {text}")


# ---------------------------------------------------------------- bounded subprocess workers
def run_worker(python: Path, script: Path, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run ``script --worker <json spec>`` under ``python``; return the JSON it emitted.

    On a crash, a timeout (the whole process group is killed) or a missing result, returns
    ``{"error": "..."}`` instead of raising.
    """
    cmd = [str(python), str(script), "--worker", json.dumps(spec)]
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=bench_env(),
            start_new_session=True,
        )
    except OSError as exc:
        return {"error": f"cannot start {python}: {exc}"}
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line[len(RESULT_PREFIX) :]))
    tail = (err.strip().splitlines() or ["no output"])[-1]
    return {"error": f"exit {proc.returncode}: {tail[:200]}"}


def emit(result: dict[str, Any]) -> None:
    """Worker side: report the result to :func:`run_worker`."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def worker_spec(argv: Sequence[str]) -> dict[str, Any] | None:
    """The JSON spec if this process was started as a worker, else ``None``."""
    if len(argv) >= 3 and argv[1] == "--worker":
        return dict(json.loads(argv[2]))
    return None


# ---------------------------------------------------------------- memory and time
def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float:
    """Current resident set size in MB (Linux), or the lifetime peak elsewhere."""
    kb = _status_kb("VmRSS")
    return kb / 1024 if kb is not None else peak_rss_mb()


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0). True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """Peak RSS in MB since the last :func:`reset_peak_rss` (else since the process started)."""
    kb = _status_kb("VmHWM")
    if kb is not None:
        return kb / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def measure(fn: Callable[[], Any]) -> tuple[float, float, float, Any]:
    """Run ``fn`` once: (seconds, peak RSS MB during the call, peak minus RSS before, value)."""
    reset_peak_rss()
    before = rss_mb()
    t0 = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - t0
    peak = peak_rss_mb()
    return seconds, peak, max(peak - before, 0.0), value


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ---------------------------------------------------------------- one store: direct vs wharf
Ops = tuple[Callable[[], Any], Callable[[], Any]]  # (store, load)


def store_load_args(argv: Sequence[str], doc: str) -> argparse.Namespace:
    """``--rows``, ``--repeats``, ``--libs`` and ``--ops`` of a direct-vs-wharf store benchmark
    (which prints no warnings)."""
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=doc.split("\n", maxsplit=1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--libs", default="pandas,pyarrow")
    parser.add_argument("--ops", default="store,load", help="store, load or both")
    return parser.parse_args(argv[1:])


def alternating_medians(
    direct: Callable[[], Any], ours: Callable[[], Any], repeats: int
) -> tuple[float, float]:
    """Median seconds of each, the runs alternating so that drift hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, sink in zip((direct, ours), times, strict=True):
            start = time.perf_counter()
            fn()
            sink.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def wharf_io_ops(io: Any, lib: str, frame: Any) -> Ops:
    """``handle_output`` / ``load_input`` of asset ``t`` through ``io``, outside a run."""
    import pandas as pd
    import pyarrow as pa

    import wharf

    typ = pd.DataFrame if lib == "pandas" else pa.Table

    def store() -> None:
        io.handle_output(wharf.build_output_context(asset_key="t"), frame)

    def load() -> Any:
        return io.load_input(wharf.build_input_context(asset_key="t", dagster_type=typ))

    return store, load


def direct_vs_wharf(
    args: argparse.Namespace,
    title: str,
    direct_ops: Callable[[str, Any], Ops],
    io: Any,
    target: float = 1.2,
) -> int:
    """Print direct and wharf seconds and their ratio for each lib and op (and both ops
    together); 1 if any single op is over ``target``. ``direct_ops(lib, frame)`` gives the
    direct (store, load) of a 10-column frame of ``args.rows`` rows; wharf's goes through
    the I/O manager ``io``."""
    from duckdb_io import make_table

    failures = 0
    print(f"{title}, {args.rows:,} rows x 10 columns")
    print(f"{'lib':8} {'op':6} {'direct s':>9} {'wharf s':>9} {'ratio':>6}  target {target}x")
    for lib in args.libs.split(","):
        table = make_table(args.rows)
        frame = table.to_pandas() if lib == "pandas" else table
        (d_store, d_load), (w_store, w_load) = direct_ops(lib, frame), wharf_io_ops(io, lib, frame)
        d_store(), w_store()  # warm up: first connection, schemas
        pairs = {"store": (d_store, w_store), "load": (d_load, w_load)}
        wanted = args.ops.split(",")
        results = {
            op: alternating_medians(*pair, args.repeats)
            for op, pair in pairs.items()
            if op in wanted
        }
        if len(results) == 2:  # store + load: the round trip an asset pays
            both = [sum(r[i] for r in results.values()) for i in (0, 1)]
            results["both"] = (both[0], both[1])
        for op, (direct, ours) in results.items():
            ratio = ours / direct
            failures += op != "both" and ratio > target
            flag = "" if ratio <= target else "  (over target)"
            print(f"{lib:8} {op:6} {direct:9.3f} {ours:9.3f} {ratio:6.2f}{flag}")
    return 1 if failures else 0


# ---------------------------------------------------------------- formatting
def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "-"
    r = a / b
    return f"{r:.2f}x" if r >= 0.995 else f"{r:.2g}x"


def fmt(value: float | None, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}{unit}" if abs(value) < 10**digits else f"{value:.0f}{unit}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str = "") -> None:
    if title:
        print(f"\n{title}")
    cells = [list(map(str, headers)), *[list(map(str, r)) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    for i, row in enumerate(cells):
        print(
            "  ".join(
                c.ljust(w) if j == 0 else c.rjust(w)
                for j, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if i == 0:
            print(line)
    sys.stdout.flush()
