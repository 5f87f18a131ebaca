"""The page end to end in a real headless Chromium, served by a real werkzeug server.

The app runs on 127.0.0.1 and Selenium drives Debian's ``chromium`` (fixtures in conftest.py,
helpers in browser.py): paste headlines, read the table, sort and filter, open the clusters, read
the Model tab's measured figures, download the CSV, and tag a batch with one over-long line. It
skips when chromium, chromedriver or selenium is absent. Uploaded files: test_service_page_files.
Run as a module, it takes the README's picture:
``python -m tests.service.test_service_browser docs/screenshot.png``.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from classifier.service import create_app
from classifier.service.state import EXTENSION
from tests.service.browser import chrome_driver, paste_and_tag, table_rows, wait_for
from tests.service.support import PAGE_HEADLINES
from tests.support import free_port


def test_page_end_to_end_in_headless_chromium(browser, live_url, page_client, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.get(live_url + "/")
    wait_for(lambda: "v1" in driver.find_element(By.ID, "model-line").text, what="the model line")

    # paste (with a blank line in the middle, which is skipped) and tag
    pasted = "\n".join(PAGE_HEADLINES[:12]) + "\n\n" + "\n".join(PAGE_HEADLINES[12:])
    paste_and_tag(driver, pasted)
    wait_for(lambda: len(table_rows(driver)) == len(PAGE_HEADLINES), what="the results table")
    expected = page_client.post("/v1/predict", json={"headlines": PAGE_HEADLINES}).get_json()
    rows = table_rows(driver)
    assert [r["headline"] for r in rows] == PAGE_HEADLINES
    assert [r["topic"] for r in rows] == [p["topic"] for p in expected["predictions"]]
    for row, prediction in zip(rows, expected["predictions"], strict=True):
        assert float(row["confidence"]) == pytest.approx(prediction["confidence"], abs=1e-4)
        also = [t for t in prediction["topics"] if t != prediction["topic"]]
        assert row["secondary"] == ";".join(also)
    topics_seen = {r["topic"] for r in rows}
    assert len(topics_seen) >= 2, "the sample should give more than one topic"
    assert "Tagged 24 headlines" in driver.find_element(By.ID, "status").text

    # sort by confidence (most confident first), then by headline, by keyboard
    driver.find_element(By.CSS_SELECTOR, 'button[data-sort="confidence"]').click()
    confidences = [float(r["confidence"]) for r in table_rows(driver)]
    assert confidences == sorted(confidences, reverse=True)
    driver.find_element(By.CSS_SELECTOR, 'button[data-sort="headline"]').send_keys(Keys.ENTER)
    headlines = [r["headline"] for r in table_rows(driver)]
    assert headlines == sorted(headlines, key=str.lower) or headlines == sorted(headlines)

    # filter to one topic
    chosen = sorted(topics_seen)[0]
    select = driver.find_element(By.ID, "topic-filter")
    select.find_element(By.CSS_SELECTOR, f'option[value="{chosen}"]').click()
    filtered = table_rows(driver)
    assert filtered and {r["topic"] for r in filtered} == {chosen}
    assert len(filtered) == sum(p["topic"] == chosen for p in expected["predictions"])
    select.find_element(By.CSS_SELECTOR, 'option[value=""]').click()
    assert len(table_rows(driver)) == len(PAGE_HEADLINES)

    # download the CSV and read it back
    driver.find_element(By.ID, "download-button").click()
    target = driver.downloads / "headline-topics.csv"
    wait_for(target.exists, what="the downloaded CSV")
    wait_for(lambda: target.stat().st_size > 0 and target.read_bytes().endswith(b"\r\n"))
    with target.open(newline="", encoding="utf-8") as handle:
        downloaded = list(csv.DictReader(handle))
    labels = list(expected["predictions"][0]["scores"])
    assert list(downloaded[0]) == [
        "headline",
        "topic",
        "confidence",
        "also_about",
        *(f"score_{label}" for label in labels),
        "problem",
    ]
    by_headline = {r["headline"]: r for r in downloaded}
    assert set(by_headline) == set(PAGE_HEADLINES)
    for headline, prediction in zip(PAGE_HEADLINES, expected["predictions"], strict=True):
        assert by_headline[headline]["topic"] == prediction["topic"]
        assert float(by_headline[headline]["confidence"]) == pytest.approx(prediction["confidence"])

    # the clusters view of the same headlines, when this service has /v1/cluster: it opens with
    # stories (these unrelated headlines make none), then themes on request
    driver.find_element(By.ID, "tab-clusters").click()
    cluster_on = (
        page_client.post("/v1/cluster", json={"headlines": PAGE_HEADLINES}).status_code != 404
    )
    if cluster_on:
        for level in ("stories", "themes"):
            answer = page_client.post(
                "/v1/cluster", json={"headlines": PAGE_HEADLINES, "level": level}
            ).get_json()
            if level == "themes":
                select = driver.find_element(By.ID, "cluster-level")
                select.find_element(By.CSS_SELECTOR, 'option[value="themes"]').click()
                driver.find_element(By.ID, "cluster-button").click()
            status = driver.find_element(By.ID, "cluster-status")
            wait_for(lambda s=status, lv=level: f"{lv} found" in s.text, what=f"the {level}")
            assert f"{answer['n_clusters']} {level} found in 24 headlines" in status.text
            groups = driver.find_elements(By.CSS_SELECTOR, "#cluster-list details[data-cluster]")
            shown = [g for g in groups if g.get_attribute("data-cluster") != "-1"]
            assert len(shown) == answer["n_clusters"]
            figure = driver.find_element(By.ID, "cluster-figure")
            assert figure.is_displayed() == (answer["n_clusters"] > 0)
        assert answer["n_clusters"] >= 1, "themes should group some of these headlines"
        first = shown[0]
        first.find_element(By.TAG_NAME, "summary").click()
        items = [li.text for li in first.find_elements(By.TAG_NAME, "li")]
        biggest = max(answer["clusters"], key=lambda c: c["size"])
        assert len(items) == biggest["size"]
        assert set(items) <= set(PAGE_HEADLINES)
        assert ", ".join(biggest["keywords"][:3]) in first.text
        assert not driver.find_element(By.ID, "cluster-error").is_displayed()
    else:
        wait_for(lambda: driver.find_element(By.ID, "cluster-error").is_displayed())
        assert "not available" in driver.find_element(By.ID, "cluster-error").text
    driver.save_screenshot(str(tmp_path / "clusters.png"))

    # the model panel
    driver.find_element(By.ID, "tab-model").send_keys(Keys.ENTER)
    heat_cells = driver.find_elements(By.CSS_SELECTOR, "#confusion td")
    assert len(heat_cells) == len(labels) ** 2
    assert len(driver.find_elements(By.CSS_SELECTOR, "#f1-table tbody tr")) == len(labels)
    # the measured figures: cross-validated, and on real headlines as the manifest records them
    quality = [
        [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")]
        for row in driver.find_elements(By.CSS_SELECTOR, "#quality-table tbody tr")
    ]
    metrics = page_client.get("/v1/model").get_json()["metrics"]
    assert quality == [
        [
            "Cross-validated on the training data",
            str(metrics["n"]),
            f"{metrics['macro_f1']:.4f}",
            f"{metrics['accuracy']:.4f}",
            f"{metrics['ece']:.4f}",
        ],
        ["Real headlines: cap_nyt_dev.csv", "13774", "0.7000", "0.8123", "—"],
    ]
    assert "as recorded in its manifest" in driver.find_element(By.ID, "quality-note").text
    # a manifest that records none says so
    driver.execute_script(
        "renderModel(Object.assign({}, arguments[0], {evaluation: undefined}))",
        page_client.get("/v1/model").get_json(),
    )
    assert len(driver.find_elements(By.CSS_SELECTOR, "#quality-table tbody tr")) == 1
    assert "No measurement on real headlines" in driver.find_element(By.ID, "quality-note").text

    # an over-long headline: the good lines are tagged, the long one is marked, nothing fails
    driver.find_element(By.ID, "tab-results").click()
    paste_and_tag(driver, "A fine headline\n" + "x" * 1500 + "\nAnother fine headline")
    status = driver.find_element(By.ID, "status")
    wait_for(lambda: "Tagged 2 of 3 headlines" in status.text, what="the partial tagging")
    assert status.text == (
        "Tagged 2 of 3 headlines; not tagged: line 2 "
        "(over-long: this headline is 1500 characters long; the limit is 1000)."
    )
    error = driver.find_element(By.ID, "input-error")
    assert not error.is_displayed()
    topics = {r["index"]: r["topic"] for r in table_rows(driver)}
    assert topics["2"] == "over-long" and topics["1"] in labels and topics["3"] in labels
    marked = driver.find_elements(By.CSS_SELECTOR, '#results tbody tr[data-problem="over-long"]')
    assert len(marked) == 1 and "Not tagged: this headline is 1500 characters" in marked[0].text

    # a CSV file with a headline column, chosen through the file input
    upload = tmp_path / "upload.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "headline"])
    writer.writerows(
        [[i, h] for i, h in enumerate(PAGE_HEADLINES[:5])] + [[9, 'Quote "inside", comma']]
    )
    upload.write_text(buffer.getvalue(), encoding="utf-8")
    driver.find_element(By.ID, "csv-file").send_keys(str(upload))
    wait_for(lambda: "Read 6 headlines" in driver.find_element(By.ID, "status").text)
    assert "skipped" not in driver.find_element(By.ID, "status").text
    assert not error.is_displayed()
    driver.find_element(By.ID, "tag-button").click()
    wait_for(lambda: len(table_rows(driver)) == 6, what="the CSV's results")
    assert table_rows(driver)[-1]["headline"] == 'Quote "inside", comma'

    driver.save_screenshot(str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_csv_without_a_headline_column_is_explained(browser, live_url, tmp_path):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(live_url + "/")
    bad = tmp_path / "titles.csv"
    bad.write_text("id,title\n1,Something happened\n", encoding="utf-8")
    driver.find_element(By.ID, "csv-file").send_keys(str(bad))
    error = driver.find_element(By.ID, "input-error")
    wait_for(error.is_displayed, what="the error message")
    assert 'has no "headline" column (its columns: id, title)' in error.text


def test_a_csv_dropped_on_the_box_fills_it(browser, live_url):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(live_url + "/")
    text = 'headline,source\n"Storm, then floods",x\nTrade talks resume,y\n'
    driver.execute_script(
        """const data = new DataTransfer();
        data.items.add(new File([arguments[0]], 'dropped.csv', {type: 'text/csv'}));
        document.getElementById('headlines').dispatchEvent(
          new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));""",
        text,
    )
    status = driver.find_element(By.ID, "status")
    wait_for(lambda: "Read 2 headlines from dropped.csv" in status.text, what="the dropped file")
    box = driver.find_element(By.ID, "headlines")
    assert box.get_attribute("value") == "Storm, then floods\nTrade talks resume"


# -- the README picture --------------------------------------------------------------------------


SCREENSHOT_HEADLINES = [
    "Senate passes tariff bill on imported steel and aluminium",
    "EU threatens retaliation over new steel tariffs",
    "Measles outbreak spreads to three more states",
    "Health officials urge vaccination as measles cases climb",
    "Border agents report record number of asylum seekers",
    "Court blocks new rules on asylum at the southern border",
    "NATO leaders meet in Brussels as tensions with Moscow rise",
    "Ceasefire talks stall as shelling resumes near the capital",
    "Local bakery wins national bread-making contest",
    "Stocks close higher as tech shares rally",
    "Hospital staff shortages delay surgeries across the region",
    "China and Australia agree to ease barley trade dispute",
]


def save_screenshot(target: Path, models_dir: Path | None = None) -> None:
    """The page with the shipped model (real MiniLM) after tagging a few made-up headlines."""
    from selenium.webdriver.common.by import By

    config = {"MODELS_DIR": models_dir} if models_dir else {}
    app = create_app(config)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scratch = Path(tempfile.mkdtemp(prefix="web-shot-"))
    driver = chrome_driver(scratch, scratch / "profile")
    try:
        driver.set_window_size(1280, 1250)
        driver.get(f"http://127.0.0.1:{server.server_port}/")
        wait_for(lambda: "trained" in driver.find_element(By.ID, "model-line").text)
        paste_and_tag(driver, "\n".join(SCREENSHOT_HEADLINES))
        wait_for(lambda: len(table_rows(driver)) == len(SCREENSHOT_HEADLINES), 120)
        driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
        driver.save_screenshot(str(target))
    finally:
        driver.quit()
        server.shutdown()
        app.extensions[EXTENSION].batcher.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":  # python -m tests.service.test_service_browser docs/screenshot.png
    import sys

    save_screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png"))
