"""Sections (the spectral level): their number comes from the eigengap; repeats, strays and cliques
do not fool it. Themes are cut from the tree between them and the stories (test_cluster_hierarchy)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from classifier.clustering.estimator import HeadlineClusterer
from classifier.clustering.themes import eigengap_k
from tests.clustering.synthetic import random_directions, themed_vectors


@pytest.mark.parametrize("n_themes", [3, 5])
def test_the_number_of_sections_comes_from_the_data(n_themes):
    X, themes, stories = themed_vectors(n_themes, seed=n_themes)
    clusterer = HeadlineClusterer(level="sections").fit(X)
    assert clusterer.n_clusters_ == n_themes
    assert adjusted_rand_score(themes, clusterer.labels_) > 0.95
    story_level = HeadlineClusterer(level="stories").fit(X)
    assert story_level.n_clusters_ == len(set(stories)) == 6 * n_themes  # finer than themes
    assert adjusted_rand_score(stories, story_level.labels_) == 1.0


def test_themes_can_be_forced_to_a_number_but_never_below_the_sections():
    X, themes, _ = themed_vectors(4, seed=1)
    assert HeadlineClusterer(level="themes", n_clusters=7).fit(X).n_clusters_ == 7
    # fewer themes than the 4 sections would put a theme across two sections
    assert HeadlineClusterer(level="themes", n_clusters=2).fit(X).n_clusters_ == 4


def test_tight_repeats_do_not_pass_for_sections():
    # stories of near-verbatim copies (cosine ~0.95): left alone, each would look like a section
    X, themes, _ = themed_vectors(3, seed=1, story_spread=1.3, spread=0.2)
    clusterer = HeadlineClusterer(level="sections").fit(X)
    assert clusterer.n_clusters_ == 3
    assert adjusted_rand_score(themes, clusterer.labels_) > 0.95


@pytest.mark.parametrize("level", ["themes", "sections"])
def test_an_isolated_headline_has_no_theme_or_section(level):
    X, _, _ = themed_vectors(3, seed=2)
    rng = np.random.default_rng(0)
    stray = random_directions(1, X.shape[1], rng)
    labels = HeadlineClusterer(level=level).fit_predict(np.vstack([X, stray]))
    assert labels[-1] == -1 and (labels[:-1] >= 0).all()


def test_duplicate_cliques_join_a_theme_instead_of_breaking_the_spectrum():
    X, themes, _ = themed_vectors(3, stories=20, seed=4)
    copies = np.repeat(X[:1], 20, axis=0)  # 20 identical headlines fill each other's neighbours
    labels = HeadlineClusterer(level="sections").fit_predict(np.vstack([X, copies]))
    assert len(set(labels)) == 3
    assert (labels[len(X) :] == labels[0]).all()


def test_the_eigengap_is_the_largest_drop_after_the_first_value():
    values = np.array([1.0, 0.99, 0.98, 0.5, 0.45, 0.44])
    assert eigengap_k(values, 5) == 3
    assert eigengap_k(np.array([1.0]), 1) == 1
