"""Times for the story tracker: dates, datetimes and years read as days, and quiet periods.

Archives give their times in many shapes (``2003``, ``2003-05``, ``2003-05-01``,
``2003-05-01T14:30:00Z``, a Parquet timestamp), and the tracker only needs to know how far apart
two headlines are. So every time becomes one number, days since 1970-01-01 (UTC): a year is its
1 January, a month its first day. A quiet period is written as a number with an optional unit
(``30d``, ``12h``, ``2w``, ``1y``; a bare number is days).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_YEAR = re.compile(r"\d{1,4}")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})")
_PERIOD = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([hdwy]?)", re.IGNORECASE)
_DAYS_PER = {"h": 1 / 24, "d": 1.0, "w": 7.0, "y": 365.25, "": 1.0}


class BadTime(ValueError):
    """A value that is not a date, a datetime or a year; its message says what it was."""


def time_in_days(value: object) -> float:
    """Days since 1970-01-01 UTC for a date, a datetime (naive: UTC), a year or an ISO string.

    Integers (and integral floats, as pandas reads a ``year`` column) from 1 to 9999 are years.
    Anything else raises :class:`BadTime`.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return (moment - _EPOCH).total_seconds() / 86_400
    if isinstance(value, date):
        return float(value.toordinal() - _EPOCH.date().toordinal())
    if isinstance(value, bool):
        raise BadTime(f"{value!r} is not a date, a datetime or a year")
    if isinstance(value, int | float):
        if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
            raise BadTime(f"{value!r} is not a date, a datetime or a year")
        return _year(int(value), value)
    if isinstance(value, str):
        return _parse_text(value.strip())
    raise BadTime(f"{type(value).__name__} {value!r} is not a date, a datetime or a year")


def _year(year: int, shown: object) -> float:
    if not 1 <= year <= 9999:
        raise BadTime(f"{shown!r} is not a year from 1 to 9999")
    return time_in_days(date(year, 1, 1))


def _parse_text(text: str) -> float:
    if not text:
        raise BadTime("empty")
    if _YEAR.fullmatch(text):
        return _year(int(text), text)
    month = _YEAR_MONTH.fullmatch(text)
    try:
        if month:
            return time_in_days(date(int(month[1]), int(month[2]), 1))
        return time_in_days(datetime.fromisoformat(text))
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise BadTime(f"{shown!r} is not a date, a datetime or a year") from None


def parse_period(text: str | float) -> float:
    """A quiet period in days from ``30``, ``30d``, ``12h``, ``2w`` or ``1y``; refuses <= 0."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        days = float(text)
    else:
        match = _PERIOD.fullmatch(str(text).strip())
        if not match:
            raise ValueError(f"{text!r} is not a period: a number with h, d, w or y (e.g. 30d)")
        days = float(match[1]) * _DAYS_PER[match[2].lower()]
    if not (days > 0 and math.isfinite(days)):
        raise ValueError(f"a quiet period must be more than 0, not {text!r}")
    return days
