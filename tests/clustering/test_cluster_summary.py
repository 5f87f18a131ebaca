"""Describing clusters: summaries, the JSON answer of ``cluster_headlines``, and the map."""

from __future__ import annotations

import json

import numpy as np
import pytest

from classifier.clustering.cluster import cluster_headlines
from classifier.clustering.estimator import HeadlineClusterer
from tests.clustering.synthetic import STORY_TEMPLATES, story_headlines, themed_vectors, unit
from tests.conftest import FakeEmbedder

# what the fake embedder makes of story_headlines(): the three worded stories, the odd ones out
STORY_LABELS = [0] * 5 + [1] * 4 + [2] * 3 + [-1] * 4


def test_summaries_have_representatives_and_topic_shares():
    texts, truth = story_headlines()
    X = FakeEmbedder().encode(texts)
    topics = ["trade" if t == "tariffs" else "health" if t == "measles" else "other" for t in truth]
    clusterer = HeadlineClusterer(level="stories").fit(X, texts=texts, topics=topics)
    tariff_id = clusterer.labels_[0]
    summary = clusterer.clusters_[tariff_id]
    assert summary.id == tariff_id and summary.size == int((clusterer.labels_ == tariff_id).sum())
    assert len(summary.representatives) == min(3, summary.size)
    assert set(summary.representatives) <= set(STORY_TEMPLATES["tariffs"])
    assert summary.top_topic == "trade" and summary.topic_shares["trade"] == 1.0
    assert abs(sum(summary.topic_shares.values()) - 1) < 1e-6
    # the most central headline comes first: highest cosine to the cluster mean
    rows = np.nonzero(clusterer.labels_ == tariff_id)[0]
    member = unit(X[rows])
    centrality = member @ member.mean(axis=0)
    assert summary.representatives[0] == texts[rows[int(np.argmax(centrality))]]


def test_cluster_headlines_answers_json_ready(fake_model):
    texts, _ = story_headlines()
    result = cluster_headlines(texts, fake_model, level="stories")
    assert json.loads(json.dumps(result)) == result
    assert result["level"] == "stories" and result["model"] == fake_model.version
    assert result["n_headlines"] == len(texts) == len(result["labels"])
    assert result["labels"] == STORY_LABELS
    assert result["n_unclustered"] == result["labels"].count(-1) == 4
    assert result["n_clusters"] == len(result["clusters"]) == 3
    assert result["sampled"] is False and result["params"]["level"] == "stories"
    for cluster in result["clusters"]:
        assert set(cluster) == {
            "id",
            "size",
            "keywords",
            "representative_headlines",
            "top_topic",
            "topic_shares",
        }
        assert list(cluster["topic_shares"])[0] == cluster["top_topic"]
        assert set(cluster["topic_shares"]) == set(fake_model.labels)  # always every topic
        assert abs(sum(cluster["topic_shares"].values()) - 1) < 1e-3
    # precomputed embeddings give the same answer without touching the encoder
    embeddings = fake_model.embedder.encode(texts)
    calls = fake_model.embedder.calls
    again = cluster_headlines(texts, fake_model, level="stories", embeddings=embeddings)
    assert again == result and fake_model.embedder.calls == calls


@pytest.mark.parametrize(
    "texts, kwargs, message",
    [
        ("one headline", {}, "a single string"),
        ([], {}, "no headlines"),
        (["fine", ""], {}, "headline 1 is empty"),
        (["a", "b"], {"embeddings": np.ones((3, 4))}, "3 embeddings for 2 headlines"),
        (["a", "b"], {"level": "topics"}, "level must be one of"),
    ],
)
def test_cluster_headlines_refuses_bad_input(fake_model, texts, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cluster_headlines(texts, fake_model, **kwargs)


def test_cluster_headlines_without_a_model_has_no_topics(fake_embedder):
    texts, _ = story_headlines()
    result = cluster_headlines(texts, embedder=fake_embedder, level="stories")
    assert result["model"] is None and result["labels"] == STORY_LABELS
    assert all("topic_shares" not in c for c in result["clusters"])
    assert [c["keywords"] for c in result["clusters"]] == [
        ["chinese", "imports", "raises", "steel", "tariffs"],
        ["county schools", "measles outbreak", "outbreak spreads"],
        ["close", "election", "mayoral"],
    ]
    with pytest.raises(ValueError, match="needs a model, an embedder or embeddings"):
        cluster_headlines(texts)


def test_plot_writes_a_png(tmp_path):
    from classifier.clustering.plot import plot_clusters

    X, _, _ = themed_vectors(3, stories=3, per_story=6, seed=3)
    clusterer = HeadlineClusterer(level="themes").fit(X, texts=[f"h{i}" for i in range(len(X))])
    path = plot_clusters(X, clusterer.labels_, clusterer.clusters_, tmp_path / "map.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]  # no temporary file left
    with pytest.raises(ValueError, match="54 embeddings but 3 labels"):
        plot_clusters(X, [0, 1, 2], clusterer.clusters_, tmp_path / "x.png")
