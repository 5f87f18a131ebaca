"""The report as one JSON-ready document: the shape ``--json`` prints and the HTML draws.

The shape is part of the command's contract (scripts read it), so it is built in one place and
carries ``schema``: a key is only ever added, and a change of meaning gets a new number. Its
fields are listed in docs/reports.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.reports import sections
from classifier.reports.options import ReportOptions
from classifier.reports.periods import Period
from classifier.reports.tally import Tally

SCHEMA_VERSION = 1


@dataclass
class Sections:
    """What :func:`~classifier.reports.build.build_report` found, before it becomes data."""

    periods: list[Period]
    topics: list[str]
    top: dict[Period, list[tuple[Any, int]]]
    emerging: list[sections.Emerging]
    chart: list[tuple[Any, int]]
    wire: list[tuple[Any, Any]]
    keywords: dict[Any, list[str]] = field(default_factory=dict)
    canonical: dict[Any, str] = field(default_factory=dict)


def _story(tally: Tally, found: Sections, story: Any, **extra: Any) -> dict[str, Any]:
    size = sum(tally.story_periods.get(story, {}).values())
    return {
        "story": story,
        **extra,
        "total": size,
        "topic": sections.main_topic(tally, story),
        "keywords": found.keywords.get(story, []),
    }


def assemble(
    path: Path, options: ReportOptions, tally: Tally, found: Sections, unavailable: list[str]
) -> dict[str, Any]:
    """The document: totals, periods, stories, wire groups and what could not be reported."""
    topics = found.topics
    has_stories = not any(u.startswith(f"no {options.story_column!r}") for u in unavailable)
    has_wire = not any(u.startswith(f"no {options.wire_column!r}") for u in unavailable)
    return {
        "schema": SCHEMA_VERSION,
        "input": str(path),
        "time_column": options.time_column,
        "by": options.by,
        "rows": tally.rows,
        "tagged": tally.tagged,
        "untagged": {"rows": sum(tally.untagged.values()), "reasons": dict(tally.untagged)},
        "undated": {
            "rows": tally.undated,
            "reasons": dict(tally.undated_reasons),
            "examples": tally.undated_examples,
        },
        "topics": topics,
        "totals": {
            "topics": {t: tally.totals[t] for t in topics},
            "shares": {t: sections.share(tally.totals[t], tally.tagged) for t in topics},
            "primary": {t: tally.totals_primary[t] for t in topics},
            "primary_shares": {
                t: sections.share(tally.totals_primary[t], tally.tagged) for t in topics
            },
        },
        "periods": sections.period_rows(tally, found.periods, topics),
        "stories": {
            "available": has_stories,
            "column": options.story_column,
            "count": len(tally.story_periods),
            "single": tally.single_stories,
            "top": [
                {
                    "period": period.label,
                    "stories": [_story(tally, found, s, size=c) for s, c in found.top[period]],
                }
                for period in found.periods
                if found.top.get(period)
            ],
            "emerging": [
                _story(
                    tally,
                    found,
                    e.story,
                    period=e.period.label,
                    size=e.count,
                    baseline=e.baseline,
                    ratio=None if e.ratio is None else round(e.ratio, 2),
                )
                for e in found.emerging
            ],
            "emerging_rule": {
                "window": options.emerging_window,
                "ratio": options.emerging_ratio,
                "min_size": options.emerging_min,
            },
            "timelines": [
                _story(
                    tally,
                    found,
                    s,
                    counts=[tally.story_periods[s].get(p, 0) for p in found.periods],
                )
                for s, _ in found.chart
            ],
        },
        "wire": {
            "available": has_wire,
            "column": options.wire_column,
            "count": len(tally.wire),
            "groups": [
                {
                    "wire_group": group,
                    "rows": entry.rows,
                    "wire_count": entry.wire_count or None,
                    "story": entry.story,
                    "first": entry.first.label if entry.first else None,
                    "last": entry.last.label if entry.last else None,
                    "headline": found.canonical.get(group),
                }
                for group, entry in found.wire
            ],
        },
        "unavailable": unavailable,
    }
