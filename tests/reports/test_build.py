"""build_report on small tagged archives: counts worked out by hand from tests/reports/support.py."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifier.errors import DataError
from classifier.reports.build import build_report
from classifier.reports.options import ReportOptions
from tests.reports.support import ARCHIVE, without, write_tagged

MONTHLY = ReportOptions(time_column="date", by="month", emerging_min=2, emerging_window=1)
FORMATS = [
    "tagged.csv",
    "tagged.tsv.gz",
    "tagged.csv.gz",
    "tagged.jsonl",
    "tagged.jsonl.gz",
    "tagged.parquet",
]


@pytest.mark.parametrize("name", FORMATS)
def test_counts_and_shares_per_month_are_the_hand_computed_ones(tmp_path, name):
    doc = build_report(write_tagged(tmp_path / name), MONTHLY)
    assert doc["rows"] == 14 and doc["tagged"] == 13
    assert doc["untagged"] == {"rows": 1, "reasons": {"empty headline": 1}}
    assert doc["undated"]["rows"] == 2
    assert doc["undated"]["reasons"] == {"not a date": 1, "empty": 1}
    assert [e["row"] for e in doc["undated"]["examples"]] == [10, 13]
    assert doc["topics"] == ["health", "trade", "geopolitics", "immigration"]
    assert doc["totals"]["topics"] == {"health": 6, "trade": 5, "geopolitics": 4, "immigration": 3}
    assert doc["totals"]["primary"] == {"health": 6, "trade": 4, "geopolitics": 1, "immigration": 2}
    jan, feb, mar = doc["periods"]
    assert [p["period"] for p in doc["periods"]] == ["2024-01", "2024-02", "2024-03"]
    assert (jan["rows"], jan["tagged"], feb["rows"], feb["tagged"], mar["rows"]) == (5, 4, 4, 4, 3)
    assert jan["topics"] == {"health": 0, "trade": 3, "geopolitics": 2, "immigration": 1}
    assert jan["shares"] == {"health": 0.0, "trade": 0.75, "geopolitics": 0.5, "immigration": 0.25}
    assert jan["primary_shares"]["trade"] == 0.75
    assert feb["topics"] == {"health": 3, "trade": 1, "geopolitics": 0, "immigration": 1}
    assert mar["primary"] == {"health": 2, "trade": 0, "geopolitics": 1, "immigration": 0}
    # every row is somewhere: the periods' rows and the undated ones add up to all of them
    assert sum(p["rows"] for p in doc["periods"]) + doc["undated"]["rows"] == doc["rows"]


@pytest.mark.parametrize("name", ["tagged.csv", "tagged.parquet"])
def test_top_and_emerging_stories_and_wire_groups(tmp_path, name):
    doc = build_report(write_tagged(tmp_path / name), MONTHLY)
    stories = doc["stories"]
    assert stories["available"] and stories["count"] == 2  # story 3 has only an undated row
    top = {
        p["period"]: [(s["story"], s["size"], s["total"]) for s in p["stories"]]
        for p in stories["top"]
    }
    assert top == {
        "2024-01": [(1, 3, 4)],
        "2024-02": [(2, 3, 5), (1, 1, 4)],
        "2024-03": [(2, 2, 5)],
    }
    measles = stories["top"][1]["stories"][0]
    assert measles["topic"] == "health"
    assert "measles" in measles["keywords"] and "texas" in measles["keywords"]
    # story 2: 3 in Feb against 0 in Jan (new); 2 in Mar < 3 x 3. Story 1: 1 in Feb < 2.
    assert [(e["period"], e["story"], e["size"], e["ratio"]) for e in stories["emerging"]] == [
        ("2024-02", 2, 3, None)
    ]
    assert [(t["story"], t["counts"]) for t in stories["timelines"]] == [
        (2, [0, 3, 2]),
        (1, [3, 1, 0]),
    ]
    wire = doc["wire"]
    assert wire["available"] and wire["count"] == 1
    assert wire["groups"] == [
        {
            "wire_group": 7,
            "rows": 2,
            "wire_count": 2,
            "story": 1,
            "first": "2024-01",
            "last": "2024-01",
            "headline": "China hits back with soybean tariffs",
        }
    ]
    assert doc["unavailable"] == []


def test_by_year_and_by_week(tmp_path):
    path = write_tagged(tmp_path / "tagged.csv")
    yearly = build_report(path, ReportOptions(time_column="date", by="year"))
    assert [(p["period"], p["rows"]) for p in yearly["periods"]] == [("2024", 12)]
    weekly = build_report(path, ReportOptions(time_column="date", by="week"))
    labels = [p["period"] for p in weekly["periods"]]
    assert labels[0] == "2024-W01" and labels[-1] == "2024-W12"
    assert len(labels) == 12  # quiet weeks are listed too, with 0 rows
    assert sum(p["rows"] for p in weekly["periods"]) == 12


def test_the_json_document_keeps_its_keys(tmp_path):
    """Scripts read --json: its keys are a contract (docs/reports.md lists them)."""
    doc = json.loads(json.dumps(build_report(write_tagged(tmp_path / "t.csv"), MONTHLY)))
    assert list(doc) == [
        "schema",
        "input",
        "time_column",
        "by",
        "rows",
        "tagged",
        "untagged",
        "undated",
        "topics",
        "totals",
        "periods",
        "stories",
        "wire",
        "unavailable",
    ]
    assert doc["schema"] == 1
    assert list(doc["totals"]) == ["topics", "shares", "primary", "primary_shares"]
    assert list(doc["periods"][0]) == [
        "period",
        "start",
        "rows",
        "tagged",
        "topics",
        "shares",
        "primary",
        "primary_shares",
    ]
    assert list(doc["stories"]) == [
        "available",
        "column",
        "count",
        "single",
        "top",
        "emerging",
        "emerging_rule",
        "timelines",
    ]
    assert list(doc["stories"]["top"][0]["stories"][0]) == [
        "story",
        "size",
        "total",
        "topic",
        "keywords",
    ]
    assert list(doc["stories"]["emerging"][0]) == [
        "story",
        "period",
        "size",
        "baseline",
        "ratio",
        "total",
        "topic",
        "keywords",
    ]
    assert list(doc["wire"]) == ["available", "column", "count", "groups"]
    assert list(doc["wire"]["groups"][0]) == [
        "wire_group",
        "rows",
        "wire_count",
        "story",
        "first",
        "last",
        "headline",
    ]


def test_missing_story_wire_and_topics_columns_turn_their_sections_off(tmp_path):
    path = write_tagged(
        tmp_path / "t.csv", columns=without("story", "wire_group", "wire_count", "topics")
    )
    doc = build_report(path, MONTHLY)
    assert doc["stories"]["available"] is False and doc["stories"]["top"] == []
    assert doc["wire"]["available"] is False and doc["wire"]["groups"] == []
    notes = doc["unavailable"]
    assert any("'story' column" in n and "--clusters stories" in n for n in notes)
    assert any("'wire_group' column" in n for n in notes)
    assert any("'topics' column" in n for n in notes)
    # without topics, each headline counts for its primary topic only
    assert doc["totals"]["topics"] == doc["totals"]["primary"]


def test_another_story_column_can_be_named(tmp_path):
    rows = [{**r, "cluster": r["story"]} for r in ARCHIVE]
    path = write_tagged(tmp_path / "t.csv", rows, columns=(*without("story"), "cluster"))
    doc = build_report(path, ReportOptions(time_column="date", story_column="cluster"))
    assert doc["stories"]["available"] and doc["stories"]["count"] == 2


def test_a_file_without_the_time_column_or_the_topic_is_refused(tmp_path):
    path = write_tagged(tmp_path / "t.csv")
    with pytest.raises(DataError, match="no 'year' column; found .*--time-column"):
        build_report(path, ReportOptions(time_column="year"))
    untagged = write_tagged(tmp_path / "u.csv", columns=("id", "headline", "date"))
    with pytest.raises(DataError, match="not a tagged archive"):
        build_report(untagged, ReportOptions(time_column="date"))


def test_a_malformed_row_is_counted_as_untagged_not_lost(tmp_path):
    path = write_tagged(tmp_path / "t.csv")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("15,Extra fields here,2024-03-21,trade,0.9,trade,v,,1,-1,,surplus\n")
    doc = build_report(path, MONTHLY)
    assert doc["rows"] == 15
    assert doc["untagged"]["reasons"]["unreadable row"] == 1
    assert doc["periods"][-1]["rows"] == 4  # dated in March, but not tagged
    assert doc["periods"][-1]["tagged"] == 3


def test_typed_parquet_dates_and_integer_years(tmp_path):
    import datetime as dt

    table = pa.table(
        {
            "headline": ["a b", "c d", "e f"],
            "when": pa.array([dt.date(2001, 5, 1), None, dt.date(2002, 1, 1)], pa.date32()),
            "year": pa.array([2001, 2001, None], pa.int64()),
            "topic": ["trade", "trade", "health"],
            "tag_error": [None, None, None],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    by_date = build_report(tmp_path / "t.parquet", ReportOptions(time_column="when", by="year"))
    assert [(p["period"], p["rows"]) for p in by_date["periods"]] == [("2001", 1), ("2002", 1)]
    assert by_date["undated"]["reasons"] == {"empty": 1}
    by_year = build_report(tmp_path / "t.parquet", ReportOptions(time_column="year", by="year"))
    assert [(p["period"], p["rows"]) for p in by_year["periods"]] == [("2001", 2)]


def test_years_with_by_month_are_undated_with_the_advice(tmp_path):
    rows = [{**r, "date": "2024"} for r in ARCHIVE]
    doc = build_report(write_tagged(tmp_path / "t.csv", rows), MONTHLY)
    assert doc["undated"]["rows"] == 14 and doc["periods"] == []
    assert "use --by year" in doc["undated"]["examples"][0]["reason"]


def test_progress_reaches_every_row(tmp_path):
    seen = []
    build_report(
        write_tagged(tmp_path / "t.csv"), MONTHLY, progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (14, 14)


@pytest.mark.parametrize(
    "bad", [{"top": 0}, {"emerging_window": 0}, {"emerging_ratio": 0}, {"by": "decade"}]
)
def test_bad_options_are_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        build_report(write_tagged(tmp_path / "t.csv"), ReportOptions(time_column="date", **bad))
