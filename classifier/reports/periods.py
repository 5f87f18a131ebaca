"""Which period a row's time value falls in: a day, an ISO week, a month or a year.

Archives carry their time in many shapes: a bare year (``1996``, from a CSV as text or from
Parquet as an integer), an ISO date or datetime (``2003-05-01``, ``2003-05-01T12:30:00Z``), a
month (``2003-05``), or a typed date or timestamp from Parquet. Every one of them becomes a
``datetime.date`` with the precision it was given in, so a value that is too coarse for the
period asked for (a year with ``--by month``) is told apart from one that is no date at all. A
value that cannot be placed is never guessed at: the caller counts it as undated, with the reason
this module gives.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

PERIODS = ("day", "week", "month", "year")
# how fine a value is, and how fine a period needs it to be (a week needs a day)
_PRECISION = {"year": 0, "month": 1, "day": 2}
_NEEDS = {"year": 0, "month": 1, "week": 2, "day": 2}

_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DATE_START = re.compile(r"^\d{4}-\d{2}-\d{2}")
MIN_YEAR, MAX_YEAR = 1000, 9999  # four-digit years: a "13" or a Unix time is no year


class Undated(ValueError):
    """A time value that names no period; its message is the reason the report shows, its
    ``kind`` what the report counts by (``empty``, ``not a date``, ``no month``...)."""

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind or message.split(":", 1)[0]


@dataclass(frozen=True, order=True)
class Period:
    """One period of a report: ordered by its first day, shown by its label."""

    start: dt.date
    label: str


def parse_time(value: Any) -> tuple[dt.date, str]:
    """The date a time value names and its precision (``year``, ``month`` or ``day``).

    Raises :class:`Undated` with the reason when the value is empty or is no date.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise Undated("empty")
    if isinstance(value, dt.datetime):
        return value.date(), "day"
    if isinstance(value, dt.date):
        return value, "day"
    if isinstance(value, bool):
        raise Undated(f"not a date: {value!r}")
    if isinstance(value, int | float):
        if float(value).is_integer() and MIN_YEAR <= value <= MAX_YEAR:
            return dt.date(int(value), 1, 1), "year"
        raise Undated(f"not a year: {value!r}")
    if not isinstance(value, str):
        raise Undated(f"not a date: {type(value).__name__}")
    text = value.strip()
    if not text:
        raise Undated("empty")
    try:
        if _YEAR.match(text):
            return dt.date(int(text), 1, 1), "year"
        if match := _MONTH.match(text):
            return dt.date(int(match[1]), int(match[2]), 1), "month"
        if _DATE_START.match(text):
            if len(text) == 10:
                return dt.date.fromisoformat(text), "day"
            # "Z" is UTC; fromisoformat reads it from Python 3.11 on, and a space for "T" too
            return dt.datetime.fromisoformat(text).date(), "day"
    except ValueError:
        pass
    raise Undated(f"not a date: {_shown(text)}")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def period_of(value: Any, by: str) -> Period:
    """The period of ``by`` (day, week, month, year) a time value falls in.

    Raises :class:`Undated` when the value is no date or is coarser than the period (a bare
    year with ``--by month``): placing it in January would invent a spike.
    """
    if by not in _NEEDS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {by!r}")
    day, precision = parse_time(value)
    if _PRECISION[precision] < _NEEDS[by]:
        needed = "day" if by == "week" else by
        raise Undated(
            f"{_shown(str(value))} has no {needed} (use --by {precision})", f"no {needed}"
        )
    return period_for_date(day, by)


def period_for_date(day: dt.date, by: str) -> Period:
    """The period of ``by`` that holds ``day``, labelled as people write it."""
    if by == "year":
        return Period(dt.date(day.year, 1, 1), f"{day.year:04d}")
    if by == "month":
        return Period(dt.date(day.year, day.month, 1), f"{day.year:04d}-{day.month:02d}")
    if by == "week":
        year, week, weekday = day.isocalendar()
        return Period(day - dt.timedelta(days=weekday - 1), f"{year:04d}-W{week:02d}")
    return Period(day, day.isoformat())


def next_period(period: Period, by: str) -> Period:
    """The period right after ``period``: how gaps between periods with rows are filled."""
    start = period.start
    if by == "year":
        return period_for_date(dt.date(start.year + 1, 1, 1), by)
    if by == "month":
        year, month = divmod(start.month, 12)
        return period_for_date(dt.date(start.year + year, month + 1, 1), by)
    step = 7 if by == "week" else 1
    return period_for_date(start + dt.timedelta(days=step), by)


def period_range(first: Period, last: Period, by: str, limit: int) -> list[Period] | None:
    """Every period from ``first`` to ``last``, or None when there would be more than ``limit``."""
    out = [first]
    while out[-1] < last:
        if len(out) >= limit:
            return None
        out.append(next_period(out[-1], by))
    return out
