"""TopicModel answers in kind: one string is one headline."""

from __future__ import annotations

import pytest

from classifier.errors import InputError
from classifier.topics.store import ModelStore
from tests.conftest import load_project_data, save_model


@pytest.fixture(scope="module")
def fake_model(tmp_path_factory):
    from tests.conftest import FakeEmbedder

    rows = load_project_data()[::20]
    store = ModelStore(tmp_path_factory.mktemp("models"))
    embedder = FakeEmbedder()
    save_model(store, [r["headline"] for r in rows], [r["topic"] for r in rows], embedder)
    return store.load(embedder=embedder)


def test_one_string_gives_one_row_of_probabilities(fake_model):
    one = fake_model.predict_proba("Tariffs")
    assert one.shape == (1, len(fake_model.labels))
    assert one.tolist() == fake_model.predict_proba(["Tariffs"]).tolist()
    assert fake_model.predict("Tariffs").topic == fake_model.predict(["Tariffs"])[0].topic


def test_blank_and_non_text_headlines_are_refused_by_position(fake_model):
    with pytest.raises(InputError, match="headline 1 is empty"):
        fake_model.predict_proba(["Tariffs", "   "])
    with pytest.raises(InputError, match="headline 0 is int, not text"):
        fake_model.predict_proba([3])


@pytest.fixture(scope="module")
def multi_model(tmp_path_factory):
    """A model trained with every topic of each row (one row in six of the data has two)."""
    from classifier.topics.training import train_model
    from tests.conftest import FakeEmbedder

    rows = load_project_data()[::6]
    topics = [r["topics"].split(";") for r in rows]
    store = ModelStore(tmp_path_factory.mktemp("models"))
    embedder = FakeEmbedder()
    model, manifest = train_model(
        [r["headline"] for r in rows],
        [t[0] for t in topics],
        embedder,
        topics=topics,
        head_params={"calibration_folds": 3},
    )
    store.save(model, manifest, promote=True)
    return store, embedder, manifest


def test_every_answer_says_which_topics_apply_and_whether_it_is_sure(multi_model):
    store, embedder, _ = multi_model
    model = store.load(embedder=embedder)
    answer = model.predict("Tariffs on steel imports and border crossings")
    assert set(answer.applies) == set(model.labels)
    assert all(0.0 <= p <= 1.0 for p in answer.applies.values())
    assert answer.topics[0] in model.labels
    assert "other" not in answer.topics or answer.topics == ["other"]
    assert answer.uncertain == (answer.confidence < 0.5)
    assert model.predict("Tariffs", uncertain_below=1.01).uncertain
    assert not model.predict("Tariffs", uncertain_below=0.0).uncertain
    d = answer.to_dict()
    assert {"topic", "confidence", "scores", "topics", "applies", "uncertain"} <= set(d)


def test_the_per_topic_head_survives_a_save_and_the_manifest_records_it(multi_model):
    store, embedder, manifest = multi_model
    model = store.load(embedder=embedder)
    texts = [r["headline"] for r in load_project_data()[1::97]]
    before = model.applies.predict_proba(model.features(texts))
    assert model.predict_applies(texts).tolist() == before.tolist()
    assert set(manifest["applies_thresholds"]) == set(model.labels)
    assert manifest["metrics"]["multi_topic"]["example_f1"] > 0
    assert manifest["data"]["topic_counts"]["trade"] > manifest["data"]["counts"]["trade"]


def test_a_model_saved_before_the_per_topic_head_still_answers(tmp_path, multi_model):
    """Older model folders have no applies arrays: topics come from the softmax thresholds."""
    import numpy as np

    store, embedder, _ = multi_model
    version = store.resolve(None)
    arrays = dict(np.load(store.path_of(version) / "head.npz"))
    old = {k: v for k, v in arrays.items() if not k.startswith("applies_")}
    np.savez(store.path_of(version) / "head.npz", **old)
    _rehash(store.path_of(version))
    model = store.load(embedder=embedder)
    assert model.applies is None
    answer = model.predict("Tariffs on steel")
    assert answer.applies is None and "applies" not in answer.to_dict()
    assert answer.topics[0] == answer.topic
    np.savez(store.path_of(version) / "head.npz", **arrays)
    _rehash(store.path_of(version))


def _rehash(folder):
    """Record a changed head.npz in the manifest, as a model written that way would have it."""
    import hashlib
    import json

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["head.npz"] = hashlib.sha256((folder / "head.npz").read_bytes()).hexdigest()
    text = json.dumps(manifest, indent=2, sort_keys=True)
    (folder / "manifest.json").write_text(text)
    (folder / "manifest.sha256").write_text(hashlib.sha256(text.encode()).hexdigest() + "\n")


def test_scores_are_the_heads_probabilities_and_the_same_whatever_the_batch(multi_model):
    """scores() computes both heads' products at once, without scikit-learn's checks: it must
    still be what the heads give on the stacked features, and row by row the same in any batch."""
    import numpy as np

    store, embedder, _ = multi_model
    model = store.load(embedder=embedder)
    texts = [r["headline"] for r in load_project_data()[1::7]]
    vectors = embedder.encode(texts)
    scores = model.scores(texts, embeddings=vectors)
    features = model.features(texts, vectors)
    expected = np.hstack(
        [model.head.predict_proba(features), model.applies.predict_proba(features)]
    )
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12)
    one_by_one = np.vstack(
        [model.scores([t], embeddings=vectors[i : i + 1]) for i, t in enumerate(texts[:40])]
    )
    assert np.array_equal(one_by_one, scores[:40])
    assert np.array_equal(model.scores(texts[5:37], embeddings=vectors[5:37]), scores[5:37])
