"""Stories: near-duplicates group, the threshold and min size decide, ids are ranked."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from classifier.clustering.estimator import HeadlineClusterer
from classifier.clustering.geometry import nearest_neighbours, threshold_components
from classifier.clustering.stories import story_labels
from tests.clustering.synthetic import jitter, random_directions, themed_vectors


def test_near_duplicates_form_one_story_and_unrelated_ones_stay_apart():
    rng = np.random.default_rng(3)
    groups = [jitter(c, 3, 0.3, rng) for c in random_directions(4, 64, rng)]
    loners = random_directions(6, 64, rng)
    X = np.vstack(groups + [loners])
    labels = HeadlineClusterer(level="stories").fit_predict(X)
    for g in range(4):
        members = labels[g * 3 : g * 3 + 3]
        assert members[0] >= 0 and (members == members[0]).all()
    assert len(set(labels[:12])) == 4
    assert (labels[12:] == -1).all()


def test_a_tighter_threshold_splits_looser_stories():
    rng = np.random.default_rng(5)
    X = jitter(random_directions(1, 64, rng)[0], 10, 1.0, rng)  # pairwise cosine ~0.5
    loose = HeadlineClusterer(level="stories", distance_threshold=0.7).fit(X)
    tight = HeadlineClusterer(level="stories", distance_threshold=0.2).fit(X)
    assert loose.n_clusters_ == 1 and (loose.labels_ == 0).all()
    assert tight.n_clusters_ == 0 and (tight.labels_ == -1).all()


def test_min_cluster_size_leaves_small_stories_unclustered():
    rng = np.random.default_rng(8)
    centres = random_directions(2, 64, rng)
    X = np.vstack([jitter(centres[0], 5, 0.2, rng), jitter(centres[1], 2, 0.2, rng)])
    labels = HeadlineClusterer(level="stories", min_cluster_size=3).fit_predict(X)
    assert (labels[:5] == 0).all() and (labels[5:] == -1).all()


def test_ids_are_ranked_by_size_then_first_headline():
    rng = np.random.default_rng(11)
    centres = random_directions(3, 64, rng)
    X = np.vstack([jitter(c, n, 0.2, rng) for c, n in zip(centres, (2, 5, 3), strict=True)])
    texts = [f"b{i}" for i in range(2)] + [f"c{i}" for i in range(5)] + [f"a{i}" for i in range(3)]
    clusterer = HeadlineClusterer(level="stories").fit(X, texts=texts)
    assert [c.size for c in clusterer.clusters_] == [5, 3, 2]
    assert clusterer.labels_[2] == 0 and clusterer.labels_[7] == 1 and clusterer.labels_[0] == 2
    # equal sizes: the cluster whose alphabetically first headline comes first gets the lower id
    X2 = np.vstack([jitter(c, 2, 0.2, rng) for c in centres[:2]])
    tied = HeadlineClusterer(level="stories").fit(
        X2, texts=["zeta 1", "zeta 2", "alpha 1", "alpha 2"]
    )
    assert list(tied.labels_) == [1, 1, 0, 0]


def test_the_stories_of_synthetic_themes_are_recovered_exactly():
    X, _, stories = themed_vectors(3, seed=3)
    clusterer = HeadlineClusterer(level="stories").fit(X)
    assert clusterer.n_clusters_ == len(set(stories)) == 18
    assert adjusted_rand_score(stories, clusterer.labels_) == 1.0


def test_splitting_into_pieces_is_exact_average_linkage():
    """Clustering each "closer than the cut" piece alone equals one linkage over everything."""
    from scipy.cluster.hierarchy import fcluster, linkage

    from classifier.clustering.geometry import condensed_cosine_distances

    X, _, _ = themed_vectors(2, stories=4, per_story=6, seed=5)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    whole = fcluster(
        linkage(condensed_cosine_distances(unit), method="average"), t=0.5, criterion="distance"
    )
    assert adjusted_rand_score(whole, story_labels(unit, distance_threshold=0.5)) == 1.0
    index, similarity = nearest_neighbours(unit, 64)
    n_pieces, piece = threshold_components(index, similarity, len(unit), 0.5)
    assert n_pieces == len(set(piece.tolist())) and len(piece) == len(unit)
