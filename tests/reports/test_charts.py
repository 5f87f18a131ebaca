"""The charts: PNG files one per chart, the same bytes for the same report, and a clear refusal
without matplotlib."""

from __future__ import annotations

import sys

import pytest

from classifier.reports import charts
from classifier.reports.build import build_report
from classifier.reports.options import ReportOptions
from tests.reports.support import write_tagged

MONTHLY = ReportOptions(time_column="date", by="month", emerging_min=2, emerging_window=1)
PNG = b"\x89PNG\r\n\x1a\n"


def test_one_png_per_chart_is_written(tmp_path):
    doc = build_report(write_tagged(tmp_path / "t.csv"), MONTHLY)
    out = tmp_path / "charts"
    out.mkdir()
    written = charts.write_pngs(doc, out)
    assert [p.name for p in written] == [f"{n}.png" for n in charts.CHART_NAMES]
    for path in written:
        assert path.read_bytes().startswith(PNG) and path.stat().st_size > 5000
    again = tmp_path / "again"
    again.mkdir()
    charts.write_pngs(doc, again)
    assert all((again / p.name).read_bytes() == p.read_bytes() for p in written)


def test_the_svg_is_the_same_for_the_same_report(tmp_path):
    doc = build_report(write_tagged(tmp_path / "t.csv"), MONTHLY)
    first = charts.svg(charts.figures(doc)["volume"])
    assert first.startswith("<svg") and "<metadata>" not in first
    assert charts.svg(charts.figures(doc)["volume"]) == first


def test_no_periods_no_charts(tmp_path):
    rows = [{"headline": "a", "date": "never", "topic": "trade", "tag_error": ""}]
    path = write_tagged(
        tmp_path / "t.csv", rows, columns=("headline", "date", "topic", "tag_error")
    )
    assert charts.figures(build_report(path, MONTHLY)) == {}


def test_without_matplotlib_the_refusal_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    with pytest.raises(charts.ChartsUnavailable, match=r"pip install 'headline-topics\[report\]'"):
        charts.require_matplotlib()
