"""The rules of a report, checked on counts worked out by hand."""

from __future__ import annotations

from classifier.reports import sections
from classifier.reports.tally import Tally


def _tally(by: str, story_rows: dict[int, dict[str, int]]) -> Tally:
    """A tally whose story ``s`` has ``n`` headlines in period ``p`` for each ``p: n``."""
    tally = Tally(by)
    row = 0
    for story, counts in story_rows.items():
        for period, n in counts.items():
            for _ in range(n):
                row += 1
                tally.add(row, period, "trade", "trade", "", story=story)
    return tally


def _labels(periods):
    return [p.label for p in periods]


def test_the_timeline_fills_quiet_periods_between_the_first_and_the_last():
    tally = _tally("month", {1: {"2024-01": 1, "2024-04": 1}})
    assert _labels(sections.timeline(tally)) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert sections.timeline(Tally("month")) == []


def test_a_timeline_too_long_to_fill_lists_only_periods_with_rows(monkeypatch):
    monkeypatch.setattr(sections, "MAX_FILLED_PERIODS", 3)
    tally = _tally("month", {1: {"2024-01": 1, "2024-09": 1}})
    assert _labels(sections.timeline(tally)) == ["2024-01", "2024-09"]


def test_shares_are_of_tagged_headlines_and_primary_shares_add_up_to_one():
    tally = Tally("year")
    tally.add(1, "2024", "trade", "trade;geopolitics", "")
    tally.add(2, "2024", "trade", "trade", "")
    tally.add(3, "2024", "health", "health;geopolitics", "")
    tally.add(4, "2024", "", "", "empty headline")  # a row, but not a tagged one
    periods = sections.timeline(tally)
    (row,) = sections.period_rows(tally, periods, tally.topic_names())
    assert row["rows"] == 4 and row["tagged"] == 3
    assert row["topics"] == {"geopolitics": 2, "trade": 2, "health": 1}
    assert row["shares"] == {"geopolitics": 0.6667, "trade": 0.6667, "health": 0.3333}
    assert row["primary"] == {"geopolitics": 0, "trade": 2, "health": 1}
    assert row["primary_shares"] == {"geopolitics": 0.0, "trade": 0.6667, "health": 0.3333}


def test_top_stories_are_the_largest_of_each_period_ties_by_id():
    tally = _tally("year", {7: {"2020": 2, "2021": 5}, 3: {"2020": 2}, 9: {"2020": 4}})
    periods = sections.timeline(tally)
    top = sections.top_stories(tally, periods, 2)
    assert top[periods[0]] == [(9, 4), (3, 2)]  # 3 before 7 on the tie
    assert top[periods[1]] == [(7, 5)]
    assert sections.biggest_stories(tally, 2) == [(7, 7), (9, 4)]


def test_emerging_is_a_jump_against_the_storys_own_previous_periods():
    # story 1: 2, 2, 8 -> 8 >= 3 x mean(2, 2) = 6 and >= 5 headlines: emerging in 2022
    # story 2: 4, 4, 12 -> 12 >= 3 x 4: emerging
    # story 3: 0, 6 -> new in 2021, baseline mean(0) = 0: emerging, no ratio
    # story 4: 10, 10, 20 -> 20 < 3 x 10: not emerging
    # story 5: 0, 0, 4 -> under the minimum size of 5: not emerging
    # story 6: 9 in the first period, which has no past: never emerging there
    tally = _tally(
        "year",
        {
            1: {"2020": 2, "2021": 2, "2022": 8},
            2: {"2020": 4, "2021": 4, "2022": 12},
            3: {"2021": 6},
            4: {"2020": 10, "2021": 10, "2022": 20},
            5: {"2022": 4},
            6: {"2020": 9},
        },
    )
    periods = sections.timeline(tally)
    found = sections.emerging_stories(tally, periods, window=2, ratio=3.0, min_size=5)
    got = [(e.period.label, e.story, e.count, e.baseline, e.ratio) for e in found]
    # biggest jump (count - baseline) first: 12 - 4 = 8, then 6 - 0 = 6 and 8 - 2 = 6, the
    # earlier period first on the tie
    assert got == [
        ("2022", 2, 12, 4.0, 3.0),
        ("2021", 3, 6, 0.0, None),
        ("2022", 1, 8, 2.0, 4.0),
    ]
    capped = sections.cap_per_period(found, 1)
    assert [(e.period.label, e.story) for e in capped] == [("2021", 3), ("2022", 2)]


def test_the_window_counts_missing_periods_as_zero_and_is_shorter_at_the_start():
    # story 1: 6 in 2020, nothing in 2021, 6 in 2022. Window 2 in 2022: mean(6, 0) = 3 -> 6 >=
    # 2 x 3: emerging. In 2021 (window of one period, 2020): 0 headlines, not emerging.
    tally = _tally("year", {1: {"2020": 6, "2022": 6}})
    periods = sections.timeline(tally)
    found = sections.emerging_stories(tally, periods, window=2, ratio=2.0, min_size=5)
    assert [(e.period.label, e.baseline) for e in found] == [("2022", 3.0)]


def test_wire_groups_by_rows_and_a_storys_main_topic():
    tally = Tally("year")
    for i, (group, topic) in enumerate([(1, "trade"), (2, "health"), (2, "health"), (2, "trade")]):
        tally.add(i + 1, "2024", topic, topic, "", story=5, wire_group=group)
    assert [g for g, _ in sections.biggest_wire_groups(tally, 5)] == [2]  # 1 has one row
    assert sections.main_topic(tally, 5) == "health"
    assert sections.main_topic(tally, 99) is None
