"""The sections of a report, worked out from a :class:`~classifier.reports.tally.Tally`.

Pure functions of the counts, so that the rules (what a share is, when a story is emerging)
are written down once and tested by hand-computed examples:

- a topic's **share** of a period is the share of the period's tagged headlines that carry it
  (a headline about trade and geopolitics counts for both, so shares may add up to more than
  1); its **primary share** is the share whose top topic it is (these add up to 1);
- a story is **emerging** in a period when it has at least ``min_size`` headlines there and at
  least ``ratio`` times the mean of its own counts over the ``window`` periods before (a
  missing period counts 0; a story with no past qualifies on ``min_size`` alone). The first
  period of the archive has no past, so nothing emerges in it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from classifier.reports.periods import Period, period_range
from classifier.reports.tally import Tally

# periods shown between the first and the last; beyond this, only periods with rows are listed
MAX_FILLED_PERIODS = 5000


@dataclass(frozen=True)
class Emerging:
    """A story's jump in one period against its own recent past."""

    period: Period
    story: Any
    count: int
    baseline: float  # mean of its counts over the previous ``window`` periods

    @property
    def ratio(self) -> float | None:
        """count / baseline; None when the story had no past (an infinite jump)."""
        return self.count / self.baseline if self.baseline else None


def timeline(tally: Tally) -> list[Period]:
    """Every period from the first to the last with rows, gaps included (a quiet month is a
    point of a trend too), unless that would be more than :data:`MAX_FILLED_PERIODS`."""
    seen = sorted(tally.periods)
    if not seen:
        return []
    filled = period_range(seen[0], seen[-1], tally.by, MAX_FILLED_PERIODS)
    return filled if filled is not None else seen


def share(count: int, of: int) -> float:
    return round(count / of, 4) if of else 0.0


def period_rows(tally: Tally, periods: list[Period], topics: list[str]) -> list[dict[str, Any]]:
    """One entry per period: rows, tagged, and per topic its count, share and primary share."""
    out = []
    for period in periods:
        counts = tally.periods.get(period)
        rows = counts.rows if counts else 0
        tagged = counts.tagged if counts else 0
        carry = counts.topics if counts else Counter()
        primary = counts.primary if counts else Counter()
        out.append(
            {
                "period": period.label,
                "start": period.start.isoformat(),
                "rows": rows,
                "tagged": tagged,
                "topics": {t: carry[t] for t in topics},
                "shares": {t: share(carry[t], tagged) for t in topics},
                "primary": {t: primary[t] for t in topics},
                "primary_shares": {t: share(primary[t], tagged) for t in topics},
            }
        )
    return out


def top_stories(tally: Tally, periods: list[Period], top: int) -> dict[Period, list[tuple]]:
    """The ``top`` largest stories of each period: ``(story, count)``, largest first (ties by
    id, so the order never depends on the file's)."""
    per_period: dict[Period, list[tuple[Any, int]]] = {p: [] for p in periods}
    for story, counts in tally.story_periods.items():
        for period, count in counts.items():
            if period in per_period:
                per_period[period].append((story, count))
    return {
        period: sorted(entries, key=lambda e: (-e[1], str(e[0])))[:top]
        for period, entries in per_period.items()
    }


def emerging_stories(
    tally: Tally, periods: list[Period], *, window: int, ratio: float, min_size: int
) -> list[Emerging]:
    """Every (story, period) whose count jumps against the story's own previous ``window``
    periods (see the module's rule), biggest jump first."""
    index = {p: i for i, p in enumerate(periods)}
    found = []
    for story, counts in tally.story_periods.items():
        by_index = {index[p]: c for p, c in counts.items() if p in index}
        for i, count in by_index.items():
            if i == 0 or count < min_size:
                continue
            past = range(max(0, i - window), i)
            baseline = sum(by_index.get(j, 0) for j in past) / len(past)
            if count >= ratio * baseline:
                found.append(Emerging(periods[i], story, count, round(baseline, 4)))
    return sorted(found, key=lambda e: (-(e.count - e.baseline), e.period, str(e.story)))


def cap_per_period(found: list[Emerging], top: int) -> list[Emerging]:
    """The ``top`` biggest jumps of each period, in period order: a bounded list to show."""
    kept: dict[Period, list[Emerging]] = {}
    for entry in found:  # already biggest jump first
        entries = kept.setdefault(entry.period, [])
        if len(entries) < top:
            entries.append(entry)
    return [e for period in sorted(kept) for e in kept[period]]


def biggest_stories(tally: Tally, top: int) -> list[tuple[Any, int]]:
    """The ``top`` stories with the most dated headlines in the whole archive."""
    sizes = [(story, sum(c.values())) for story, c in tally.story_periods.items()]
    return sorted(sizes, key=lambda e: (-e[1], str(e[0])))[:top]


def biggest_wire_groups(tally: Tally, top: int) -> list[tuple[Any, Any]]:
    """The ``top`` wire-copy groups with the most rows in the archive: ``(group, WireGroup)``."""
    return sorted(tally.wire.items(), key=lambda e: (-e[1].rows, str(e[0])))[:top]


def main_topic(tally: Tally, story: Any) -> str | None:
    """The primary topic most of a story's headlines have (ties by name)."""
    topics = tally.story_topics.get(story)
    if not topics:
        return None
    return min(topics, key=lambda t: (-topics[t], t))
