"""An uploaded CSV in the page, in a real headless Chromium: its other columns come through to
the download, skipped rows are counted with their reason, an over-long line is marked while the
others are tagged, and formula-like cells are neutralised (fixtures in conftest.py).
"""

from __future__ import annotations

import csv
import io

from tests.service.browser import paste_and_tag, read_download, wait_for
from tests.service.support import PAGE_HEADLINES


def test_an_uploaded_file_keeps_its_columns_and_says_what_it_skipped(
    browser, live_url, page_client, tmp_path
):
    """Issue 19: the download lost the file's other columns, skipped rows silently, failed the
    whole batch for one over-long line, and wrote formula-like cells as they were."""
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(live_url + "/")
    wait_for(lambda: "v1" in driver.find_element(By.ID, "model-line").text, what="the model")
    upload = tmp_path / "archive.csv"
    rows = [
        ["id", "date", "Headline", "topic"],  # a labelled file: its own topic column stays
        ["a1", "2024-01-02", PAGE_HEADLINES[0], "trade"],
        ["a2", "2024-01-03", "", "health"],  # no headline: skipped, and said so
        ["a3", "2024-01-04", '=HYPERLINK("http://x","click")', "other"],
        ["a4", "2024-01-05"],  # too few fields: skipped
        ["@a5", "-1", "y" * 1200, "other"],  # over-long: marked, the others still tagged
        ["a6", "+2024", PAGE_HEADLINES[1], "health"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    upload.write_text(buffer.getvalue(), encoding="utf-8")
    driver.find_element(By.ID, "csv-file").send_keys(str(upload))
    status = driver.find_element(By.ID, "status")
    wait_for(lambda: "Read 4 headlines" in status.text, what="the file")
    assert status.text.startswith(
        "Read 4 headlines from archive.csv; skipped 2 rows (1 with no headline, "
        "1 with a different number of fields than the header)."
    )
    driver.find_element(By.ID, "tag-button").click()
    wait_for(lambda: "Tagged 3 of 4" in status.text, what="the tagging")
    assert "line 3 (over-long: this headline is 1200 characters long" in status.text
    assert status.text.endswith(
        "From archive.csv: skipped 2 rows (1 with no headline, "
        "1 with a different number of fields than the header)."
    )

    driver.find_element(By.ID, "download-button").click()
    header, *lines = read_download(driver)
    labels = list(page_client.get("/v1/model").get_json()["labels"])
    assert header == [
        "id",
        "date",
        "Headline",
        "topic",
        "predicted_topic",
        "confidence",
        "also_about",
        *(f"score_{label}" for label in labels),
        "problem",
    ]
    assert [line[:4] for line in lines] == [
        ["a1", "2024-01-02", PAGE_HEADLINES[0], "trade"],
        # formula-like cells start with a quote (OWASP's advice), the rest is as it was
        ["a3", "2024-01-04", '\'=HYPERLINK("http://x","click")', "other"],
        ["'@a5", "'-1", "y" * 1200, "other"],
        ["a6", "'+2024", PAGE_HEADLINES[1], "health"],
    ]
    expected = page_client.post(
        "/v1/predict", json={"headlines": [PAGE_HEADLINES[0], rows[3][2], PAGE_HEADLINES[1]]}
    ).get_json()["predictions"]
    tagged = [lines[0], lines[1], lines[3]]
    assert [line[4] for line in tagged] == [p["topic"] for p in expected]
    assert all(line[-1] == "" for line in tagged)
    assert lines[2][4:7] == ["", "", ""]
    assert lines[2][-1].startswith("over-long: this headline is 1200 characters long")

    # once the box is edited, its lines are no longer the file's rows: plain headline columns
    paste_and_tag(driver, "Edited headline\n=1+1")
    wait_for(lambda: "Tagged 2 headlines." in status.text, what="the edited box")
    (driver.downloads / "headline-topics.csv").unlink()
    driver.find_element(By.ID, "download-button").click()
    header, *lines = read_download(driver)
    assert header[:2] == ["headline", "topic"] and [line[0] for line in lines] == [
        "Edited headline",
        "'=1+1",
    ]
