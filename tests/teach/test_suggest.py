"""``suggest``: uncertain headlines, spread over clusters, near duplicates collapsed, streamed."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from classifier.config import MAX_SUGGESTIONS
from classifier.teach.suggest import (
    check_n,
    collapse_duplicates,
    pick_diverse,
    suggest,
    suggest_file,
    uncertainty,
)
from tests.support import DATA, load_project_data, save_model


@pytest.fixture
def fake_model(tmp_path, fake_embedder):
    from classifier.topics.store import ModelStore

    rows = load_project_data()[::25]
    store = ModelStore(tmp_path / "models")
    save_model(store, [r["headline"] for r in rows], [r["topic"] for r in rows], fake_embedder)
    return store.load(embedder=fake_embedder)


def test_n_must_be_a_whole_number_in_range():
    assert check_n(1) == 1
    for bad in (0, -3, MAX_SUGGESTIONS + 1, 2.5, True):
        with pytest.raises(ValueError, match="n must be a whole number"):
            check_n(bad)


def test_uncertainty_is_highest_for_a_coin_toss_between_two_topics(fake_model):
    k = len(fake_model.labels)
    sure = np.full(k, 0.01)
    sure[0] = 1 - 0.01 * (k - 1)
    torn = np.full(k, 0.02)
    torn[:2] = (1 - 0.02 * (k - 2)) / 2
    applies = np.asarray(fake_model.applies.thresholds_)
    far = np.where(applies > 0.5, 0.0, 1.0)  # as far from every bar as a probability can be
    scores = np.vstack([np.concatenate([sure, far]), np.concatenate([torn, applies])])
    value, reasons = uncertainty(fake_model, scores)
    assert value[1] > 0.8 and value[0] < 0.1
    assert reasons[0].startswith("close call")  # the strongest of three weak signals
    assert "applies" in reasons[1] or reasons[1].startswith("close call")


def test_near_duplicates_collapse_into_the_most_uncertain_of_them():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(3, 16))
    vectors = np.vstack([base, base[0] + 0.01 * rng.normal(size=16)])  # row 3 ~ row 0
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    kept, stood_for = collapse_duplicates(vectors.astype(np.float32), [3, 1, 0, 2])
    assert kept == [3, 1, 2]  # row 0 is row 3's near duplicate, and row 3 came first
    assert stood_for[3] == 2 and stood_for[1] == 1


def test_one_pick_per_cluster_each_its_clusters_most_uncertain():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(4, 8)) * 10
    vectors = np.vstack([c + rng.normal(size=(25, 8)) for c in centres])
    weight = rng.uniform(size=100)
    chosen, groups = pick_diverse(vectors, weight, 4)
    assert sorted(i // 25 for i in chosen) == [0, 1, 2, 3]  # one from each blob
    for i in chosen:
        blob = slice(25 * (i // 25), 25 * (i // 25 + 1))
        assert weight[i] == weight[blob].max()
    assert len(set(groups)) == 4


def test_fewer_headlines_than_asked_gives_all_of_them_once(fake_model):
    texts = ["Senate passes farm bill", "senate  passes farm bill", "   ", "WHO warns of measles"]
    result = suggest(fake_model, texts, n=10)
    assert sorted(s.headline for s in result.suggestions) == [
        "Senate passes farm bill",
        "WHO warns of measles",
    ]
    assert result.rows_read == 4 and result.skipped == {"empty": 1}
    assert [s.row for s in result.suggestions if s.headline.startswith("Senate")] == [1]


def test_an_unreadable_row_is_counted_not_dropped(tmp_path, fake_model):
    path = tmp_path / "in.csv"
    path.write_text("headline,source\nTariffs rise,wire\nbroken,row,extra\nMeasles spreads,wire\n")
    result = suggest_file(fake_model, path, n=5)
    assert result.rows_read == 3
    assert result.skipped == {"unreadable row": 1}
    assert len(result.suggestions) == 2


@pytest.mark.slow
def test_suggestions_on_our_headlines_are_uncertain_diverse_and_distinct(tmp_path, shipped):
    """The real encoder and the shipped model on 1,500 of data/headlines.csv (a JSONL file: any
    format tag reads); the picks are more uncertain than the file, no two near-identical, and
    each from its own k-means group."""
    rows = load_project_data()[::6][:1500]
    path = tmp_path / "archive.jsonl"
    import json

    path.write_text("".join(json.dumps({"headline": r["headline"]}) + "\n" for r in rows))
    result = suggest_file(shipped, path, n=40)
    picks = result.suggestions
    assert len(picks) == 40 and result.rows_read == 1500
    everything = [r["headline"] for r in rows]
    value, _ = uncertainty(shipped, shipped.scores(everything))
    assert np.mean([s.uncertainty for s in picks]) > np.quantile(value, 0.75)
    assert len({s.cluster for s in picks}) == 40
    vectors = shipped.embedder.encode([s.headline for s in picks])
    sims = vectors @ vectors.T - 2 * np.eye(40)
    assert sims.max() < 0.9
    assert len({s.prediction.topics[0] for s in picks}) >= 3  # spread, not one corner
    for s in picks:
        assert s.headline == everything[s.row - 1]
        assert s.reason


@pytest.mark.slow
def test_the_written_file_is_a_train_file(tmp_path, shipped):
    from classifier.cli.suggest import suggestions_csv
    from classifier.topics.data import read_labelled

    texts = [r["headline"] for r in load_project_data()[1::40]]
    result = suggest(shipped, texts, n=25)
    out = tmp_path / "to_label.csv"
    out.write_text(suggestions_csv(result), encoding="utf-8")
    data = read_labelled(out)
    assert data.problems == [] and len(data.texts) == 25
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row, s in zip(rows, result.suggestions, strict=True):
        assert row["topics"].split(";") == s.prediction.topics
        assert float(row["confidence"]) == s.prediction.confidence
    assert DATA.name == "headlines.csv"
