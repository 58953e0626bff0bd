"""What the graph and the asset and run pages show beyond rows and columns: source assets,
``deps`` edges, kinds, asset checks with their newest results, metadata rendered by its kind
(markdown, links, tables, JSON), retried steps, and steps of a parallel run side by side.

One real ``wharf dev`` process for the module; runs come from ``wharf materialize`` in
other processes, as they would from a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.ui.conftest import DevServer, materialize, start_dev, write_project
from tests.ui.test_browser import click, wait

PROJECT = """
import time
from pathlib import Path

import wharf as dg

orders_source = dg.SourceAsset("orders_source", group_name="raw")


@dg.asset(group_name="raw", deps=[orders_source], kinds={"python"}, tags={"tier": "gold"})
def orders() -> dg.Output[list[int]]:
    notes = "# Orders\\n\\nThree rows from **the shop**:\\n\\n- see [the docs](https://example.com/docs)\\n- `id` is unique"
    sample = dg.MetadataValue.table(
        [dg.TableRecord({"id": 1, "city": "Oslo"}), dg.TableRecord({"id": 2, "city": "Rome"})]
    )
    return dg.Output(
        [1, 2, 3],
        metadata={
            "notes": dg.MetadataValue.md(notes),
            "dashboard": dg.MetadataValue.url("https://example.com/dash"),
            "sample": sample,
            "settings": {"window": [1, 7]},
            "upstream": dg.MetadataValue.asset(dg.AssetKey("orders_source")),
        },
    )


@dg.asset_check(asset=orders)
def orders_positive(orders: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=min(orders) > 0, metadata={"min": min(orders)})


@dg.asset_check(asset=orders, description="at most two orders")
def orders_few(orders: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=len(orders) <= 2, severity=dg.AssetCheckSeverity.WARN, metadata={"count": len(orders)}
    )


@dg.asset(group_name="marts", check_specs=[dg.AssetCheckSpec("has_total", asset="report")])
def report(orders: list[int]):
    yield dg.Output(sum(orders))
    yield dg.AssetCheckResult(passed=True, check_name="has_total")


@dg.asset(group_name="marts", retry_policy=dg.RetryPolicy(max_retries=2))
def flaky(orders: list[int]) -> int:
    mark = Path(FILES) / "flaky-tried"
    if not mark.exists():
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.write_text("1")
        raise ConnectionError("the warehouse hung up")
    return len(orders)


class ScaleConfig(dg.Config):
    factor: int = 1


@dg.asset(group_name="marts")
def scaled(config: ScaleConfig, orders: list[int]) -> list[int]:
    return [o * config.factor for o in orders]


def meeting(name, other):
    # says it started, then waits (20 s at most) until the other has started too: the two
    # overlap whenever they run at once, and only then
    @dg.asset(name=name, group_name="wide")
    def _meet() -> int:
        Path(FILES).mkdir(parents=True, exist_ok=True)
        (Path(FILES) / f"{name}-started").write_text("1")
        deadline = time.monotonic() + 20
        while not (Path(FILES) / f"{other}-started").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.05)
        return 1

    return _meet


wide_job = dg.define_asset_job(
    "wide_job", selection='group:"wide"', executor_def=dg.multiprocess_executor
)

defs = dg.Definitions(
    assets=[orders_source, orders, report, flaky, scaled, meeting("left", "right"), meeting("right", "left")],
    asset_checks=[orders_positive, orders_few],
    jobs=[wide_job],
    resources={"io_manager": dg.FilesystemIOManager(base_dir=FILES)},
)
"""


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """A server over PROJECT whose history has one run of orders, its checks and report."""
    folder = tmp_path_factory.mktemp("ui-details")
    project = write_project(folder / "project", PROJECT)
    server = start_dev(project, folder / "home")
    server.project, server.home = project, folder / "home"
    try:
        materialize(server, "--select", "orders,report")
        yield server
    finally:
        server.stop()


def by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["key"]: i for i in items}


def test_graph_has_source_assets_deps_edges_kinds_and_checks(rich: DevServer) -> None:
    graph = rich.get("/api/graph")
    nodes = by_key(graph["assets"])
    assert nodes["orders_source"]["kind"] == "source"
    assert (nodes["orders"]["kinds"], nodes["orders"]["tags"]) == (["python"], {"tier": "gold"})
    edges = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert ("orders_source", "orders", "dep") in edges
    assert ("orders", "report", "input") in edges
    checks = by_key(graph["checks"])
    assert sorted(checks) == ["orders#orders_few", "orders#orders_positive", "report#has_total"]
    assert checks["orders#orders_positive"]["status"] == "passed"
    assert (checks["orders#orders_few"]["status"], checks["orders#orders_few"]["severity"]) == (
        "failed",
        "WARN",
    )
    assert checks["report#has_total"]["status"] == "passed"
    assert rich.get('/api/select?q=tag:"tier"="gold"')["keys"] == ["orders"]


def test_asset_page_has_check_results_and_metadata_kinds(rich: DevServer) -> None:
    page = rich.get("/api/assets/orders")
    kinds = page["latest"]["metadata_kinds"]
    assert {k: kinds[k] for k in ("notes", "dashboard", "sample", "settings", "upstream")} == {
        "notes": "md", "dashboard": "url", "sample": "table", "settings": "json",
        "upstream": "asset",
    }  # fmt: skip
    assert page["latest"]["metadata"]["sample"]["records"][1] == {"id": 2, "city": "Rome"}
    checks = {c["name"]: c for c in page["checks"]}
    assert sorted(checks) == ["orders_few", "orders_positive"]
    assert checks["orders_few"]["metadata"]["count"] == 3
    assert checks["orders_few"]["description"] == "at most two orders"
    assert checks["orders_positive"]["run_id"] == page["latest"]["run_id"]


def test_a_retried_step_shows_each_attempt(rich: DevServer) -> None:
    materialize(rich, "--select", "flaky")
    run_id = rich.get("/api/assets/flaky")["latest"]["run_id"]
    steps = rich.get(f"/api/runs/{run_id}")["steps"]
    assert [(s["asset_key"], s["status"]) for s in steps] == [
        ("flaky", "retried"),
        ("flaky", "success"),
    ]
    assert "ConnectionError: the warehouse hung up" in steps[0]["error"]


def test_a_parallel_run_has_overlapping_steps(rich: DevServer) -> None:
    run_id = rich.post("/api/launch", {"job": "wide_job"})["run_ids"][0]
    run = rich.wait_for(
        lambda: (r := rich.get(f"/api/runs/{run_id}"))["status"] not in ("running", "queued") and r
    )
    left, right = sorted(run["steps"], key=lambda s: s["asset_key"])
    assert (left["asset_key"], right["asset_key"]) == ("left", "right")
    # the multiprocess executor ran them at once: each started before the other ended
    assert left["started_at"] < right["started_at"] + right["duration_s"]
    assert right["started_at"] < left["started_at"] + left["duration_s"]


def test_the_page_draws_checks_and_renders_metadata_by_kind(rich: DevServer, browser: Any) -> None:
    browser.get(rich.url + "/")
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#graph g.check")) == 3)
    checks = {
        c.get_attribute("data-key"): c.get_attribute("data-status")
        for c in browser.find_elements(By.CSS_SELECTOR, "#graph g.check")
    }
    assert checks == {
        "orders#orders_positive": "passed", "orders#orders_few": "failed",
        "report#has_total": "passed",
    }  # fmt: skip
    source = browser.find_element(By.CSS_SELECTOR, '#graph g.node[data-key="orders_source"]')
    assert "source" in source.get_attribute("class")
    assert browser.find_elements(By.CSS_SELECTOR, '#graph path.edge.dep[data-to="orders"]')
    click(browser, '#graph g.node[data-key="orders"]')
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "asset-title"), "orders"))
    notes = browser.find_element(By.CSS_SELECTOR, '#metadata tr[data-meta="notes"]')
    assert notes.find_element(By.TAG_NAME, "h3").text == "Orders"
    assert notes.find_element(By.TAG_NAME, "strong").text == "the shop"
    link = notes.find_element(By.CSS_SELECTOR, "li a")
    assert (link.text, link.get_attribute("href")) == ("the docs", "https://example.com/docs")
    assert notes.find_element(By.CSS_SELECTOR, "li code").text == "id"
    dash = browser.find_element(By.CSS_SELECTOR, '#metadata tr[data-meta="dashboard"] a')
    assert dash.get_attribute("href") == "https://example.com/dash"
    sample = browser.find_element(By.CSS_SELECTOR, '#metadata tr[data-meta="sample"] table')
    assert [r.text for r in sample.find_elements(By.TAG_NAME, "tr")] == [
        "id city",
        "1 Oslo",
        "2 Rome",
    ]
    settings = browser.find_element(By.CSS_SELECTOR, '#metadata tr[data-meta="settings"] pre')
    assert '"window"' in settings.text
    up = browser.find_element(By.CSS_SELECTOR, '#metadata tr[data-meta="upstream"] a')
    assert up.get_attribute("href").endswith("#/asset/orders_source")
    rows = {
        r.get_attribute("data-check"): r.get_attribute("data-status")
        for r in browser.find_elements(By.CSS_SELECTOR, "#checks tr[data-check]")
    }
    assert rows == {"orders_positive": "passed", "orders_few": "failed"}
    few = browser.find_element(By.CSS_SELECTOR, '#checks tr[data-check="orders_few"]').text
    assert "WARN" in few
    assert "count" in few
    assert browser.find_element(By.ID, "history-plot").find_elements(By.CSS_SELECTOR, "path")


def test_the_run_page_shows_each_attempt_of_a_retried_step(rich: DevServer, browser: Any) -> None:
    if not Path(rich.project.parent / "files" / "flaky-tried").exists():
        materialize(rich, "--select", "flaky")
    run_id = rich.get("/api/assets/flaky")["latest"]["run_id"]
    browser.get(rich.url + f"/#/run/{run_id}")
    wait(browser).until(ec.presence_of_element_located((By.ID, "steps")))
    text = browser.find_element(By.ID, "steps").text
    assert "1 of 2" in text
    assert "2 of 2" in text
    assert "retried" in text
    error = browser.find_element(By.CSS_SELECTOR, '.step-error[data-step="flaky"]').text
    assert "attempt 1" in error
    assert "the warehouse hung up" in error
    labels = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#gantt text")]
    assert "flaky (attempt 2)" in labels


def test_the_launch_page_takes_run_config_as_yaml(rich: DevServer, browser: Any) -> None:
    browser.get(rich.url + "/#/launch")
    wait(browser).until(ec.presence_of_element_located((By.ID, "launch-config")))
    browser.find_element(By.ID, "launch-selection").send_keys("scaled")
    editor = browser.find_element(By.ID, "launch-config")
    editor.send_keys("ops:\n  scaled:\n    config:\n      factor: 10\n")
    click(browser, "#launch-go")
    click(browser, "#launch-result a")  # to the run's page
    wait(browser, 90).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#steps .pill.success")
    )  # the page follows the run live
    assert rich.get("/api/assets/scaled/preview")["text"] == "[10, 20, 30]"
