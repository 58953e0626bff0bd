"""The JSON API of ``wharf dev``, against a real server in its own process and a real DuckDB
file; runs come from ``wharf materialize`` in other processes and from the API's launch."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.ui.conftest import (
    WHARF,
    ApiError,
    DevServer,
    materialize,
    request,
    start_dev,
    write_project,
)


def statuses(dev: DevServer) -> dict[str, str]:
    return {a["key"]: a["status"] for a in dev.get("/api/graph")["assets"]}


def test_graph_lists_every_asset_with_edges_and_status(dev: DevServer) -> None:
    graph = dev.get("/api/graph")
    keys = [a["key"] for a in graph["assets"]]
    assert sorted(keys) == ["clean_sales", "paint", "raw_sales", "sales_summary"]
    assert {a["status"] for a in graph["assets"]} == {"never"}
    edges = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert edges == {
        ("raw_sales", "clean_sales", "input"),
        ("clean_sales", "sales_summary", "input"),
    }
    raw = next(a for a in graph["assets"] if a["key"] == "raw_sales")
    assert (raw["group"], raw["io_manager_type"]) == ("raw", "DuckDBPandasIOManager")
    assert graph["groups"] == ["clean", "paint", "raw"]


def test_a_run_in_another_process_shows_up_fresh_then_stale(dev: DevServer) -> None:
    materialize(dev, "--select", "raw_sales,clean_sales,sales_summary")
    assert statuses(dev) == {
        "raw_sales": "fresh", "clean_sales": "fresh", "sales_summary": "fresh", "paint": "never",
    }  # fmt: skip
    materialize(dev, "--select", "raw_sales")
    assert statuses(dev)["clean_sales"] == "stale"


def test_asset_page_has_where_rows_schema_and_history(dev: DevServer) -> None:
    materialize(dev, "--select", "raw_sales")
    materialize(dev, "--select", "raw_sales")
    page = dev.get("/api/assets/raw_sales")
    latest = page["latest"]
    assert latest["row_count"] == 3
    # dagster/column_schema (a list of columns) is preferred to wharf's schema (a dict)
    assert [c["name"] for c in latest["schema"]] == ["owner", "amount", "units"]
    assert "raw_sales" in latest["where"]
    assert page["status"] == "fresh"
    assert page["downstream"] == ["clean_sales"]
    assert [h["status"] for h in page["history"]] == ["success", "success"]
    assert all(h["row_count"] == 3 for h in page["history"])


def test_preview_pushes_limit_and_projection_into_the_store(dev: DevServer) -> None:
    materialize(dev, "--select", "raw_sales")
    full = dev.get("/api/assets/raw_sales/preview?limit=2")
    assert full["columns"] == ["owner", "amount", "units"]
    assert full["rows"] == [["ann", 1.5, 1], ["bob", None, 2]]
    assert full["truncated"] is True
    some = dev.get("/api/assets/raw_sales/preview?limit=10&columns=units,owner")
    assert some["columns"] == ["units", "owner"]
    assert some["rows"] == [[1, "ann"], [2, "bob"], [3, "cy"]]
    assert some["truncated"] is False


def test_preview_of_an_asset_never_stored_is_an_error_not_a_crash(dev: DevServer) -> None:
    with pytest.raises(ApiError) as info:
        dev.get("/api/assets/paint/preview?partition=blue")  # no test stores blue
    assert info.value.code == 422
    assert "paint" in info.value.body


def test_unknown_asset_is_404_naming_it(dev: DevServer) -> None:
    with pytest.raises(ApiError) as info:
        dev.get("/api/assets/nope")
    assert info.value.code == 404
    assert "nope" in info.value.body


def test_launch_runs_in_a_worker_and_the_run_page_has_its_steps(dev: DevServer) -> None:
    launched = dev.post("/api/launch", {"selection": ["raw_sales", "clean_sales"]})
    run_id = launched["run_ids"][0]
    done = dev.wait_for(lambda: (r := dev.get(f"/api/runs/{run_id}"))["status"] == "success" and r)
    assert [s["asset_key"] for s in done["steps"]] == ["raw_sales", "clean_sales"]
    (log,) = [x for x in done["logs"] if x["asset_key"] == "clean_sales"]
    assert (log["level"], log["message"]) == ("INFO", "filling 1 missing amounts")
    assert all(s["duration_s"] > 0 for s in done["steps"])
    runs = dev.get("/api/runs")["runs"]
    assert runs[0]["run_id"] == run_id
    assert runs[0]["assets"] == 2


def test_a_failed_step_shows_its_traceback(tmp_path: Path, wharf_home: Path) -> None:
    body = """
import wharf as dg

@dg.asset
def broken() -> int:
    raise ValueError("the numbers do not add up")

defs = dg.Definitions(assets=[broken])
"""
    project = write_project(tmp_path / "failing", body)
    with start_dev(project, wharf_home) as dev:
        run_id = dev.post("/api/launch", {})["run_ids"][0]
        run = dev.wait_for(
            lambda: (
                (r := dev.get(f"/api/runs/{run_id}"))["status"] not in ("running", "queued") and r
            )
        )
        assert run["status"] == "failed"
        assert "Traceback" in run["steps"][0]["error"]
        assert "the numbers do not add up" in run["steps"][0]["error"]
        assert dev.get("/api/graph")["assets"][0]["status"] == "failed"


def test_backfill_launch_runs_one_run_per_partition(dev: DevServer) -> None:
    launched = dev.post("/api/launch", {"selection": ["paint"], "partitions": "red...green"})
    assert launched["partitions"] == ["red", "green"]
    page = dev.wait_for(
        lambda: (
            (p := dev.get("/api/assets/paint"))["partitions"]["status"]["green"] == "success" and p
        )
    )
    assert page["partitions"]["status"] == {"red": "success", "green": "success", "blue": "never"}


def test_launch_refuses_an_unknown_asset_and_bad_yaml(dev: DevServer) -> None:
    with pytest.raises(ApiError) as info:
        dev.post("/api/launch", {"selection": ["nope"]})
    assert info.value.code == 400
    assert "nope" in info.value.body
    with pytest.raises(ApiError) as info:
        dev.post("/api/launch", {"run_config": "ops: [unclosed"})
    assert "YAML" in info.value.body


def test_pages_load_nothing_from_another_origin(dev: DevServer) -> None:
    import urllib.request

    with urllib.request.urlopen(dev.url + "/") as res:
        html = res.read().decode()
        csp = res.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html
    for asset in ("/static/app.js", "/static/app.css", "/static/vendor/dagre.min.js"):
        with urllib.request.urlopen(dev.url + asset) as res:
            text = res.read().decode()
        assert "https://" not in text.replace("https://github.com", ""), asset


def test_a_foreign_host_header_is_refused_on_loopback(dev: DevServer) -> None:
    import urllib.request

    req = urllib.request.Request(dev.url + "/api/graph", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    with info.value:
        assert info.value.code == 400


SECRET_PROJECT = """
import wharf as dg

class Warehouse(dg.ConfigurableResource):
    user: str
    password: str

@dg.asset
def leaky(warehouse: Warehouse) -> dict:
    raise RuntimeError(f"login failed for {warehouse.user}:{warehouse.password}")

defs = dg.Definitions(
    assets=[leaky],
    resources={"warehouse": Warehouse(user="ann", password=dg.EnvVar("WAREHOUSE_PASSWORD"))},
)
"""


def test_no_secret_reaches_any_response(
    tmp_path: Path, wharf_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAREHOUSE_PASSWORD", "hunter2-very-secret")
    project = write_project(tmp_path / "secret", SECRET_PROJECT)
    with start_dev(project, wharf_home) as dev:
        run_id = dev.post("/api/launch", {})["run_ids"][0]
        dev.wait_for(lambda: dev.get(f"/api/runs/{run_id}")["steps"])
        paths = [
            "/api/graph", "/api/assets/leaky", f"/api/runs/{run_id}", "/api/runs", "/api/info",
            "/api/launches", "/api/schedules", "/api/select?q=*", "/api/assets/leaky/preview",
        ]  # fmt: skip
        bodies = []
        for path in paths:  # every route of the API, answers and errors alike
            try:
                bodies.append(dev.get(path))
            except ApiError as exc:
                bodies.append(exc.body)
        dev.wait_for(lambda: dev.get("/api/launches")["launches"][0]["state"] != "running")
        bodies.append(events_until(dev, b'"type": "launch_end"'))  # the live events too
        text = str(bodies)
        assert "login failed for ann:" in text  # the error is shown ...
        assert "hunter2-very-secret" not in text  # ... but never the secret in it
        assert "**********" in text


def events_until(dev: DevServer, marker: bytes) -> str:
    """The event stream from its first event, read until a line with ``marker``."""
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    seen = b""
    with opener.open(dev.url + "/api/events?after=0", timeout=30) as res:
        while marker not in seen:
            line = res.readline()
            if not line:
                break
            seen += line
    return seen.decode()


def test_token_is_required_off_loopback(shared: DevServer, wharf_home: Path) -> None:
    project = shared.project
    cmd = [WHARF, "dev", "-f", str(project), "--host", "0.0.0.0"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "token" in done.stderr
    with start_dev(project, wharf_home, host="0.0.0.0", token="s3cret-token") as dev:
        with pytest.raises(ApiError) as info:
            request(dev.url + "/api/graph")
        assert info.value.code == 401
        with pytest.raises(ApiError) as info:
            request(dev.url + "/api/graph", token="wrong")
        assert info.value.code == 401
        assert len(dev.get("/api/graph")["assets"]) == 4  # with the token
        assert request(dev.url + "/api/info?token=s3cret-token")["location"] == str(project)


def test_select_resolves_dagster_selection_syntax(dev: DevServer) -> None:
    assert dev.get('/api/select?q=group:"clean"')["keys"] == ["clean_sales", "sales_summary"]
    assert dev.get("/api/select?q=%2Bclean_sales")["keys"] == ["clean_sales", "raw_sales"]
    with pytest.raises(ApiError) as info:
        dev.get("/api/select?q=group:(")
    assert info.value.code == 400


def test_launch_a_job_runs_its_assets(dev: DevServer) -> None:
    assert dev.get("/api/info")["jobs"] == ["sales_job"]
    materialize(dev, "--select", "raw_sales")
    run_id = dev.post("/api/launch", {"job": "sales_job"})["run_ids"][0]
    run = dev.wait_for(
        lambda: (r := dev.get(f"/api/runs/{run_id}"))["status"] not in ("running", "queued") and r
    )
    assert run["status"] == "success"
    assert [s["asset_key"] for s in run["steps"]] == ["clean_sales", "sales_summary"]
    with pytest.raises(ApiError) as info:
        dev.post("/api/launch", {"job": "nope"})
    assert "nope" in info.value.body


ONE = """
import wharf as dg

@dg.asset
def first() -> int:
    return 1
"""


def test_definitions_reload_when_the_file_changes(tmp_path: Path, wharf_home: Path) -> None:
    import os

    project = write_project(tmp_path / "reload", ONE + "defs = dg.Definitions(assets=[first])\n")
    with start_dev(project, wharf_home) as dev:
        assert [a["key"] for a in dev.get("/api/graph")["assets"]] == ["first"]
        second = "\n@dg.asset\ndef second(first: int) -> int:\n    return first + 1\n"
        project.write_text(
            project.read_text()
            .replace("defs =", second + "\ndefs =")
            .replace("[first]", "[first, second]")
        )
        os.utime(project, (1e9, 1e9))  # a new mtime even within the same second
        assert [a["key"] for a in dev.get("/api/graph")["assets"]] == ["first", "second"]
        project.write_text(project.read_text() + "\ndef broken(:\n")
        os.utime(project, (2e9, 2e9))
        assert len(dev.get("/api/graph")["assets"]) == 2  # the last good definitions stay
        assert "SyntaxError" in dev.get("/api/info")["load_error"]
