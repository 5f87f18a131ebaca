"""The HTML report is one file that opens from disk: inline CSS and SVG, no URL, all escaped."""

from __future__ import annotations

import re

from classifier.reports.build import build_report
from classifier.reports.html import render_html
from classifier.reports.options import ReportOptions
from tests.reports.support import ARCHIVE, without, write_tagged

MONTHLY = ReportOptions(time_column="date", by="month", emerging_min=2, emerging_window=1)


def test_the_page_is_self_contained(tmp_path):
    page = render_html(build_report(write_tagged(tmp_path / "t.csv"), MONTHLY))
    assert page.startswith("<!doctype html>")
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "<img" not in page
    for reference in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page):
        assert reference.startswith("#"), reference  # only ids inside the page itself
    assert page.count("<svg") == 4  # volume, topic shares, primary shares, story timelines
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # the charts' own ids never clash
    assert "China hits back with soybean tariffs" in page and "measles" in page


def test_values_from_the_archive_are_escaped(tmp_path):
    rows = [dict(r) for r in ARCHIVE]
    rows[1]["headline"] = "<script>alert(1)</script> tariffs"  # the wire group's canonical
    page = render_html(build_report(write_tagged(tmp_path / "t.csv", rows), MONTHLY))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_page_without_stories_says_why_and_draws_no_story_chart(tmp_path):
    path = write_tagged(tmp_path / "t.csv", columns=without("story", "wire_group", "wire_count"))
    page = render_html(build_report(path, MONTHLY))
    assert "no &#x27;story&#x27; column" in page
    assert 'id="chart-stories"' not in page and page.count("<svg") == 3
