"""Time values become periods; a value that names none is refused with the reason shown."""

from __future__ import annotations

import datetime as dt

import pytest

from classifier.reports.periods import (
    Period,
    Undated,
    next_period,
    parse_time,
    period_of,
    period_range,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1996", (dt.date(1996, 1, 1), "year")),
        (" 2003 ", (dt.date(2003, 1, 1), "year")),
        (2003, (dt.date(2003, 1, 1), "year")),
        (2003.0, (dt.date(2003, 1, 1), "year")),
        ("2003-05", (dt.date(2003, 5, 1), "month")),
        ("2003-05-17", (dt.date(2003, 5, 17), "day")),
        ("2003-05-17T23:59:00Z", (dt.date(2003, 5, 17), "day")),
        ("2003-05-17 08:00:00+02:00", (dt.date(2003, 5, 17), "day")),
        (dt.datetime(2003, 5, 17, 12), (dt.date(2003, 5, 17), "day")),
        (dt.date(2003, 5, 17), (dt.date(2003, 5, 17), "day")),
    ],
)
def test_years_months_dates_and_datetimes_are_read(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "empty"),
        ("", "empty"),
        ("   ", "empty"),
        (float("nan"), "empty"),
        ("soon", "not a date"),
        ("2003-13-01", "not a date"),
        ("2003-02-30", "not a date"),
        ("17/05/2003", "not a date"),
        (13, "not a year"),
        (1700000000, "not a year"),
        (2003.5, "not a year"),
        (True, "not a date"),
        ([2003], "not a date"),
    ],
)
def test_a_value_that_is_no_date_is_refused_with_its_kind(value, kind):
    with pytest.raises(Undated) as refused:
        parse_time(value)
    assert refused.value.kind == kind


def test_a_long_bad_value_is_cut_in_the_message():
    with pytest.raises(Undated) as refused:
        parse_time("x" * 500)
    assert len(str(refused.value)) < 80


@pytest.mark.parametrize(
    ("value", "by", "label", "start"),
    [
        ("2024-01-03", "day", "2024-01-03", dt.date(2024, 1, 3)),
        ("2024-01-03", "week", "2024-W01", dt.date(2024, 1, 1)),
        ("2021-01-03", "week", "2020-W53", dt.date(2020, 12, 28)),  # ISO weeks: a Sunday
        ("2024-01-03", "month", "2024-01", dt.date(2024, 1, 1)),
        ("2024-01-03", "year", "2024", dt.date(2024, 1, 1)),
        ("2024-07", "month", "2024-07", dt.date(2024, 7, 1)),
        ("2024-07", "year", "2024", dt.date(2024, 1, 1)),
        (1999, "year", "1999", dt.date(1999, 1, 1)),
    ],
)
def test_a_value_falls_in_its_period(value, by, label, start):
    assert period_of(value, by) == Period(start, label)


@pytest.mark.parametrize(
    ("value", "by", "kind"),
    [("1996", "month", "no month"), ("1996", "week", "no day"), ("2003-05", "day", "no day")],
)
def test_a_value_coarser_than_the_period_is_undated_not_put_in_january(value, by, kind):
    with pytest.raises(Undated) as refused:
        period_of(value, by)
    assert refused.value.kind == kind
    assert "use --by" in str(refused.value)


def test_an_unknown_period_is_a_value_error():
    with pytest.raises(ValueError, match="day, week, month, year"):
        period_of("2024", "decade")


def test_next_period_crosses_year_ends():
    dec = period_of("2023-12-15", "month")
    assert next_period(dec, "month").label == "2024-01"
    assert next_period(period_of("2020-12-31", "day"), "day").label == "2021-01-01"
    assert next_period(period_of("2020-12-28", "week"), "week").label == "2021-W01"
    assert next_period(period_of("2020", "year"), "year").label == "2021"


def test_period_range_fills_gaps_and_stops_at_its_limit():
    first, last = period_of("2024-01", "month"), period_of("2024-04", "month")
    assert [p.label for p in period_range(first, last, "month", 10)] == [
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
    ]
    assert period_range(first, last, "month", 3) is None
    assert period_range(first, first, "month", 1) == [first]
