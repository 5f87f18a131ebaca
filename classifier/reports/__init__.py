"""Reports on tagged archives over time: topic shares, top and emerging stories, wire copies.

``headline-topics report TAGGED`` reads what ``tag`` wrote (any of its formats) and says how the
archive's topics and stories move from period to period. Layers, each importing only those
above it in this list::

    periods.py    a row's time value -> its day, ISO week, month or year (or why it has none)
    tally.py      Tally: the counts of one streaming pass (periods x topics, stories, wire groups)
    sections.py   the rules: shares, top stories, emerging stories, biggest wire groups
    options.py    ReportOptions: what a report is asked for
    document.py   the report as one JSON-ready document (the shape --json prints)
    build.py      build_report: the two passes over the file, the keywords, the document
    table.py      the document as text tables
    charts.py     the charts (matplotlib, Agg; the only module that imports it)
    html.py       the document as one self-contained HTML page with inline SVG charts

It sits beside :mod:`classifier.tagging` in the layers: it reads files with
:mod:`classifier.readers` and names stories with :mod:`classifier.clustering.keywords`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from classifier._lazy import lazy_attributes

_PUBLIC = {
    "ReportOptions": "classifier.reports.options",
    "build_report": "classifier.reports.build",
    "render_text": "classifier.reports.table",
    "render_html": "classifier.reports.html",
    "write_pngs": "classifier.reports.charts",
}

__all__ = ["ReportOptions", "build_report", "render_html", "render_text", "write_pngs"]

if TYPE_CHECKING:
    from classifier.reports.build import build_report
    from classifier.reports.charts import write_pngs
    from classifier.reports.html import render_html
    from classifier.reports.options import ReportOptions
    from classifier.reports.table import render_text

__getattr__, __dir__ = lazy_attributes(__name__, _PUBLIC)
