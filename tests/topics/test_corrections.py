"""Training data plus corrections: a correction replaces the rows of its headline, later sources
win, unusable corrections are reported, and the manifest records what went in."""

from __future__ import annotations

import json

import pytest

from classifier.feedback.store import FeedbackStore
from classifier.topics.corrections import CORRECTIONS_GROUP, Corrections, gather, merge
from classifier.topics.data import LabelledData, read_labelled
from classifier.topics.gate import PromotionGate
from classifier.topics.store import ModelStore
from classifier.topics.training import train_from_file
from tests.support import FakeEmbedder, load_project_data, write_csv


def _data(rows, groups=None):
    texts = [t for t, _ in rows]
    labels = [lab for _, lab in rows]
    return LabelledData(texts, labels, [], len(rows), groups, [[lab] for lab in labels])


def test_a_correction_replaces_every_row_of_its_headline_and_is_added_once():
    data = _data(
        [("Tariffs rise", "other"), ("Measles returns", "health"), ("TARIFFS  rise", "trade")]
    )
    corrections = Corrections()
    corrections.add("tariffs rise", ["trade", "health"], "fix.csv", 1)
    merged, record = merge(data, corrections)
    assert merged.texts == ["Measles returns", "tariffs rise"]
    assert merged.labels == ["health", "trade"]
    assert merged.topics == [["health"], ["trade", "health"]]
    assert record == {"feedback": None, "added": [], "rows": 1, "replaced": 2, "skipped": 0}


def test_the_later_source_wins_and_a_new_topic_is_skipped_with_its_reason():
    data = _data([("a b", "trade"), ("c d", "health")], groups=["x", "y"])
    corrections = Corrections()
    corrections.add("a b", ["health"], "first.csv", 1)
    corrections.add("e f", ["sport"], "first.csv", 2)
    corrections.add("A  B", ["trade", "health"], "second.csv", 1)
    merged, record = merge(data, corrections)
    assert list(zip(merged.texts, merged.topics, strict=True)) == [
        ("c d", ["health"]),
        ("A B", ["trade", "health"]),
    ]
    assert merged.groups == ["y", CORRECTIONS_GROUP]
    assert record["skipped"] == 1 and record["replaced"] == 1
    assert [str(p) for p in merged.problems] == [
        "first.csv: row 2: topic 'sport' is not a topic of the training data"
    ]


def test_gather_reads_add_files_in_order_then_the_store(tmp_path):
    first = write_csv(tmp_path / "first.csv", [("a b", "trade"), ("c d", "health")])
    second = tmp_path / "second.jsonl"
    second.write_text(json.dumps({"headline": "a b", "topics": "health;trade"}) + "\n")
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add("c d", ["other"])
    store.add("C D", ["immigration"])  # the newest correction of "c d" is the one taken
    store.close()
    out = gather(files=[str(first), str(second)], feedback_db=tmp_path / "feedback.sqlite3")
    assert [(text, topics) for text, topics, *_ in out.rows.values()] == [
        ("a b", ["health", "trade"]),
        ("C D", ["immigration"]),
    ]
    assert [a["file"] for a in out.added] == ["first.csv", "second.jsonl"]
    assert out.feedback["count"] == 1 and out.feedback["newest_id"] == 2  # one headline
    assert out.feedback["source"] == "feedback.sqlite3"


def test_gather_refuses_a_missing_store_or_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gather(feedback_db=tmp_path / "none.sqlite3")
    with pytest.raises(Exception, match="nope.csv"):
        gather(files=[str(tmp_path / "nope.csv")])


@pytest.mark.slow
def test_train_from_file_with_corrections_records_them_in_the_manifest(tmp_path):
    rows = load_project_data()[::25]
    base = write_csv(tmp_path / "base.csv", [(r["headline"], r["topic"]) for r in rows])
    target = rows[0]["headline"]
    right = next(t for t in ("trade", "health") if t != rows[0]["topic"])
    fix = write_csv(tmp_path / "fix.csv", [(target.upper(), right), ("A new headline", "trade")])
    store = ModelStore(tmp_path / "models")
    result, problems = train_from_file(
        str(base),
        store,
        FakeEmbedder(),
        corrections=gather(files=[str(fix)]),
        gate=PromotionGate(eval_file=base),
        promote="never",
    )
    manifest = result.manifest
    corrections = manifest["corrections"]
    assert corrections["rows"] == 2 and corrections["replaced"] == 1 and corrections["skipped"] == 0
    assert corrections["added"][0]["file"] == "fix.csv" and corrections["feedback"] is None
    assert manifest["data"]["rows_used"] == len(rows) + 1
    plain = read_labelled(base)
    expected = {**{t: plain.labels.count(t) for t in set(plain.labels)}}
    expected[rows[0]["topic"]] -= 1
    expected[right] += 1
    expected["trade"] += 1
    assert manifest["data"]["counts"] == {k: v for k, v in sorted(expected.items()) if v}
    assert store.read_manifest(result.version)["corrections"] == corrections
