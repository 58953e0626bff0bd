"""Regenerate the README's pictures of the web UI: ``make screenshots``.

Copies the example sales pipeline into a scratch folder, materializes it twice (so the asset
page has a history), starts ``wharf dev`` on a free loopback port and saves two screenshots
from Debian's headless chromium: the asset graph and the ``clean_sales_data`` asset page.

    .venv/bin/python -m tests.ui.screenshots docs/pictures
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.ui.conftest import CHROMEDRIVER, CHROMIUM, WHARF, start_dev

ROOT = Path(__file__).resolve().parents[2]


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wharf-shots-") as tmp:
        work = Path(tmp)
        for name in ("sales_pipeline.py", "sales.csv"):
            shutil.copy(ROOT / "examples" / name, work / name)
        home = work / ".wharf"
        env = {**os.environ, "WHARF_HOME": str(home)}
        for _ in range(2):
            cmd = [WHARF, "materialize", "-f", str(work / "sales_pipeline.py")]
            subprocess.run(cmd, check=True, env=env, capture_output=True)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1280,760", "--hide-scrollbars", f"--user-data-dir={work / 'profile'}",
        ):  # fmt: skip
            options.add_argument(flag)
        with start_dev(work / "sales_pipeline.py", home) as dev:
            driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
            try:
                wait = WebDriverWait(driver, 30)
                driver.get(dev.url + "/")
                wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#graph g.node")))
                time.sleep(0.5)
                driver.save_screenshot(str(out / "ui-graph.png"))
                driver.set_window_size(1280, 1600)
                driver.get(dev.url + "/#/asset/clean_sales_data")
                wait.until(ec.presence_of_element_located((By.ID, "preview-table")))
                time.sleep(0.5)
                driver.save_screenshot(str(out / "ui-asset.png"))
            finally:
                driver.quit()
    print(f"wrote {out / 'ui-graph.png'} and {out / 'ui-asset.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "pictures")))
