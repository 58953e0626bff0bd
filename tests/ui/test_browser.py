"""The page in a real browser: Debian's headless chromium driven by selenium, against a real
``wharf dev`` process; nothing is mocked and no browser is downloaded."""

from __future__ import annotations

import re
from typing import Any

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.ui.conftest import DevServer, materialize

KEYS = ["clean_sales", "paint", "raw_sales", "sales_summary"]


def wait(browser: Any, timeout: float = 30) -> WebDriverWait:
    """Poll ``browser``; an element a live refresh re-rendered meanwhile is looked up again."""
    return WebDriverWait(
        browser, timeout, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException]
    )


def click(browser: Any, css: str) -> None:
    """Click what ``css`` finds, finding it again if a live refresh re-rendered the page."""

    def clicked(b: Any) -> bool:
        b.find_element(By.CSS_SELECTOR, css).click()
        return True

    wait(browser).until(clicked)


def preview_header(browser: Any) -> str:
    table = browser.find_element(By.ID, "preview-table")
    return str(table.find_element(By.TAG_NAME, "tr").text)


def node_statuses(browser: Any) -> dict[str, str]:
    nodes = browser.find_elements(By.CSS_SELECTOR, "#graph g.node")
    return {n.get_attribute("data-key"): n.get_attribute("data-status") for n in nodes}


def test_graph_shows_every_asset(dev: DevServer, browser: Any) -> None:
    browser.get(dev.url + "/")
    wait(browser).until(lambda b: len(node_statuses(b)) == 4)
    assert sorted(node_statuses(browser)) == KEYS
    assert set(node_statuses(browser).values()) == {"never"}
    assert len(browser.find_elements(By.CSS_SELECTOR, "#graph path.edge")) == 2
    assert browser.find_element(By.ID, "count").text == "4 of 4 assets"


def test_filter_by_group_and_selection_syntax(dev: DevServer, browser: Any) -> None:
    browser.get(dev.url + "/")
    wait(browser).until(lambda b: len(node_statuses(b)) == 4)
    box = browser.find_element(By.ID, "filter")
    box.send_keys('group:"clean"')
    wait(browser).until(lambda b: b.find_element(By.ID, "count").text == "2 of 4 assets")
    box.clear()
    box.send_keys("+clean_sales")  # the asset and its direct upstream
    wait(browser).until(lambda b: shown(b) == ["clean_sales", "raw_sales"])


def view_box(browser: Any) -> tuple[float, float, float]:
    """(x, y, scale) of the graph's pan and zoom."""
    text = browser.find_element(By.CSS_SELECTOR, "#graph g.world").get_attribute("transform")
    x, y, k = re.fullmatch(r"translate\(([-\d.e]+),([-\d.e]+)\) scale\(([-\d.e]+)\)", text).groups()
    return float(x), float(y), float(k)


def test_pan_zoom_and_the_group_menu(dev: DevServer, browser: Any) -> None:
    browser.get(dev.url + "/")
    wait(browser).until(lambda b: len(node_statuses(b)) == 4)
    svg = browser.find_element(By.ID, "graph")
    x, y, k = view_box(browser)
    # the wheel zooms in around the pointer; a drag on the background pans
    below = ScrollOrigin.from_element(svg, 0, 250)  # under the nodes, on the background
    ActionChains(browser).scroll_from_origin(below, 0, -200).perform()
    wait(browser).until(lambda b: view_box(b)[2] > k)
    x, y, k = view_box(browser)
    chain = ActionChains(browser).move_to_element_with_offset(svg, 0, 250).click_and_hold()
    chain.move_by_offset(80, -40).release().perform()
    wait(browser).until(lambda b: view_box(b) == (x + 80, y - 40, k))
    Select(browser.find_element(By.ID, "group")).select_by_value("clean")
    wait(browser).until(lambda b: b.find_element(By.ID, "count").text == "2 of 4 assets")
    assert shown(browser) == ["clean_sales", "sales_summary"]
    click(browser, "#fit")  # zoom to the two shown
    wait(browser).until(lambda b: view_box(b)[2] == 1.5)


def partition_cells(browser: Any) -> dict[str, str]:
    cells = browser.find_elements(By.CSS_SELECTOR, "#partitions span")
    return dict(c.get_attribute("title").split(": ") for c in cells)


def test_the_launch_page_backfills_a_partition_range(dev: DevServer, browser: Any) -> None:
    browser.get(dev.url + "/#/launch")
    wait(browser).until(ec.presence_of_element_located((By.ID, "launch-selection")))
    browser.find_element(By.ID, "launch-selection").send_keys("paint")
    browser.find_element(By.ID, "launch-partitions").send_keys("red...green")
    click(browser, "#launch-go")
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#launch-result a")) == 2)
    browser.get(dev.url + "/#/asset/paint")
    # the grid fills in live, as each partition's run records its row
    wait(browser, 90).until(
        lambda b: partition_cells(b) == {"red": "success", "green": "success", "blue": "never"}
    )


def shown(browser: Any) -> list[str]:
    nodes = browser.find_elements(By.CSS_SELECTOR, "#graph g.node:not(.dim)")
    return sorted(n.get_attribute("data-key") for n in nodes)


def test_clicking_an_asset_shows_rows_schema_and_preview(dev: DevServer, browser: Any) -> None:
    materialize(dev, "--select", "raw_sales")
    browser.get(dev.url + "/")
    wait(browser).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, '#graph g.node[data-key="raw_sales"]'))
    )
    click(browser, '#graph g.node[data-key="raw_sales"]')
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "asset-title"), "raw_sales"))
    assert browser.find_element(By.ID, "row-count").text == "3"
    schema = browser.find_element(By.ID, "schema").text
    for column in ("owner", "amount", "units"):
        assert column in schema
    table = wait(browser).until(ec.presence_of_element_located((By.ID, "preview-table")))
    rows = [r.text for r in table.find_elements(By.TAG_NAME, "tr")]
    assert rows[0].split() == ["owner", "amount", "units"]
    assert rows[1].split() == ["ann", "1.5", "1"]
    assert rows[2].split() == ["bob", "null", "2"]
    # column projection: untick "amount", load again
    click(browser, 'input.col[value="amount"]')
    click(browser, "#preview-load")
    wait(browser).until(lambda b: preview_header(b) == "owner units")
    # a new materialization re-renders the page live; the reader's unticked column stays unticked
    browser.execute_script("document.getElementById('asset-title').dataset.old = '1'")
    materialize(dev, "--select", "raw_sales")
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#asset-title:not([data-old])"))
    box = browser.find_element(By.CSS_SELECTOR, 'input.col[value="amount"]')
    assert not box.is_selected()
    wait(browser).until(lambda b: preview_header(b) == "owner units")


def test_launching_turns_nodes_fresh_without_a_reload(dev: DevServer, browser: Any) -> None:
    browser.get(dev.url + "/")
    wait(browser).until(lambda b: len(node_statuses(b)) == 4)
    browser.execute_script("window.__sameDocument = true")
    box = browser.find_element(By.ID, "filter")
    box.send_keys('group:"clean" or group:"raw"')
    wait(browser).until(lambda b: b.find_element(By.ID, "count").text == "3 of 4 assets")
    browser.find_element(By.ID, "materialize").click()
    wait(browser, 90).until(
        lambda b: (
            {k: v for k, v in node_statuses(b).items() if k != "paint"}
            == {"raw_sales": "fresh", "clean_sales": "fresh", "sales_summary": "fresh"}
        )
    )
    assert node_statuses(browser)["paint"] == "never"
    assert browser.execute_script("return window.__sameDocument") is True  # no reload


def test_run_page_shows_the_timeline_and_steps(dev: DevServer, browser: Any) -> None:
    run_id = dev.post("/api/launch", {"selection": ["raw_sales", "clean_sales"]})["run_ids"][0]
    dev.wait_for(lambda: dev.get(f"/api/runs/{run_id}")["status"] == "success")
    browser.get(dev.url + "/#/runs")
    wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#runs a")))
    click(browser, "#runs a")
    wait(browser).until(ec.presence_of_element_located((By.ID, "gantt")))
    bars = browser.find_elements(By.CSS_SELECTOR, "#gantt rect.success")
    assert len(bars) == 2
    assert "filling 1 missing amounts" in browser.find_element(By.ID, "logs").text
    steps = browser.find_element(By.ID, "steps").text
    assert "raw_sales" in steps
    assert "clean_sales" in steps


def test_with_a_token_the_page_passes_it_on_to_the_api_and_the_live_events(
    shared: DevServer, wharf_home: Any, browser: Any
) -> None:
    from tests.ui.conftest import start_dev

    with start_dev(shared.project, wharf_home, host="0.0.0.0", token="tok-123") as dev:
        browser.get(dev.url + "/")  # no token: even the page is refused
        assert "a token is required" in browser.find_element(By.TAG_NAME, "body").text
        browser.get(dev.url + "/?token=tok-123")
        wait(browser).until(lambda b: len(node_statuses(b)) == 4)
        wait(browser).until(
            lambda b: "on" in b.find_element(By.ID, "live").get_attribute("class")
        )  # the event stream is connected
        dev.post("/api/launch", {"selection": ["raw_sales"]})
        wait(browser, 60).until(lambda b: node_statuses(b)["raw_sales"] == "fresh")
