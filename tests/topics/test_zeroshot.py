"""Zero-shot topics: a description and seed phrases, a bar set on the training headlines, marked
as zero-shot in the manifest and in every answer, and replaced by real examples."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from classifier.topics.zeroshot import FALSE_RATE, TopicDescription, ZeroShotTopics
from tests.support import ROOT, load_project_data

NEW = ROOT / "tests" / "data" / "new-topic"
_SPEC = json.loads((NEW / "climate_topic.json").read_text(encoding="utf-8"))
CLIMATE = TopicDescription(_SPEC["name"], _SPEC["description"], tuple(_SPEC["seeds"]))


def read(name: str) -> list[dict[str, str]]:
    with open(NEW / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        (TopicDescription("", "x"), "name must be a word"),
        (TopicDescription("a;b", "x"), "name must be a word"),
        (TopicDescription(" climate", "x"), "name must be a word"),
        (TopicDescription("other", "x"), "means none of the topics"),
        (TopicDescription("climate", "  "), "needs a description"),
        (TopicDescription("climate", "ok", ("fine", "")), "empty or only whitespace"),
    ],
)
def test_a_bad_description_is_refused_with_why(topic, message):
    with pytest.raises(ValueError, match=message):
        topic.checked()


def test_the_bar_lets_one_training_headline_in_a_hundred_through(fake_embedder):
    texts = [r["headline"] for r in load_project_data()[::5]]
    background = fake_embedder.encode(texts)
    zero = ZeroShotTopics.fit([CLIMATE], fake_embedder, background)
    p = zero.predict_proba(background)[:, 0]
    assert abs(np.mean(p >= 0.5) - FALSE_RATE) < 0.005
    assert np.median(p) < 0.1  # the scale puts the typical headline far under the bar
    restored = ZeroShotTopics.from_state(zero.manifest_entry(), zero.state())
    assert np.allclose(restored.predict_proba(background), zero.predict_proba(background))


def test_a_zero_shot_model_marks_every_answer_and_lists_the_topic(tmp_path, fake_embedder):
    from classifier.topics.store import ModelStore
    from classifier.topics.training import train_model

    rows = load_project_data()[::20]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    model, manifest = train_model(texts, labels, fake_embedder, zero_shot=[CLIMATE])
    entry = manifest["zero_shot"]["climate"]
    assert entry["examples"] == 0 and entry["note"].startswith("zero-shot")
    assert "climate" not in manifest["labels"]
    store = ModelStore(tmp_path / "models")
    store.save(model, {**manifest, "version": "v1"}, promote=True)
    loaded = store.load(embedder=fake_embedder)
    # a headline made of the seed phrases' words is as close to them as a headline can be
    probe = ["global warming carbon emissions net zero", "Senate passes the farm bill"]
    answers = loaded.predict(probe)
    assert [a.extra["zero_shot"] for a in answers] == [["climate"], ["climate"]]
    assert "climate" in answers[0].topics and answers[0].applies["climate"] >= 0.5
    assert "climate" not in answers[1].topics
    assert answers[0].to_dict()["zero_shot"] == ["climate"]
    assert np.allclose(loaded.scores(probe), model.scores(probe))
    # the vectors are a file of the version: changing it is noticed like any other file
    (tmp_path / "models" / "v1" / "zeroshot.npz").write_bytes(b"changed")
    with pytest.raises(Exception, match="changed after it was written"):
        store.load(embedder=fake_embedder)


def test_examples_replace_the_description(fake_embedder, caplog):
    from classifier.topics.training import train_model

    rows = load_project_data()[::20]
    climate = read("climate_train.csv")
    texts = [r["headline"] for r in rows + climate]
    labels = [r["topic"] for r in rows + climate]
    model, manifest = train_model(texts, labels, fake_embedder, zero_shot=[CLIMATE])
    assert "climate" in model.labels and model.zero_shot is None
    assert "zero_shot" not in manifest
    assert "has labelled examples" in caplog.text


@pytest.mark.slow
def test_zero_shot_start_finds_climate_headlines_it_never_saw(real_embedder):
    """On the real encoder: trained on 200 of our headlines plus a description, the zero-shot
    topic is listed for most of the 100 held-out climate headlines and few of our 340
    development headlines (none of which is about climate)."""
    from classifier.topics.training import train_model

    rows = load_project_data()[::50]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    model, _ = train_model(texts, labels, real_embedder, zero_shot=[CLIMATE])
    held_out = [r["headline"] for r in read("climate_heldout.csv")]
    with open(ROOT / "data/multi-topic/dev/multi_dev.csv", newline="", encoding="utf-8") as f:
        others = [r["headline"] for r in csv.DictReader(f)]
    found = np.mean(["climate" in a.topics for a in model.predict(held_out)])
    false = np.mean(["climate" in a.topics for a in model.predict(others)])
    assert found >= 0.6, found
    assert false <= 0.05, false
