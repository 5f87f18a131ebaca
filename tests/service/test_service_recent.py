"""Recent headlines: a headline seen lately, or twice in a batch, is not encoded again."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.service.batcher import MicroBatcher
from classifier.service.recent import RecentEmbeddings
from classifier.service.settings import Settings
from classifier.topics.store import ModelStore
from tests.conftest import FakeEmbedder
from tests.service.support import SAMPLE, make_app, post, scrape, svc


class CountingEncoder:
    """The fake encoder, recording every batch it is asked to encode."""

    def __init__(self) -> None:
        self.inner = FakeEmbedder()
        self.batches: list[list[str]] = []

    def __call__(self, texts):
        self.batches.append(list(texts))
        return self.inner.encode(list(texts))


def test_a_headline_repeated_in_a_batch_is_encoded_once():
    encoder, recent = CountingEncoder(), RecentEmbeddings(8, "fp")
    texts = ["Tariffs rise", "Measles spreads", "tariffs   RISE", "Tariffs rise"]
    vectors, hits, encoded = recent.encode(encoder, texts)
    assert encoder.batches == [["Tariffs rise", "Measles spreads"]]
    assert (hits, encoded) == (2, 2)
    assert np.array_equal(
        vectors, encoder.inner.encode(["tariffs rise", "measles spreads"] * 2)[[0, 1, 0, 0]]
    )


def test_a_recent_headline_is_not_encoded_again_and_the_oldest_goes_first():
    encoder, recent = CountingEncoder(), RecentEmbeddings(2, "fp")
    first, _, _ = recent.encode(encoder, ["a headline"])
    recent.encode(encoder, ["b headline"])
    again, hits, encoded = recent.encode(encoder, ["A  headline"])
    assert (hits, encoded) == (1, 0) and len(encoder.batches) == 2  # no encoder call at all
    assert np.array_equal(again, first)
    recent.encode(encoder, ["c headline"])  # over the size: "b" was used least recently
    assert len(recent) == 2
    recent.encode(encoder, ["b headline", "a headline"])
    assert encoder.batches[-1] == ["b headline"]
    assert (recent.hits, recent.misses) == (2, 4)


def test_size_zero_turns_it_off_and_the_encoder_is_part_of_the_key():
    encoder, off = CountingEncoder(), RecentEmbeddings(0, "fp")
    off.encode(encoder, ["same", "same"])
    off.encode(encoder, ["same"])
    assert encoder.batches == [["same", "same"], ["same"]] and len(off) == 0
    assert RecentEmbeddings(4, "one").key("x") != RecentEmbeddings(4, "two").key("x")
    with pytest.raises(ValueError, match="negative"):
        RecentEmbeddings(-1, "fp")


def test_kept_vectors_are_copies_the_caller_cannot_change():
    encoder, recent = CountingEncoder(), RecentEmbeddings(4, "fp")
    vectors, _, _ = recent.encode(encoder, ["x one", "x two"])
    vectors[:] = 0
    again, hits, _ = recent.encode(encoder, ["x one"])
    assert hits == 1 and np.any(again != 0)


def test_the_batcher_encodes_only_what_it_does_not_hold():
    encoder = CountingEncoder()
    batcher = MicroBatcher(encoder, recent=RecentEmbeddings(16, "fp"))
    try:
        one = batcher.encode(["Senate passes trade bill", "Flu season peaks"])
        two = batcher.encode(["senate passes trade bill"])
    finally:
        batcher.close()
    assert encoder.batches == [["Senate passes trade bill", "Flu season peaks"]]
    assert np.array_equal(two[0], one[0])


def test_repeated_requests_get_the_same_answer_and_are_counted(models_dir):
    encoder = CountingEncoder()
    fake = FakeEmbedder()
    fake.encode = lambda texts, batch_size=None: encoder(list(texts))
    app = make_app(models_dir, embedder=fake)
    client = app.test_client()
    try:
        headline = SAMPLE[0]
        first = post(client, {"headline": headline}).get_json()
        second = post(client, {"headline": headline.upper()}).get_json()
        both = post(client, {"headlines": [headline, SAMPLE[1]]}).get_json()
    finally:
        svc(app).batcher.close()
    reference = ModelStore(models_dir).load("v1", embedder=FakeEmbedder())
    assert first == reference.predict(headline).to_dict()
    assert both["predictions"][0] == {k: v for k, v in first.items() if k != "model"}
    # the warm-up headline, then the first request's, then SAMPLE[1]: nothing else encoded
    assert [len(b) for b in encoder.batches[1:]] == [1, 1]
    metrics = scrape(client)
    assert metrics[("headline_topics_recent_headlines_total", (("result", "hit"),))] == 2
    assert metrics[("headline_topics_recent_headlines_total", (("result", "miss"),))] == 2
    assert second["topic"] == first["topic"]


def test_the_size_is_a_setting():
    assert Settings.from_env({}).recent_headlines == 1024
    assert Settings.from_env({"HEADLINE_TOPICS_RECENT_HEADLINES": "0"}).recent_headlines == 0
    with pytest.raises(ValueError, match="HEADLINE_TOPICS_RECENT_HEADLINES must be at least 0"):
        Settings.from_env({"HEADLINE_TOPICS_RECENT_HEADLINES": "-5"})
