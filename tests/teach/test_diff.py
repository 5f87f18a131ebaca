"""``diff``: the headlines two versions answer differently, both answers, the flows."""

from __future__ import annotations

import pytest

from classifier.teach.diff import diff_file, diff_rows
from tests.support import ROOT, load_project_data, save_model

UNLABELLED = ROOT / "data" / "multi-topic" / "dev" / "multi_dev_unlabelled.csv"
OLDER = "v20261201-202857-44f64b54"  # the first onnx-int8 model, 6,430 rows of data/


def test_a_model_against_itself_changes_nothing(tmp_path, fake_embedder):
    from classifier.topics.store import ModelStore

    rows = load_project_data()[::30]
    store = ModelStore(tmp_path / "models")
    save_model(store, [r["headline"] for r in rows], [r["topic"] for r in rows], fake_embedder)
    model = store.load(embedder=fake_embedder)
    result = diff_rows(model, model, enumerate([r["headline"] for r in rows[:50]], start=1))
    assert result.compared == 50 and result.changes == [] and not result.flows
    summary = result.summary()
    assert summary["changed"] == 0 and summary["mean_confidence_shift"] == 0
    assert all(v["old"] == v["new"] for v in summary["listed"].values())


def test_two_models_on_other_data_differ_and_the_summary_adds_up(tmp_path, fake_embedder):
    from classifier.topics.store import ModelStore

    rows = load_project_data()
    store = ModelStore(tmp_path / "models")
    for version, part in (("v1", rows[::40]), ("v2", rows[7::13])):
        texts, labels = [r["headline"] for r in part], [r["topic"] for r in part]
        save_model(store, texts, labels, fake_embedder, version=version)
    old, new = (store.load(v, embedder=fake_embedder) for v in ("v1", "v2"))
    texts = [r["headline"] for r in rows[3::50]]
    result = diff_rows(old, new, enumerate(texts, start=1))
    assert result.changes
    before, after = old.predict(texts), new.predict(texts)
    expected = [
        i + 1
        for i, (a, b) in enumerate(zip(before, after, strict=True))
        if (a.topic, a.topics) != (b.topic, b.topics)
    ]
    assert [c.row for c in result.changes] == expected
    assert sum(result.flows.values()) == result.topic_changed
    assert result.topic_changed == sum(c.old.topic != c.new.topic for c in result.changes)
    first = result.changes[0].to_dict()
    assert set(first["old"]) == {"topic", "topics", "confidence"}


@pytest.mark.slow
def test_diff_of_two_shipped_versions_on_real_headlines(shipped_models, int8):
    """The two int8 versions in models/ (6,430 rows, then 9,987 rows with topic lists) on the
    340 unlabelled development headlines: every change is a real difference of their answers."""
    current = shipped_models.current_version()
    old = shipped_models.load(OLDER, embedder=int8)
    new = shipped_models.load(current, embedder=int8)
    result = diff_file(old, new, UNLABELLED)
    s = result.summary()
    assert (s["old"], s["new"]) == (OLDER, current)
    assert s["rows_read"] == 340 and s["headlines_compared"] == 340
    assert 0 < s["changed"] < 340
    by_row = {c.row: c for c in result.changes}
    import csv

    with open(UNLABELLED, newline="", encoding="utf-8") as handle:
        texts = [r["headline"] for r in csv.DictReader(handle)]
    for row in (1, 2, 100, 340):
        a, b = old.predict(texts[row - 1]), new.predict(texts[row - 1])
        changed = (a.topic, a.topics) != (b.topic, b.topics)
        assert (row in by_row) == changed
        if changed:
            assert by_row[row].old.topics == a.topics and by_row[row].new.topics == b.topics
    # the newer model was trained on multi-topic rows: it lists more second topics
    listed = s["listed"]
    assert sum(v["new"] for v in listed.values()) > sum(v["old"] for v in listed.values())
    assert sum(f["headlines"] for f in s["flows"]) == s["topic_changed"]
