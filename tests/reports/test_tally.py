"""The one streaming pass counts every row: tagged or not, dated or not, story and wire group."""

from __future__ import annotations

import pytest

from classifier.reports.periods import period_of
from classifier.reports.tally import Tally, story_id, topic_list


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        ("3", 3),
        (" 3 ", 3),
        (3.0, 3),
        ("3.0", 3),
        (0, 0),
        (-1, None),
        ("-1", None),
        ("", None),
        (None, None),
        (float("nan"), None),
        ("nan", None),
        ("s-12", "s-12"),
    ],
)
def test_story_ids_from_csv_jsonl_and_parquet_are_the_same(value, expected):
    assert story_id(value) == expected


def test_topic_lists_from_every_format_put_the_primary_first():
    assert topic_list("trade;geopolitics", "trade") == ["trade", "geopolitics"]
    assert topic_list(["geopolitics", "trade"], "trade") == ["trade", "geopolitics"]
    assert topic_list(None, "health") == ["health"]
    assert topic_list("", "health") == ["health"]
    assert topic_list("health;health; ", "health") == ["health"]


def test_every_row_is_counted_once_tagged_or_not_dated_or_not():
    tally = Tally("month")
    tally.add(
        1, "2024-01-05", "trade", "trade;geopolitics", "", story=4, wire_group=2, wire_count=3
    )
    tally.add(2, "2024-01-06", "", "", "empty headline", story=-1)
    tally.add(3, "later", "health", "health", "", story=4)
    tally.add(4, "2024-02-01", None, None, None)  # no topic and no reason: still counted
    tally.add(5, "2024-02-02", "health", ["health"], None, story="4", wire_group="2")
    assert tally.rows == 5
    assert tally.tagged == 3
    assert dict(tally.untagged) == {"empty headline": 1, "no topic": 1}
    assert tally.undated == 1
    assert tally.undated_examples == [{"row": 3, "value": "later", "reason": "not a date: 'later'"}]
    jan, feb = period_of("2024-01-01", "month"), period_of("2024-02-01", "month")
    assert tally.periods[jan].rows == 2 and tally.periods[jan].tagged == 1
    assert dict(tally.periods[jan].topics) == {"trade": 1, "geopolitics": 1}
    assert dict(tally.periods[jan].primary) == {"trade": 1}
    assert tally.periods[feb].rows == 2 and tally.periods[feb].tagged == 1
    assert dict(tally.totals) == {"trade": 1, "geopolitics": 1, "health": 2}
    assert dict(tally.story_periods[4]) == {jan: 1, feb: 1}  # the undated row is in no period
    assert tally.wire[2].rows == 2 and tally.wire[2].wire_count == 3
    assert (tally.wire[2].first, tally.wire[2].last) == (jan, feb)
    assert tally.topic_names() == ["health", "geopolitics", "trade"]


def test_undated_examples_are_bounded():
    tally = Tally("year")
    for i in range(50):
        tally.add(i + 1, "??", "trade", "trade", "")
    assert tally.undated == 50
    assert len(tally.undated_examples) == 5
    assert dict(tally.undated_reasons) == {"not a date": 50}


def test_stories_and_wire_groups_of_one_row_are_kept_only_while_recent(monkeypatch):
    """Every tagged row has a story and a wire group, most of one row: memory must not follow
    the rows, so those are remembered among the RECENT_SINGLES newest until a second row."""
    from classifier.reports import tally as module

    monkeypatch.setattr(module, "RECENT_SINGLES", 3)
    tally = Tally("year")
    tally.add(1, "2024", "trade", "trade", "", story=1, wire_group=1, wire_count=1)
    for i in range(2, 12):  # ten more one-row stories and groups
        tally.add(i, "2024", "trade", "trade", "", story=i, wire_group=i, wire_count=1)
    tally.add(12, "2024", "trade", "trade", "", story=11, wire_group=11, wire_count=2)
    assert set(tally.story_periods) == {11} and set(tally.wire) == {11}
    assert sum(tally.story_periods[11].values()) == 2 and tally.wire[11].rows == 2
    assert tally.single_stories == 10  # 1..10
    assert len(tally._lone_stories) <= 3 and len(tally._lone_wire) <= 3
    # story 1's second row comes after it was forgotten: it starts over as a one-row story
    tally.add(13, "2024", "trade", "trade", "", story=1)
    assert 1 not in tally.story_periods and tally.single_stories == 11
