"""Explanations: words by occlusion and the nearest training headlines; with the fake encoder for
the mechanics, and with the shipped model and its real int8 encoder for what they mean."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from classifier.topics.explain import NO_INDEX_NOTE, distinct_words, explain, without
from classifier.topics.store import NEIGHBOURS_FILE, ModelStore
from classifier.topics.training import train_model
from tests.conftest import ROOT, load_project_data

ROWS = load_project_data()[::40]


@pytest.fixture(scope="module")
def fake_model():
    from tests.conftest import FakeEmbedder

    texts = [r["headline"] for r in ROWS]
    topics = [r["topics"].split(";") for r in ROWS]
    model, _ = train_model(texts, [t[0] for t in topics], FakeEmbedder(), topics=topics)
    return model


def test_words_are_whole_and_distinct_ignoring_case():
    found = distinct_words("U.S. and China's H-1B row: the U.S. says 'no' to china")
    assert [word for word, _ in found] == [
        "U.S",
        "and",
        "China's",
        "H-1B",
        "row",
        "the",
        "says",
        "no",
        "to",
        "china",
    ]
    spans = dict(found)["U.S"]
    assert len(spans) == 2
    assert (
        without("U.S. and China's H-1B row: the U.S. says", spans)
        == ". and China's H-1B row: the . says"
    )


def test_only_the_first_words_up_to_the_limit_are_left_out():
    assert [w for w, _ in distinct_words("a b c a d", limit=3)] == ["a", "b", "c"]
    assert dict(distinct_words("a b c a d", limit=3))["a"] == [(0, 1), (6, 7)]


def test_without_leaves_no_double_spaces():
    text = "Senate  passes tariff bill"
    assert without(text, [(8, 14)]) == "Senate tariff bill"
    assert without("Tariffs", [(0, 7)]) == ""


def test_each_word_weight_is_the_drop_of_the_top_topic_without_it(fake_model):
    headline = "Senate passes new tariff bill on Chinese steel"
    (result,) = explain(fake_model, headline)
    proba = fake_model.predict_proba(headline)[0]
    top = int(np.argmax(proba))
    assert result.topic == fake_model.labels[top] == fake_model.predict(headline).topic
    assert result.words, "some word must matter"
    for item in result.words:
        spans = dict(distinct_words(headline))[item.word]
        expected = proba[top] - fake_model.predict_proba(without(headline, spans))[0][top]
        assert item.drop == pytest.approx(expected, abs=1e-4)
        assert item.drop > 0
    drops = [w.drop for w in result.words]
    assert drops == sorted(drops, reverse=True) and len(drops) <= 5


def test_neighbours_come_from_the_index_and_many_headlines_are_explained_in_one_call(fake_model):
    embedder = fake_model.embedder
    calls = embedder.calls
    headlines = [ROWS[0]["headline"], "WHO warns of measles surge in Europe", "Tariffs"]
    results = explain(fake_model, headlines)
    assert embedder.calls == calls + 1  # the headlines and every shortened one in one batch
    assert results[0].neighbours[0].headline == ROWS[0]["headline"]  # itself, trained on
    assert results[0].neighbours[0].similarity == pytest.approx(1.0, abs=1e-3)
    assert all(len(r.neighbours) == 3 and r.note is None for r in results)
    assert [r.topic for r in results] == [p.topic for p in fake_model.predict(headlines)]


def test_a_model_without_an_index_still_gets_words_and_a_note(fake_model):
    index, fake_model.neighbours = fake_model.neighbours, None
    try:
        (result,) = explain(fake_model, "Senate passes new tariff bill")
    finally:
        fake_model.neighbours = index
    assert result.neighbours == [] and result.note == NO_INDEX_NOTE
    assert result.to_dict()["note"].startswith("this model was saved without a neighbour index")


def test_bad_headlines_are_refused_like_everywhere_else(fake_model):
    with pytest.raises(ValueError, match="empty"):
        explain(fake_model, ["fine headline", "   "])


# -- the shipped model, with its real int8 encoder ------------------------------------------------
@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    store = ModelStore(ROOT / "models")
    version = store.current_version()
    if version is None or NEIGHBOURS_FILE not in store.read_manifest(version)["files"]:
        pytest.skip("the shipped model or its neighbour index is not here")
    root = tmp_path_factory.mktemp("shipped") / "models"
    shutil.copytree(store.path_of(version), root / version)
    ModelStore(root).promote(version)
    return ModelStore(root).load()


@pytest.mark.slow
def test_shipped_neighbours_are_the_true_nearest_training_headlines(shipped):
    from classifier.topics.data import read_labelled

    index = shipped.neighbours
    data = read_labelled(ROOT / "data" / "headlines.csv", encoding="utf-8-sig")
    assert sorted(index.headlines) == sorted(data.texts)  # our own data, every row trained on
    # the stored vectors are the encoder's: re-encode a sample of training rows
    rng = np.random.default_rng(0)
    sample = rng.choice(len(index), 40, replace=False)
    fresh = shipped.embedder.encode([index.headlines[i] for i in sample])
    cosine = np.sum(fresh * index.vectors[sample], axis=1)
    assert cosine.min() > 0.999
    # and the answers are the brute-force top 3 over them, for new headlines
    queries = [
        "Senate votes to raise tariffs on imported steel",
        "WHO warns of measles surge in Europe",
        "Border agents detain hundreds of migrants in Texas",
        "Local team wins the championship",
    ]
    vectors = shipped.embedder.encode(queries)
    for query, vector, found in zip(queries, vectors, index.nearest(vectors), strict=True):
        brute = index.vectors @ (vector / np.linalg.norm(vector))
        best = np.argsort(-brute, kind="stable")[:3]
        assert [n.headline for n in found] == [index.headlines[i] for i in best], query
        assert [n.similarity for n in found] == pytest.approx(brute[best], abs=1e-4)
        assert [n.topics for n in found] == [index.topics[i] for i in best]
    assert found[0].similarity < 0.99  # made-up headlines, not training rows


@pytest.mark.slow
@pytest.mark.parametrize(
    "headline, topic, word, least",
    [
        ("Senate votes to raise tariffs on imported steel", "trade", "tariffs", 0.2),
        ("WHO warns of measles surge in Europe", "health", "measles", 0.2),
        # "border" says immigration too, so leaving "Asylum" out costs less: words that back
        # each other up share the credit (docs/explain.md)
        (
            "Asylum seekers wait at the border as new rules take effect",
            "immigration",
            "Asylum",
            0.05,
        ),
    ],
)
def test_shipped_words_include_the_decisive_one(shipped, headline, topic, word, least):
    (result,) = explain(shipped, headline)
    assert result.topic == topic == shipped.predict(headline).topic
    assert result.words[0].word == word, result.words
    assert result.words[0].drop > least
    assert {n.topics[0] for n in result.neighbours} == {topic}
