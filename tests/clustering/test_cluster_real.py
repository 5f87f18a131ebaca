"""Clustering with the real embedding model (slow): paraphrases, subjects, the whole command."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from classifier import cli
from classifier.clustering.estimator import HeadlineClusterer
from classifier.topics.store import ModelStore
from tests.conftest import ROOT, load_project_data

PARAPHRASES = [
    ("Judge blocks end of TPS for Haitians", "Court halts bid to end Haitian protected status"),
    ("Fed raises interest rates by a quarter point", "Federal Reserve lifts rates 0.25%"),
    ("Earthquake kills hundreds in Turkey", "Turkey quake death toll rises to 500"),
]
UNRELATED = [
    "Yankees sign veteran pitcher to one-year deal",
    "New exhibit of Dutch masters opens at museum",
    "Apple unveils thinner laptop with longer battery life",
    "Heat wave grips southern Europe",
]
SUBJECTS = ("health_features", "trade_features", "immigration_features")


@pytest.mark.slow
def test_real_paraphrases_share_a_story_and_unrelated_headlines_do_not(real_embedder):
    texts = [t for pair in PARAPHRASES for t in pair] + UNRELATED
    clusterer = HeadlineClusterer(level="stories").fit(real_embedder.encode(texts), texts=texts)
    labels = clusterer.labels_
    for i in range(len(PARAPHRASES)):
        assert labels[2 * i] >= 0 and labels[2 * i] == labels[2 * i + 1], texts[2 * i]
    assert len({labels[2 * i] for i in range(len(PARAPHRASES))}) == len(PARAPHRASES)
    assert (labels[len(PARAPHRASES) * 2 :] == -1).all()
    tps = clusterer.clusters_[labels[0]]
    assert {"haitian", "haitians"} & set(" ".join(tps.keywords).split())


@pytest.mark.slow
def test_real_sections_follow_the_subjects_of_our_headlines(real_embedder):
    rows = load_project_data()
    chosen = []
    for subject in SUBJECTS:
        chosen += [r for r in rows if r["set"] == subject][:60]
    texts = [r["headline"] for r in chosen]
    truth = [r["set"] for r in chosen]
    clusterer = HeadlineClusterer(level="sections").fit(real_embedder.encode(texts), texts=texts)
    assert clusterer.n_clusters_ == len(SUBJECTS)  # one section per subject
    assert normalized_mutual_info_score(truth, clusterer.labels_) > 0.6  # 0.70 measured


@pytest.mark.slow
def test_real_cli_end_to_end_with_the_shipped_model(tmp_path, capsys):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models, ignore=shutil.ignore_patterns("encoders"))
    texts = [t for pair in PARAPHRASES for t in pair] + UNRELATED
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    code = cli.main(["cluster", str(source), "--models-dir", str(models), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["model"] == ModelStore(models).current_version()
    assert result["n_clusters"] == 3
    shares = {c["top_topic"] for c in result["clusters"]}
    assert "immigration" in shares


@pytest.mark.slow
def test_real_themes_of_our_whole_data_set_are_a_few_dozen_nested_and_named(int8):
    """Issue 16: the default level gives 10-50 themes on 5,000+ real headlines (the eigengap
    alone gave 3), each story inside one theme, each theme inside one section."""
    texts = [r["headline"] for r in load_project_data()]
    assert len(texts) >= 5000
    clusterer = HeadlineClusterer(level="themes").fit(int8.encode(texts), texts=texts)
    assert 10 <= clusterer.n_clusters_ <= 50
    low, high = clusterer.theme_range_
    assert low <= clusterer.n_clusters_ <= high
    h = clusterer.hierarchy_
    assert 2 <= int(h["sections"].max()) + 1 < clusterer.n_clusters_ < int(h["stories"].max()) + 1
    for child, parent in (("stories", "themes"), ("themes", "sections")):
        for cluster in np.unique(h[child][h[child] >= 0]):
            assert len(set(h[parent][h[child] == cluster].tolist())) == 1, (child, cluster)
    assert (clusterer.labels_ >= 0).mean() > 0.9
    for theme in clusterer.clusters_:
        assert len(theme.keywords) >= 3 and len(theme.representatives) == 3
        assert theme.parent is not None and theme.parent >= 0
