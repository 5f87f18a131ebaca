"""The page's "why?" control in a real headless Chromium (fixtures in conftest.py, helpers in
browser.py): by keyboard it opens the explanation under its row with what /v1/predict explains,
moves focus there, closes with Escape back to the button, and stays open through sorting. Skips
when chromium, chromedriver or selenium is absent."""

from __future__ import annotations

from tests.service.browser import paste_and_tag, table_rows, wait_for
from tests.service.support import PAGE_HEADLINES

ROW_OF = "return [...document.querySelectorAll('#results tbody tr')].find(tr => tr.cells[0].textContent === arguments[0]);"
HEADLINES = "return [...document.querySelectorAll('#results tbody tr:not(.why-row)')].map(tr => tr.cells[1].textContent);"
PANEL = """
const panel = document.getElementById(arguments[0]);
if (!panel) return null;
return {
  words: [...panel.querySelectorAll('.why-words mark')].map(m => m.textContent),
  neighbours: [...panel.querySelectorAll('.why-neighbours q')].map(q => q.textContent),
  topics: [...panel.querySelectorAll('.why-neighbours li')].map(li =>
    [...li.querySelectorAll('.badge')].map(b => b.textContent).join(';')),
  title: (panel.querySelector('.why-title') || {}).textContent || '',
  loading: !!panel.querySelector('[role="status"]'),
  region: !!panel.querySelector('[role="region"]'),
  after: panel.previousElementSibling.cells[0].textContent,
};"""


def test_why_opens_the_explanation_under_its_row_by_keyboard(browser, live_url, page_client):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.get(live_url + "/")
    wait_for(lambda: "v1" in driver.find_element(By.ID, "model-line").text, what="the model line")
    headlines = PAGE_HEADLINES[:4]
    paste_and_tag(driver, "\n".join(headlines))
    wait_for(lambda: len(table_rows(driver)) == len(headlines), what="the results table")
    topics = [r["topic"] for r in table_rows(driver)]

    row = driver.execute_script(ROW_OF, "2")
    button = row.find_element(By.CSS_SELECTOR, "button.why-button")
    assert button.text == "why?" and button.get_attribute("aria-expanded") == "false"
    assert button.get_attribute("aria-controls") == "why-2"
    assert topics[1] in button.get_attribute("aria-label")
    button.send_keys(Keys.ENTER)  # the keyboard, as for every control of the page

    shown = wait_for(
        lambda: (p := driver.execute_script(PANEL, "why-2")) and not p["loading"] and p,
        what="the explanation",
    )
    expected = page_client.post(
        "/v1/predict", json={"headline": headlines[1], "explain": True}
    ).get_json()["explanation"]
    assert shown["region"] and shown["after"] == "2"  # right under its row
    assert shown["words"] == [w["word"] for w in expected["words"]]
    assert shown["neighbours"] == [n["headline"] for n in expected["neighbours"]]
    assert shown["topics"] == [";".join(n["topics"]) for n in expected["neighbours"]]
    assert expected["topic"] in shown["title"]
    assert button.get_attribute("aria-expanded") == "true"
    focused = driver.switch_to.active_element
    assert focused.get_attribute("role") == "region"  # the reader lands on the explanation

    focused.send_keys(Keys.ESCAPE)
    wait_for(lambda: driver.execute_script(PANEL, "why-2") is None, what="the panel to close")
    button = driver.execute_script(ROW_OF, "2").find_element(By.CSS_SELECTOR, "button")
    assert driver.switch_to.active_element == button
    assert button.get_attribute("aria-expanded") == "false"

    # open again (from memory, no wait) and sort: it stays open under its own row
    button.click()
    wait_for(lambda: (p := driver.execute_script(PANEL, "why-2")) and not p["loading"])
    driver.find_element(By.CSS_SELECTOR, 'button[data-sort="headline"]').click()
    wait_for(lambda: (p := driver.execute_script(PANEL, "why-2")) and not p["loading"])
    after_sort = driver.execute_script(PANEL, "why-2")
    assert after_sort["after"] == "2" and after_sort["words"] == shown["words"]
    again = driver.execute_script(ROW_OF, "2").find_element(By.CSS_SELECTOR, "button")
    assert again.get_attribute("aria-expanded") == "true"
    again.click()
    wait_for(lambda: driver.execute_script(PANEL, "why-2") is None, what="the panel to close")
    assert len(table_rows(driver)) == len(headlines)

    # left open, then a new tagging run: its rows start closed
    driver.execute_script(ROW_OF, "2").find_element(By.CSS_SELECTOR, "button").click()
    wait_for(lambda: (p := driver.execute_script(PANEL, "why-2")) and not p["loading"])
    fresh = PAGE_HEADLINES[4:7]
    paste_and_tag(driver, "\n".join(fresh))
    wait_for(lambda: sorted(driver.execute_script(HEADLINES)) == sorted(fresh), what="new rows")
    assert driver.execute_script(PANEL, "why-2") is None
