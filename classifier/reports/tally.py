"""The counts a report is made of, gathered in one streaming pass over a tagged archive.

A report on ten years of headlines must not hold ten years of rows: :class:`Tally` keeps counts
only, per period and topic, per story and period, per wire-copy group. Its memory grows with
periods x topics plus the stories and wire groups, never with the rows. Headlines themselves are
read again in a second, targeted pass (:mod:`classifier.reports.build`) for the few stories and
groups the report shows.

Every row is counted somewhere: tagged or not (``tag_error``), dated or undated (with the reason
its time value was refused), so the totals always add up to the rows read.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from classifier.reports.periods import Period, Undated, period_of

TOPICS_SEPARATOR = ";"  # a CSV ``topics`` cell: ``trade;geopolitics``
UNDATED_EXAMPLES = 5
CACHED = 100_000  # distinct time values whose period is remembered
# Stories and wire groups seen once so far, remembered until a second row makes them real. The
# tracker gives every tagged row a story and a group, most of them of one row: keeping those
# forever would make memory follow the rows. A second row comes within the tracker's quiet period
# (10,000 rows by default), far inside this many newer one-row stories.
RECENT_SINGLES = 250_000


def story_id(value: Any) -> int | str | None:
    """A story or group id as written by ``tag``: an integer, ``-1`` / empty for none.

    CSV gives text, JSONL and Parquet numbers; both become the same int. An id that is not a
    number is kept as text rather than dropped.
    """
    if value is None or value == "":
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        value = int(value) if value.is_integer() else value
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return text or None
            if math.isnan(number):
                return None
            value = int(number) if number.is_integer() else text
    if isinstance(value, int) and not isinstance(value, bool):
        return None if value < 0 else value
    return str(value)


def topic_list(topics: Any, primary: str) -> list[str]:
    """Every topic of a row, primary first: a list (JSONL, Parquet) or a ``;``-joined cell."""
    if isinstance(topics, str):
        names = [t.strip() for t in topics.split(TOPICS_SEPARATOR)]
    elif isinstance(topics, list | tuple):
        names = [str(t).strip() for t in topics if t is not None]
    else:
        names = []
    out = [primary]
    out += [t for t in names if t and t != primary]
    return list(dict.fromkeys(out))


@dataclass
class PeriodCounts:
    """What one period holds: rows, tagged rows, each topic (every one a row carries), primary."""

    rows: int = 0
    tagged: int = 0
    topics: Counter = field(default_factory=Counter)
    primary: Counter = field(default_factory=Counter)


@dataclass(slots=True)  # one per wire group: many of them
class WireGroup:
    """One wire-copy group: rows in this archive, the ``wire_count`` tag wrote, first and last."""

    rows: int = 0
    wire_count: int = 0
    first: Period | None = None
    last: Period | None = None
    story: int | str | None = None


@dataclass
class Tally:
    """Counts of a tagged archive by period; ``add`` takes one row's values at a time."""

    by: str
    rows: int = 0
    tagged: int = 0
    untagged: Counter = field(default_factory=Counter)  # tag_error reason -> rows
    undated: int = 0
    undated_reasons: Counter = field(default_factory=Counter)
    undated_examples: list[dict[str, Any]] = field(default_factory=list)
    periods: dict[Period, PeriodCounts] = field(default_factory=dict)
    totals: Counter = field(default_factory=Counter)  # every topic, dated or not
    totals_primary: Counter = field(default_factory=Counter)
    story_periods: dict[Any, Counter] = field(default_factory=dict)  # story -> period -> rows
    story_topics: dict[Any, Counter] = field(default_factory=dict)  # story -> primary topic
    wire: dict[Any, WireGroup] = field(default_factory=dict)  # groups of two rows or more
    single_stories: int = 0  # stories of one dated headline (not in story_periods)
    _seen: dict[Any, Period | Undated] = field(default_factory=dict, repr=False)
    _lone_stories: dict[Any, tuple[Period, str]] = field(default_factory=dict, repr=False)
    _lone_wire: dict[Any, WireGroup] = field(default_factory=dict, repr=False)

    def add(
        self,
        row: int,
        time: Any,
        topic: Any,
        topics: Any,
        error: Any,
        story: Any = None,
        wire_group: Any = None,
        wire_count: Any = None,
    ) -> None:
        """Count one row (``row`` is its number in the file, from 1, for the undated examples)."""
        self.rows += 1
        primary = topic.strip() if isinstance(topic, str) else ""
        reason = error.strip() if isinstance(error, str) else ""
        if not primary and not reason:
            reason = "no topic"
        names: list[str] = []
        if reason:
            self.untagged[reason.split(":", 1)[0]] += 1
        else:
            self.tagged += 1
            names = topic_list(topics, primary)
            self.totals.update(names)
            self.totals_primary[primary] += 1
        period = self.period(time)
        if isinstance(period, Undated):
            self._undated(row, time, period)
            return
        counts = self.periods.get(period)
        if counts is None:
            counts = self.periods[period] = PeriodCounts()
        counts.rows += 1
        if names:
            counts.tagged += 1
            counts.topics.update(names)
            counts.primary[primary] += 1
        story = story_id(story)
        if story is not None:
            self._story(story, period, primary if names else "")
        group = story_id(wire_group)
        if group is not None:
            self._wire(group, period, story, wire_count)

    def period(self, time: Any) -> Period | Undated:
        """The period of a time value, or why it has none; remembered per distinct text or
        number, since an archive repeats its dates row after row (at most :data:`CACHED`)."""
        key = (type(time), time) if isinstance(time, str | int) else None
        if key is not None and (known := self._seen.get(key)) is not None:
            return known
        try:
            found: Period | Undated = period_of(time, self.by)
        except Undated as exc:
            found = exc
        if key is not None:
            if len(self._seen) >= CACHED:
                self._seen.clear()
            self._seen[key] = found
        return found

    def _undated(self, row: int, value: Any, why: Undated) -> None:
        self.undated += 1
        self.undated_reasons[why.kind] += 1
        if len(self.undated_examples) < UNDATED_EXAMPLES:
            shown = value if isinstance(value, int | str | None) else str(value)
            self.undated_examples.append({"row": row, "value": shown, "reason": str(why)})

    def _story(self, story: Any, period: Period, primary: str) -> None:
        counts = self.story_periods.get(story)
        if counts is None:
            first = self._lone_stories.pop(story, None)
            if first is None:  # the story's first headline: remembered among the recent ones
                self._lone_stories[story] = (period, primary)
                self.single_stories += 1
                _bound(self._lone_stories)
                return
            self.single_stories -= 1
            counts = self.story_periods[story] = Counter({first[0]: 1})
            if first[1]:
                self.story_topics.setdefault(story, Counter())[first[1]] += 1
        counts[period] += 1
        if primary:
            self.story_topics.setdefault(story, Counter())[primary] += 1

    def _wire(self, group: Any, period: Period, story: Any, count: Any) -> None:
        entry = self.wire.get(group) or self._lone_wire.pop(group, None)
        if entry is None:
            entry = WireGroup(first=period, last=period, story=story)
        entry.rows += 1
        entry.first = min(entry.first or period, period)
        entry.last = max(entry.last or period, period)
        written = story_id(count)  # the same rule: a whole number, -1/empty for none
        if isinstance(written, int):
            entry.wire_count = max(entry.wire_count, written)
        if entry.rows >= 2 or entry.wire_count >= 2:
            self.wire[group] = entry
        else:
            self._lone_wire[group] = entry
            _bound(self._lone_wire)

    def topic_names(self) -> list[str]:
        """Every topic seen, the most frequent first (ties by name), for stable columns."""
        return sorted(self.totals, key=lambda t: (-self.totals[t], t))


def _bound(recent: dict[Any, Any]) -> None:
    """Forget the oldest one-row entry once there are :data:`RECENT_SINGLES` (dicts keep order)."""
    if len(recent) > RECENT_SINGLES:
        del recent[next(iter(recent))]
