"""Corrections on the page, in headless Chromium: the labeller token is typed in (never in the
HTML), a row is corrected in two clicks (a topic, Save), the store has it with what the model
said, and the count of corrections not yet trained on follows. Skips without chromium."""

from __future__ import annotations

import pytest

from classifier.feedback.store import FeedbackStore
from classifier.service import create_app
from classifier.service.state import EXTENSION
from tests.conftest import FakeEmbedder
from tests.service.browser import paste_and_tag, table_rows, wait_for
from tests.service.support import PAGE_HEADLINES, live_server

LABEL_TOKEN = "page-label-token-0123456789"


@pytest.fixture(scope="module")
def feedback_db(tmp_path_factory):
    return tmp_path_factory.mktemp("feedback") / "feedback.sqlite3"


@pytest.fixture(scope="module")
def feedback_url(page_store, feedback_db):
    app = create_app(
        {
            "MODELS_DIR": page_store,
            "EMBEDDER": FakeEmbedder(),
            "LABEL_TOKEN": LABEL_TOKEN,
            "FEEDBACK_DB": feedback_db,
            "TESTING": True,
        }
    )
    with live_server(app) as url:
        yield url
    app.extensions[EXTENSION].batcher.close()


def test_a_row_is_corrected_in_two_clicks_with_keyboard_and_screen_reader_cues(
    browser, feedback_url, feedback_db
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.get(feedback_url + "/")
    assert LABEL_TOKEN not in driver.page_source
    wait_for(lambda: "v1" in driver.find_element(By.ID, "model-line").text, what="the model line")
    paste_and_tag(driver, "\n".join(PAGE_HEADLINES[:4]))
    wait_for(lambda: len(table_rows(driver)) == 4, what="the results table")
    header = driver.find_element(By.ID, "correct-header")
    assert not header.is_displayed()  # no token yet: no Correct column

    # a wrong token is refused in words, and not kept
    driver.find_element(By.ID, "label-token").send_keys("wrong", Keys.ENTER)
    error = driver.find_element(By.ID, "feedback-error")
    wait_for(error.is_displayed, what="the token error")
    assert error.get_attribute("role") == "alert" and "not accepted" in error.text
    assert driver.execute_script("return sessionStorage.length") == 0

    token_box = driver.find_element(By.ID, "label-token")
    token_box.clear()
    token_box.send_keys(LABEL_TOKEN)
    driver.find_element(By.ID, "labeller-name").send_keys("ana")
    driver.find_element(By.ID, "feedback-on").click()
    wait_for(header.is_displayed, what="the Correct column")
    status = driver.find_element(By.ID, "feedback-status")
    assert status.get_attribute("aria-live") == "polite" and "Corrections are on" in status.text
    assert "0 corrections not yet trained on" in driver.find_element(By.ID, "feedback-count").text
    stored_token = driver.execute_script(
        "return sessionStorage.getItem('headline-topics.label-token')"
    )
    assert stored_token == LABEL_TOKEN and LABEL_TOKEN not in driver.page_source

    # row 2: one click on the right topic, one on Save
    row = driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")[1]
    model_topic = table_rows(driver)[1]["topic"]
    right = next(t for t in ("trade", "health", "immigration") if t != model_topic)
    group = row.find_element(By.CSS_SELECTOR, "td.correct [role=group]")
    assert group.get_attribute("aria-label") == "Right topics of headline 2"
    choice = group.find_element(By.CSS_SELECTOR, f'button[data-topic="{right}"]')
    choice.click()
    assert choice.get_attribute("aria-pressed") == "true"
    row.find_element(By.CSS_SELECTOR, "button.save").click()
    wait_for(lambda: "Saved the correction of headline 2" in status.text, what="the saved status")
    assert "1 correction not yet trained on" in driver.find_element(By.ID, "feedback-count").text
    [saved] = FeedbackStore(feedback_db).latest()
    assert saved.headline == PAGE_HEADLINES[1] and saved.topics == [right]
    assert saved.labeller == "ana" and saved.model == "v1" and saved.model_topics

    # row 3 by keyboard only: Tab to a topic, Space presses it, Tab to Save, Enter saves
    row = driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")[2]
    first = row.find_element(By.CSS_SELECTOR, "td.correct button.choice")
    driver.execute_script("arguments[0].focus()", first)
    first.send_keys(Keys.SPACE)
    assert first.get_attribute("aria-pressed") == "true"
    active = driver.switch_to.active_element
    for _ in range(10):  # over the other topics to Save
        if active.get_attribute("class") == "save":
            break
        active.send_keys(Keys.TAB)
        active = driver.switch_to.active_element
    assert active.get_attribute("class") == "save"
    active.send_keys(Keys.ENTER)
    wait_for(lambda: "headline 3" in status.text, what="the second save")
    assert "2 corrections not yet trained on" in driver.find_element(By.ID, "feedback-count").text

    # the token stays for this tab after a reload, and the Correct column comes back
    driver.refresh()
    wait_for(
        lambda: driver.find_element(By.ID, "feedback-off").is_displayed(), what="the kept token"
    )
    driver.find_element(By.ID, "feedback-off").click()
    assert (
        driver.execute_script("return sessionStorage.getItem('headline-topics.label-token')")
        is None
    )
    assert not driver.find_element(By.ID, "correct-header").is_displayed()
