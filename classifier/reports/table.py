"""The report as text tables for a terminal: what ``headline-topics report`` prints by default.

It renders the document of :mod:`classifier.reports.document` and nothing else, so the text, the
JSON and the HTML can never disagree about a number.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

PERIOD_WIDTH = 11
SHOWN_KEYWORDS = 5


def _reasons(reasons: dict[str, int]) -> str:
    return ", ".join(f"{why} {n:,}" for why, n in sorted(reasons.items(), key=lambda e: -e[1]))


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _story_line(story: dict[str, Any]) -> str:
    words = ", ".join(story["keywords"][:SHOWN_KEYWORDS]) or "(no keywords)"
    topic = story["topic"] or "-"
    return f"#{story['story']:<6} {story['size']:>6,} headlines (all periods {story['total']:,})  {topic:<12} {words}"


def _share_table(doc: dict[str, Any], key: str) -> Iterator[str]:
    topics = doc["topics"]
    width = max([12, *(len(t) + 2 for t in topics)])
    yield f"{'period':<{PERIOD_WIDTH}}{'rows':>9}{'tagged':>9}" + "".join(
        f"{t:>{width}}" for t in topics
    )
    for row in doc["periods"]:
        cells = "".join(f"{_percent(row[key][t]):>{width}}" for t in topics)
        yield f"{row['period']:<{PERIOD_WIDTH}}{row['rows']:>9,}{row['tagged']:>9,}{cells}"
    totals = doc["totals"][key]
    cells = "".join(f"{_percent(totals[t]):>{width}}" for t in topics)
    dated = sum(row["rows"] for row in doc["periods"])
    yield f"{'all':<{PERIOD_WIDTH}}{doc['rows']:>9,}{doc['tagged']:>9,}{cells}"
    if dated != doc["rows"]:
        yield f"  ('all' includes the {doc['undated']['rows']:,} undated rows)"


def render_text(doc: dict[str, Any]) -> str:
    """The whole report as lines of text, sections in the order of the document."""
    return "\n".join(_lines(doc))


def _lines(doc: dict[str, Any]) -> Iterator[str]:
    yield f"report on {doc['input']}: {doc['rows']:,} rows by {doc['by']} (time column {doc['time_column']!r})"
    untagged, undated = doc["untagged"], doc["undated"]
    line = f"tagged: {doc['tagged']:,}  untagged: {untagged['rows']:,}"
    if untagged["rows"]:
        line += f" ({_reasons(untagged['reasons'])})"
    yield line
    line = f"dated: {doc['rows'] - undated['rows']:,}  undated: {undated['rows']:,}"
    if undated["rows"]:
        line += f" ({_reasons(undated['reasons'])})"
    yield line
    for example in undated["examples"]:
        yield f"  row {example['row']:,}: {example['reason']}"
    for note in doc["unavailable"]:
        yield f"unavailable: {note}"
    if not doc["topics"]:
        yield ""
        yield "no tagged headlines: nothing to count"
        return
    yield ""
    yield f"share of tagged headlines carrying each topic, by {doc['by']} (a headline may carry several)"
    yield from _share_table(doc, "shares")
    yield ""
    yield f"primary-topic share, by {doc['by']} (each headline counts once, for its top topic)"
    yield from _share_table(doc, "primary_shares")
    stories = doc["stories"]
    if stories["available"]:
        yield from _stories(stories)
    wire = doc["wire"]
    if wire["available"]:
        yield ""
        yield f"biggest wire-copy groups ({wire['count']:,} groups of two rows or more)"
        for group in wire["groups"]:
            span = (
                group["first"]
                if group["first"] == group["last"]
                else f"{group['first']}..{group['last']}"
            )
            yield f"#{group['wire_group']:<6} {group['rows']:>6,} rows  {span:<21} {group['headline'] or ''}"


def _stories(stories: dict[str, Any]) -> Iterator[str]:
    yield ""
    yield (
        f"top stories ({stories['count']:,} stories of two headlines or more, "
        f"{stories['single']:,} of one)"
    )
    for period in stories["top"]:
        yield period["period"]
        for story in period["stories"]:
            yield "  " + _story_line(story)
    rule = stories["emerging_rule"]
    yield ""
    yield (
        f"emerging stories (at least {rule['min_size']} headlines and {rule['ratio']:g}x the "
        f"mean of the story's previous {rule['window']} periods)"
    )
    if not stories["emerging"]:
        yield "  none"
    for story in stories["emerging"]:
        jump = "new" if story["ratio"] is None else f"{story['ratio']:.1f}x"
        before = f"(mean before {story['baseline']:.1f})"
        yield f"{story['period']:<{PERIOD_WIDTH}}{jump:>6} {before:<19} " + _story_line(story)
