"""The web UI's server (``wharf dev``): graph, asset page and preview latency, server memory.

A real ``wharf dev`` process on a free loopback port, asked over HTTP (median of ``--repeats``):

- ``graph``: ``/api/graph`` of 2,000 assets (a binary tree of ``deps``), each with one
  materialization in the run history; target < 300 ms;
- ``asset page``: ``/api/assets/a0`` with 1,000 history rows; target < 100 ms;
- ``preview``: ``/api/assets/big/preview?limit=50`` of a 1e7-row DuckDB table, next to the same
  of a 1e5-row table; target < 200 ms, and the server's RSS after the 1e7 preview within
  50 MB of its RSS after the 1e5 one (the store reads 51 rows, not the table);
- ``page``: with Debian's headless chromium (when installed; ``--no-browser`` skips it), the
  graph page of the 2,000 assets until every node is drawn (the layout runs in a worker: the
  toolbar works meanwhile), then again after a reload (the layout is kept), and a selection
  typed into its filter until the count shows it.

Ratios are against the raw engine in this process: the same SQLite queries with ``sqlite3``
(graph, asset page) and ``SELECT * ... LIMIT 50`` with the duckdb client (preview). Dagster's
UI answers GraphQL from its own webserver; there is no same-run equivalent to time here.

    .venv/bin/python bench/ui_server.py [--assets N] [--rows N] [--repeats N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from wharf._core.history import RunHistory
from wharf.testing._process import ChildServer, free_port

TARGET_GRAPH_MS, TARGET_PAGE_MS, TARGET_PREVIEW_MS, TARGET_RSS_GROWTH_MB = 300, 100, 200, 50

PROJECT = """
import wharf as dg
from wharf.duckdb import DuckDBPandasIOManager

def make(i):
    deps = [f"a{(i - 1) // 2}"] if i else []

    @dg.asset(name=f"a{i}", deps=deps, group_name=f"g{i % 10}")
    def _a() -> None:
        return None

    return _a

assets = [make(i) for i in range(N)]

@dg.asset
def big() -> None:
    return None

@dg.asset
def small() -> None:
    return None

defs = dg.Definitions(
    assets=[*assets, big, small],
    resources={"io_manager": DuckDBPandasIOManager(database=DB, schema="public")},
)
"""


def get(url: str) -> tuple[float, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    t0 = time.perf_counter()
    with opener.open(url, timeout=120) as res:
        body = json.loads(res.read())
    return (time.perf_counter() - t0) * 1000, body


def median_ms(url: str, repeats: int) -> tuple[float, Any]:
    get(url)  # warm: the first request loads the definitions' caches
    times, body = [], None
    for _ in range(repeats):
        ms, body = get(url)
        times.append(ms)
    return statistics.median(times), body


def timed(fn: Any, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def browser_times(url: str, assets: int) -> tuple[float, float, float] | None:
    """ms until the graph page has drawn every node: first load, reload, and a filter."""
    chromium, driver_bin = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
    if not (chromium.exists() and driver_bin.exists()):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    with tempfile.TemporaryDirectory(prefix="wharf-ui-bench-browser-") as profile:
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                     f"--user-data-dir={profile}"):  # fmt: skip
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(str(driver_bin)), options=options)
        try:
            drawn = 'return document.querySelectorAll("#graph g.node").length'
            loads = []
            for _ in range(2):
                t0 = time.perf_counter()
                driver.get(url + "/")
                while driver.execute_script(drawn) < assets:
                    time.sleep(0.01)
                loads.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            driver.find_element(By.ID, "filter").send_keys('group:"g3"')
            count = f"{assets // 10} of {assets} assets"
            while driver.find_element(By.ID, "count").text != count:
                time.sleep(0.01)
            return loads[0], loads[1], (time.perf_counter() - t0) * 1000
        finally:
            driver.quit()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build(folder: Path, assets: int, rows: int) -> tuple[Path, Path, Path]:
    import duckdb

    db = folder / "bench.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA IF NOT EXISTS public")
    for name, n in (("big", rows), ("small", min(rows, 100_000))):
        con.execute(
            f"CREATE OR REPLACE TABLE public.{name} AS SELECT range AS id, random() AS x, "
            f"'row ' || range AS label FROM range({n})"
        )
    con.close()
    project = folder / "project.py"
    project.write_text(f"N = {assets}\nDB = {str(db)!r}\n" + PROJECT)
    home = folder / "home"
    with RunHistory(home / "history.sqlite") as history:
        now = time.time() - 86_400
        for i in range(assets):
            history.record(
                run_id="r0", asset_key=f"a{i}", status="success", started_at=now + i * 0.001,
                duration_s=0.01, metadata='{"row_count": 10}', io_manager="io_manager",
            )  # fmt: skip
        for j in range(1000):
            history.record(
                run_id=f"r{j + 1}", asset_key="a0", status="success", started_at=now + 10 + j,
                duration_s=0.02 + j * 1e-5, metadata=json.dumps({"row_count": j}),
                io_manager="io_manager",
            )  # fmt: skip
    return project, home, db


def run(
    quick: bool, assets: int = 2000, rows: int = 10_000_000, repeats: int = 7, browser: bool = True
) -> None:
    if quick:
        assets, rows, repeats = min(assets, 500), min(rows, 1_000_000), 3
    print(f"\nweb UI server: {assets} assets, preview of a {rows:.0e}-row DuckDB table")
    with tempfile.TemporaryDirectory(prefix="wharf-ui-bench-") as tmp:
        project, home, db = build(Path(tmp), assets, rows)
        port = free_port()
        wharf = str(Path(sys.executable).with_name("wharf"))
        argv = [wharf, "dev", "-f", str(project), "--port", str(port), "--no-daemon"]
        server = ChildServer("wharf-dev", argv, port, ready_path="/api/info")
        server.extra_env = {"WHARF_HOME": str(home)}
        with server.start(timeout=120):
            base = server.url
            graph_ms, graph = median_ms(f"{base}/api/graph", repeats)
            page_ms, page = median_ms(f"{base}/api/assets/a0", repeats)
            small_ms, _ = median_ms(f"{base}/api/assets/small/preview?limit=50", repeats)
            assert server.pid is not None
            rss_small = rss_mb(server.pid)
            big_ms, big = median_ms(f"{base}/api/assets/big/preview?limit=50", repeats)
            rss_big = rss_mb(server.pid)
            drawn = browser_times(base, assets + 2) if browser else None
        assert len(graph["assets"]) == assets + 2, "graph lost assets"
        assert len(page["history"]) == 1000, "asset page lost history rows"
        assert len(big["rows"]) == 50, "preview lost rows"
        raw_graph, raw_page, raw_preview = _raw(home, db, repeats)
    rows_out = [
        ("graph", graph_ms, raw_graph, TARGET_GRAPH_MS),
        ("asset page", page_ms, raw_page, TARGET_PAGE_MS),
        ("preview 1e5", small_ms, raw_preview, TARGET_PREVIEW_MS),
        (f"preview {rows:.0e}", big_ms, raw_preview, TARGET_PREVIEW_MS),
    ]
    print(f"  {'what':<14}{'wharf ms':>10}{'raw ms':>10}{'wharf/raw':>11}{'target ms':>11}  ok")
    for name, ms, raw, target in rows_out:
        ok = "yes" if ms < target else "NO"
        print(f"  {name:<14}{ms:>10.1f}{raw:>10.1f}{ms / raw:>10.1f}x{target:>11}  {ok}")
    growth = rss_big - rss_small
    ok = "yes" if growth < TARGET_RSS_GROWTH_MB else "NO"
    print(
        f"  server RSS after the 1e5 preview {rss_small:.0f} MB, after the {rows:.0e} one "
        f"{rss_big:.0f} MB: +{growth:.0f} MB (target < {TARGET_RSS_GROWTH_MB} MB)  {ok}"
    )
    if drawn is None:
        print("  graph page in chromium: not measured (--no-browser, or no /usr/bin/chromium)")
    else:
        print(
            f"  graph page in chromium, {assets + 2} nodes drawn: first load {drawn[0]:.0f} ms, "
            f"reload (layout kept) {drawn[1]:.0f} ms; a selection filtered in {drawn[2]:.0f} ms"
        )


def _raw(home: Path, db: Path, repeats: int) -> tuple[float, float, float]:
    """The same reads with the raw clients: what the UI adds on top of the engines."""
    import duckdb

    path = home / "history.sqlite"

    def graph() -> Any:
        with sqlite3.connect(path) as con:
            return con.execute(
                "SELECT * FROM materializations m WHERE rowid = (SELECT rowid FROM "
                "materializations WHERE asset_key = m.asset_key ORDER BY started_at DESC, "
                "rowid DESC LIMIT 1)"
            ).fetchall()

    def page() -> Any:
        with sqlite3.connect(path) as con:
            return con.execute(
                "SELECT * FROM materializations WHERE asset_key = 'a0' "
                "ORDER BY started_at DESC, rowid DESC LIMIT 1000"
            ).fetchall()

    def preview() -> Any:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.sql("SELECT * FROM public.big LIMIT 50").fetchall()
        finally:
            con.close()

    return timed(graph, repeats), timed(page, repeats), timed(preview, repeats)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-browser", action="store_true", help="skip the chromium page timing")
    args = parser.parse_args(argv[1:])
    run(args.quick, args.assets, args.rows, args.repeats, browser=not args.no_browser)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
