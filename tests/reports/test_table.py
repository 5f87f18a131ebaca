"""The text report: every section of the document, and the reasons a section is missing."""

from __future__ import annotations

from classifier.reports.build import build_report
from classifier.reports.options import ReportOptions
from classifier.reports.table import render_text
from tests.reports.support import without, write_tagged

MONTHLY = ReportOptions(time_column="date", by="month", emerging_min=2, emerging_window=1)


def test_the_text_report_shows_counts_shares_stories_and_wire_groups(tmp_path):
    text = render_text(build_report(write_tagged(tmp_path / "t.csv"), MONTHLY))
    lines = text.splitlines()
    assert lines[0].startswith("report on ") and "14 rows by month" in lines[0]
    assert "tagged: 13  untagged: 1 (empty headline 1)" in lines
    assert "dated: 12  undated: 2 (not a date 1, empty 1)" in lines
    assert "  row 10: not a date: 'soon'" in lines
    jan = next(line for line in lines if line.startswith("2024-01 "))
    assert jan.split() == ["2024-01", "5", "4", "0.0%", "75.0%", "50.0%", "25.0%"]
    assert any(line.startswith("all ") for line in lines)
    assert "  ('all' includes the 2 undated rows)" in lines
    assert any("#2" in line and "measles" in line for line in lines)
    assert any(line.startswith("2024-02") and " new (mean before 0.0)" in line for line in lines)
    assert any(line.startswith("#7") and "China hits back" in line for line in lines)


def test_a_missing_section_says_why(tmp_path):
    path = write_tagged(tmp_path / "t.csv", columns=without("story", "wire_group", "wire_count"))
    text = render_text(build_report(path, MONTHLY))
    assert "unavailable: no 'story' column" in text and "--clusters stories" in text
    assert "\ntop stories (" not in text and "\nbiggest wire-copy groups" not in text


def test_an_archive_with_nothing_tagged_says_so(tmp_path):
    rows = [{"headline": "", "date": "2024-01-01", "topic": "", "tag_error": "empty headline"}]
    path = write_tagged(
        tmp_path / "t.csv", rows, columns=("headline", "date", "topic", "tag_error")
    )
    text = render_text(build_report(path, MONTHLY))
    assert "no tagged headlines: nothing to count" in text
