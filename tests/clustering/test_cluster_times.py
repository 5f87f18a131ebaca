"""Times for the story tracker: years, dates, datetimes and ISO strings as days; quiet periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from classifier.clustering.times import BadTime, parse_period, time_in_days


def test_every_shape_of_time_is_days_since_1970():
    assert time_in_days("1970") == time_in_days(1970) == time_in_days(1970.0) == 0.0
    assert time_in_days(date(1970, 1, 2)) == time_in_days("1970-01-02") == 1.0
    assert time_in_days("1970-02") == 31.0
    assert time_in_days(datetime(1970, 1, 1, 12)) == 0.5  # naive: read as UTC
    assert time_in_days("1970-01-01T12:00:00Z") == 0.5
    east = datetime(1970, 1, 1, 12, tzinfo=timezone(timedelta(hours=12)))
    assert time_in_days(east) == 0.0 == time_in_days(datetime(1970, 1, 1, tzinfo=UTC))
    assert time_in_days(" 2003 ") == time_in_days(date(2003, 1, 1))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "'soon' is not a date, a datetime or a year"),
        ("2003-13-01", "is not a date"),
        ("", "empty"),
        (0, "not a year from 1 to 9999"),
        (2003.5, "is not a date"),
        (float("nan"), "is not a date"),
        (True, "is not a date"),
        ([2003], "list [2003] is not a date"),
    ],
)
def test_anything_else_is_a_bad_time_that_says_what_it_was(value, message):
    with pytest.raises(BadTime, match=message.replace("[", r"\[").replace("]", r"\]")):
        time_in_days(value)


def test_a_quiet_period_reads_units_and_refuses_nothing_or_negative():
    assert parse_period("30") == parse_period("30d") == parse_period(30) == 30.0
    assert (
        parse_period("12h") == 0.5 and parse_period("2w") == 14.0 and parse_period("1Y") == 365.25
    )
    for bad in ("0", "-1", "soon", "3x", "nan", 0):
        with pytest.raises(ValueError):
            parse_period(bad)
