"""Reading labelled files: every bad row is reported with its file and row, nothing crashes."""

from __future__ import annotations

import json

import pytest

from classifier.topics.data import DataError, read_labelled
from tests.conftest import ROOT, write_csv


def test_reads_csv_and_counts_bad_rows(tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        [
            ("Tariffs rise", "trade"),
            ("   ", "trade"),
            ("", "health"),
            ("Flu season", ""),
            ("Ok", "other"),
        ],
    )
    data = read_labelled(path)
    assert data.texts == ["Tariffs rise", "Ok"]
    assert data.rows_read == 5
    reasons = [str(p) for p in data.problems]
    assert reasons == [
        f"{path}: row 2: empty headline",
        f"{path}: row 3: empty headline",
        f"{path}: row 4: missing topic",
    ]


def test_reads_jsonl_with_broken_lines(tmp_path):
    path = tmp_path / "d.jsonl"
    lines = [
        json.dumps({"headline": "Border wall vote", "topic": "immigration"}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"headline": 42, "topic": "trade"}),
        "",
        json.dumps({"headline": "WHO warns on flu", "topic": "health"}),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    data = read_labelled(path)
    assert data.labels == ["immigration", "health"]
    assert [(p.row, p.reason) for p in data.problems] == [
        (2, "not valid JSON (Expecting property name enclosed in double quotes)"),
        (3, "not a JSON object"),
        (4, "headline is not text"),
    ]


def test_missing_columns_are_named(tmp_path):
    path = write_csv(tmp_path / "d.csv", [("x", "y")], header=("title", "label"))
    with pytest.raises(DataError, match="missing column\\(s\\) headline; found title, label"):
        read_labelled(path)
    path = write_csv(tmp_path / "e.csv", [("x", "y")], header=("headline", "label"))
    with pytest.raises(
        DataError, match="needs a 'topic' or 'topics' column; found headline, label"
    ):
        read_labelled(path)


def test_a_topics_column_gives_every_topic_primary_first(tmp_path):
    rows = [
        ("Tariffs on Mexico unless border crossings fall", "trade;immigration"),
        ("Measles spreads in a migrant shelter", "health ; immigration"),
        ("Storm hits the coast", "other"),
    ]
    data = read_labelled(write_csv(tmp_path / "d.csv", rows, header=("headline", "topics")))
    assert data.labels == ["trade", "health", "other"]
    assert data.topics == [["trade", "immigration"], ["health", "immigration"], ["other"]]
    assert data.multi_topic


def test_a_plain_topic_column_gives_one_topic_per_row(tmp_path):
    data = read_labelled(write_csv(tmp_path / "d.csv", [("Tariffs rise", "trade")]))
    assert data.topics == [["trade"]]
    assert not data.multi_topic


@pytest.mark.parametrize(
    ("topic", "topics", "reason"),
    [
        ("health", "trade;health", "topic 'health' is not the first of topics 'trade;health'"),
        ("trade", "trade;other", "'other' beside a real topic in topics 'trade;other'"),
        ("", "trade;;health", "empty topic in topics 'trade;;health'"),
        ("", "trade;trade", "a topic is repeated in topics 'trade;trade'"),
        ("", "", "missing topic"),
    ],
)
def test_a_row_whose_topics_contradict_themselves_is_reported(tmp_path, topic, topics, reason):
    rows = [("Tariffs rise", topic, topics), ("Flu season", "health", "health")]
    path = write_csv(tmp_path / "d.csv", rows, header=("headline", "topic", "topics"))
    data = read_labelled(path)
    assert data.labels == ["health"]
    assert [p.reason for p in data.problems] == [reason]


def test_the_shipped_data_has_every_topic_of_every_row():
    data = read_labelled(ROOT / "data" / "headlines.csv")
    assert not data.problems
    assert sum(len(t) > 1 for t in data.topics) > 1300


def test_wrong_encoding_is_explained(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("headline,topic\nCaf\xe9 owners protest tariff,trade\n".encode("latin-1"))
    with pytest.raises(DataError, match="not valid utf-8-sig text.*--encoding"):
        read_labelled(path)
    assert read_labelled(path, encoding="latin-1").texts == ["Café owners protest tariff"]


def test_unknown_encoding_name(tmp_path):
    path = write_csv(tmp_path / "d.csv", [("a", "b")])
    with pytest.raises(DataError, match="unknown encoding"):
        read_labelled(path, encoding="klingon-8")


def test_unsupported_and_missing_files(tmp_path):
    other = tmp_path / "d.xlsx"
    other.write_bytes(b"PK")
    with pytest.raises(DataError, match="unsupported file type .xlsx"):
        read_labelled(other)
    with pytest.raises(DataError, match="no such file"):
        read_labelled(tmp_path / "absent.csv")


def test_file_with_no_usable_rows(tmp_path):
    path = write_csv(tmp_path / "d.csv", [("", "trade")])
    with pytest.raises(DataError, match="no usable rows"):
        read_labelled(path)


def test_extra_fields_are_reported(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("headline,topic\nOne,trade,extra\nTwo,health\n", encoding="utf-8")
    data = read_labelled(path)
    assert data.texts == ["Two"]
    assert data.problems[0].reason == "more fields than the header"


@pytest.mark.parametrize("command", ["train", "evaluate", "cluster"])
def test_a_header_that_repeats_a_column_is_refused_before_any_work(tmp_path, capsys, command):
    """``headline,topic,headline`` once trained on the last column: macro-F1 0.07, exit 0."""
    from classifier.cli import main as cli_main

    path = tmp_path / "dup.csv"
    path.write_text("headline,topic,headline\nTariffs rise,trade,x\nFlu spreads,health,y\n")
    with pytest.raises(DataError, match="repeats column.*headline"):
        read_labelled(path)
    models = tmp_path / "models" if command == "train" else ROOT / "models"  # the shipped one
    code = cli_main([command, str(path), "--models-dir", str(models)])
    assert code == 2
    assert "repeats column(s) headline" in capsys.readouterr().err
    assert not (tmp_path / "models").exists()
