"""``wharf dev`` fixtures: an example project in a folder, the server started on a free loopback
port by its own process (ended by PID), and headless Debian chromium driven by selenium."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wharf.testing._process import ChildServer, free_port

#: the venv's `wharf` script (``python -m wharf.cli.main`` makes runpy warn)
WHARF = str(Path(sys.executable).with_name("wharf"))

PROJECT = """
import pandas as pd
import wharf as dg
from wharf.duckdb import DuckDBPandasIOManager

colors = dg.StaticPartitionsDefinition(["red", "green", "blue"])


@dg.asset(group_name="raw", description="Sales as they come")
def raw_sales() -> pd.DataFrame:
    return pd.DataFrame({"owner": ["ann", "bob", "cy"], "amount": [1.5, None, 3.0], "units": [1, 2, 3]})


@dg.asset(group_name="clean")
def clean_sales(context: dg.AssetExecutionContext, raw_sales: pd.DataFrame) -> pd.DataFrame:
    context.log.info(f"filling {int(raw_sales['amount'].isna().sum())} missing amounts")
    return raw_sales.fillna({"amount": 0.0})


@dg.asset(group_name="clean")
def sales_summary(clean_sales: pd.DataFrame) -> pd.DataFrame:
    return clean_sales.groupby("owner", as_index=False)["amount"].sum()


@dg.asset(group_name="paint", partitions_def=colors, io_manager_key="files")
def paint(context: dg.AssetExecutionContext) -> list[str]:
    return [context.partition_key]


sales_job = dg.define_asset_job("sales_job", selection='group:"clean"', tags={"team": "sales"})

defs = dg.Definitions(
    assets=[raw_sales, clean_sales, sales_summary, paint],
    jobs=[sales_job],
    resources={
        "io_manager": DuckDBPandasIOManager(database=DB, schema="public"),
        "files": dg.FilesystemIOManager(base_dir=FILES),
    },
)
"""


def write_project(folder: Path, body: str = PROJECT, name: str = "project.py") -> Path:
    """``body`` as ``folder/name``, with DB and FILES pointing into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    head = f"DB = {str(folder / 'sales.duckdb')!r}\nFILES = {str(folder / 'files')!r}\n"
    path = folder / name
    path.write_text(head + textwrap.dedent(body))
    return path


class DevServer(ChildServer):
    """``wharf dev`` in a child process."""

    token: str | None = None
    project: Path
    home: Path

    def get(self, path: str, token: str | None = None) -> Any:
        """GET ``path`` as JSON (raises urllib's HTTPError on a 4xx/5xx)."""
        return request(self.url + path, token=token or self.token)

    def post(self, path: str, body: Any) -> Any:
        return request(self.url + path, body=body, token=self.token)

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> Any:
        """Poll ``predicate()`` until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            time.sleep(0.2)
        msg = f"condition not met in {timeout} s; server log:\n{self.log_tail()}"
        raise AssertionError(msg)


def request(url: str, body: Any = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as res:
            return json.loads(res.read())
    except urllib.error.HTTPError as exc:
        with exc:
            raise ApiError(exc.code, exc.read().decode()) from None


class ApiError(Exception):
    """A 4xx/5xx answer: its status code and body."""

    def __init__(self, code: int, body: str) -> None:
        super().__init__(f"{code}: {body}")
        self.code, self.body = code, body


def start_dev(
    project: Path, home: Path, *extra: str, token: str | None = None, host: str = "127.0.0.1"
) -> DevServer:
    port = free_port()
    argv = [WHARF, "dev", "-f", str(project), "--port", str(port)]
    argv += ["--host", host, *extra]
    env = {"WHARF_HOME": str(home)}
    if token:
        env["WHARF_UI_TOKEN"] = token
    server = DevServer("wharf-dev", argv, port, ready_path="/api/info", extra_env=env)
    server.token = token
    return server.start(timeout=90)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One server per test module (starting one imports pandas and DuckDB: seconds)."""
    folder = tmp_path_factory.mktemp("ui")
    server = start_dev(write_project(folder / "project"), folder / "home")
    server.project = folder / "project" / "project.py"
    server.home = folder / "home"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dev(shared: DevServer) -> DevServer:
    """The module's server with an empty run history (the stored tables stay)."""
    db = shared.home / "history.sqlite"
    if db.exists():
        with sqlite3.connect(db) as conn:
            for table in ("materializations", "ticks", "instigators", "run_keys"):
                with contextlib.suppress(sqlite3.OperationalError):
                    conn.execute(f"DELETE FROM {table}")  # our own table names
    time.sleep(0.3)  # the server's history follower notices the emptied history
    return shared


@pytest.fixture
def project(dev: DevServer) -> Path:
    return dev.project


def materialize(server: DevServer, *args: str) -> None:
    """``wharf materialize`` of the server's project, in another process, into its history."""
    cmd = [WHARF, "materialize", "-f", str(server.project), *args]
    env = {**os.environ, "WHARF_HOME": str(server.home)}
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Debian's headless chromium through chromedriver (``make test`` installs both)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            pytest.fail(f"{binary} is missing: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1280,900", f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
