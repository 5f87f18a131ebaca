"""Helpers of the page's browser tests (their fixtures are in conftest.py): headless Debian
chromium through Selenium, waiting for the page, and reading its table and its download.
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# what a manifest records of a measurement on real headlines (made-up figures, for the page)
REAL_EVALUATION = {"name": "cap_nyt_dev.csv", "n": 13774, "macro_f1": 0.7, "accuracy": 0.8123}


def chrome_driver(download_dir: Path, profile_dir: Path):
    """Headless Debian chromium through Selenium; skip when any piece is missing."""
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
        },
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(download_dir)},
    )
    driver.set_page_load_timeout(30)
    return driver


def wait_for(condition, timeout: float = 20.0, what: str = "the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def table_rows(driver) -> list[dict[str, str]]:
    script = """
    return [...document.querySelectorAll('#results tbody tr')].map(tr => ({
      index: tr.cells[0].textContent,
      headline: tr.cells[1].textContent,
      topic: tr.cells[2].textContent,
      confidence: tr.cells[3].dataset.value,
      secondary: [...tr.cells[4].querySelectorAll('.badge')].map(b => b.textContent).join(';'),
    }));"""
    return driver.execute_script(script)


def paste_and_tag(driver, text: str) -> None:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "headlines")
    box.clear()
    # send_keys types character by character; setting the value is what a paste does anyway
    driver.execute_script("arguments[0].value = arguments[1];", box, text)
    driver.find_element(By.ID, "tag-button").click()


def read_download(driver) -> list[list[str]]:
    target = driver.downloads / "headline-topics.csv"
    wait_for(target.exists, what="the downloaded CSV")
    wait_for(lambda: target.stat().st_size > 0 and target.read_bytes().endswith(b"\r\n"))
    with target.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))
