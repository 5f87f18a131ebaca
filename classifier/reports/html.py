"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no script.

The page is meant to be mailed, archived and opened from disk years later, so it links to
nothing: no CDN, no font, no image file, no JavaScript. Every value from the archive (headlines,
keywords, ids, the file name) is escaped; the charts are matplotlib's SVG with their text drawn
as paths (:mod:`classifier.reports.charts`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import escape
from typing import Any

from classifier.reports import charts

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 2em; }
.meta { color: #555; } .note { color: #8a5a00; background: #fff6e0; padding: 0.3em 0.6em; }
table { border-collapse: collapse; margin: 0.5em 0; font-variant-numeric: tabular-nums; }
th, td { padding: 0.2em 0.6em; border-bottom: 1px solid #e6e6e6; text-align: right; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
.keywords { color: #225; } .topic { color: #555; font-size: 0.9em; }
"""
_XMLNS = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')
_IDS = re.compile(r'(\bid="|href="#|url\(#)([^"\)]+)')


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _row(cells: list[tuple[str, Any]], tag: str = "td") -> str:
    """``cells`` are (css class, already escaped html) pairs."""
    return "<tr>" + "".join(f'<{tag} class="{c}">{v}</{tag}>' for c, v in cells) + "</tr>"


def _inline(name: str, figure: Any) -> str:
    """An SVG without namespace declarations (HTML knows them, and the page then holds no URL),
    its ids prefixed with the chart's name so that the charts of one page never share one."""
    text = _XMLNS.sub("", charts.svg(figure))
    text = _IDS.sub(lambda m: f"{m[1]}{name}-{m[2]}", text)
    return text


def _share_table(doc: dict[str, Any], key: str) -> Iterator[str]:
    topics = doc["topics"]
    yield "<table>"
    yield _row(
        [("text", "period"), ("", "rows"), ("", "tagged")] + [("", _e(t)) for t in topics], "th"
    )
    for row in doc["periods"]:
        cells = [("text", _e(row["period"])), ("", f"{row['rows']:,}"), ("", f"{row['tagged']:,}")]
        yield _row(cells + [("", _pct(row[key][t])) for t in topics])
    totals = doc["totals"][key]
    cells = [("text", "all"), ("", f"{doc['rows']:,}"), ("", f"{doc['tagged']:,}")]
    yield _row(cells + [("", _pct(totals[t])) for t in topics])
    yield "</table>"


def _story_cells(story: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("", f"#{_e(story['story'])}"),
        ("", f"{story['size']:,}"),
        ("", f"{story['total']:,}"),
        ("text topic", _e(story["topic"] or "")),
        ("text keywords", _e(", ".join(story["keywords"]))),
    ]


def _stories(doc: dict[str, Any]) -> Iterator[str]:
    stories = doc["stories"]
    head = [("", "story"), ("", "headlines"), ("", "all periods"), ("text", "topic")]
    head.append(("text", "keywords"))
    yield (
        f"<h2>Top stories ({stories['count']:,} stories of two headlines or more, "
        f"{stories['single']:,} of one)</h2><table>"
    )
    yield _row([("text", "period"), *head], "th")
    for period in stories["top"]:
        for i, story in enumerate(period["stories"]):
            yield _row([("text", _e(period["period"]) if i == 0 else ""), *_story_cells(story)])
    yield "</table>"
    rule = stories["emerging_rule"]
    yield "<h2>Emerging stories</h2>"
    yield (
        f'<p class="meta">At least {rule["min_size"]} headlines in the period and '
        f"{rule['ratio']:g} times the mean of the story's own previous {rule['window']} "
        "periods (a missing period counts 0).</p>"
    )
    if not stories["emerging"]:
        yield "<p>None.</p>"
        return
    yield "<table>" + _row([("text", "period"), ("", "jump"), ("", "before"), *head], "th")
    for story in stories["emerging"]:
        jump = "new" if story["ratio"] is None else f"{story['ratio']:g}x"
        lead = [("text", _e(story["period"])), ("", jump), ("", f"{story['baseline']:g}")]
        yield _row(lead + _story_cells(story))
    yield "</table>"


def _wire(doc: dict[str, Any]) -> Iterator[str]:
    wire = doc["wire"]
    yield f"<h2>Biggest wire-copy groups ({wire['count']:,} of two rows or more)</h2><table>"
    yield _row(
        [("", "group"), ("", "rows"), ("text", "first"), ("text", "last"), ("text", "headline")],
        "th",
    )
    for group in wire["groups"]:
        yield _row(
            [
                ("", f"#{_e(group['wire_group'])}"),
                ("", f"{group['rows']:,}"),
                ("text", _e(group["first"])),
                ("text", _e(group["last"])),
                ("text", _e(group["headline"])),
            ]
        )
    yield "</table>"


def _reasons(reasons: dict[str, int]) -> str:
    return ", ".join(f"{_e(why)} {n:,}" for why, n in sorted(reasons.items(), key=lambda e: -e[1]))


def render_html(doc: dict[str, Any]) -> str:
    """The page for a report document; raises ChartsUnavailable without matplotlib."""
    drawn = charts.figures(doc)
    return "\n".join(_page(doc, drawn)) + "\n"


def _page(doc: dict[str, Any], drawn: dict[str, Any]) -> Iterator[str]:
    title = f"Report on {doc['input']}"
    yield f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
    yield f"<style>{_CSS}</style></head><body>"
    yield f"<h1>{_e(title)}</h1>"
    untagged, undated = doc["untagged"], doc["undated"]
    yield (
        f'<p class="meta">{doc["rows"]:,} rows by {_e(doc["by"])} (time column '
        f"<code>{_e(doc['time_column'])}</code>): {doc['tagged']:,} tagged, "
        f"{untagged['rows']:,} untagged{' (' + _reasons(untagged['reasons']) + ')' if untagged['rows'] else ''}, "
        f"{undated['rows']:,} undated{' (' + _reasons(undated['reasons']) + ')' if undated['rows'] else ''}.</p>"
    )
    for example in undated["examples"]:
        yield f'<p class="meta">row {example["row"]:,}: {_e(example["reason"])}</p>'
    for note in doc["unavailable"]:
        yield f'<p class="note">{_e(note)}</p>'
    for name in charts.CHART_NAMES:
        if name in drawn:
            yield f'<figure id="chart-{name}">{_inline(name, drawn[name])}</figure>'
    if doc["topics"]:
        yield "<h2>Share of tagged headlines carrying each topic</h2>"
        yield '<p class="meta">A headline about several topics counts for each of them.</p>'
        yield from _share_table(doc, "shares")
        yield "<h2>Primary-topic share</h2>"
        yield '<p class="meta">Each headline counts once, for its top topic.</p>'
        yield from _share_table(doc, "primary_shares")
    if doc["stories"]["available"]:
        yield from _stories(doc)
    if doc["wire"]["available"]:
        yield from _wire(doc)
    yield "</body></html>"
