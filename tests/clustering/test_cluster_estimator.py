"""HeadlineClusterer as a whole: determinism, sampling and ``assign``, parameters, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from classifier.clustering.estimator import HeadlineClusterer
from classifier.clustering.levels import LEVELS
from classifier.clustering.params import PARAMETER_CONSTRAINTS
from classifier.errors import InputError
from tests.clustering.synthetic import random_directions, story_headlines, themed_vectors, unit
from tests.conftest import FakeEmbedder


# -- determinism -----------------------------------------------------------------------------------
@pytest.mark.parametrize("level", LEVELS)
def test_order_does_not_change_clusters_ids_or_keywords(level, fake_embedder):
    rng = np.random.default_rng(0)
    texts, _ = story_headlines()
    texts = texts * 3  # repeats make theme-sized groups, and duplicates must not break ties
    X = fake_embedder.encode(texts)
    reference = HeadlineClusterer(level=level, min_cluster_size=2).fit(X, texts=texts)
    by_text = dict(zip(texts, reference.labels_, strict=True))
    for _ in range(3):
        order = rng.permutation(len(texts))
        shuffled = HeadlineClusterer(level=level, min_cluster_size=2).fit(
            X[order], texts=[texts[i] for i in order]
        )
        assert [by_text[texts[i]] for i in order] == list(shuffled.labels_)
        assert [c.to_dict() for c in shuffled.clusters_] == [
            c.to_dict() for c in reference.clusters_
        ]


def test_order_does_not_change_themes_of_many_similar_headlines():
    X, _, _ = themed_vectors(4, seed=12, story_spread=1.4)
    texts = [f"headline {i % 50:02d}" for i in range(len(X))]  # repeated texts: ties to break
    reference = HeadlineClusterer(level="themes").fit(X, texts=texts)
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(X))
        shuffled = HeadlineClusterer(level="themes").fit(X[order], texts=[texts[i] for i in order])
        assert list(shuffled.labels_) == list(reference.labels_[order])


def test_without_texts_the_order_still_does_not_matter():
    X, _, _ = themed_vectors(3, seed=9)
    order = np.random.default_rng(1).permutation(len(X))
    a = HeadlineClusterer(level="themes").fit(X).labels_
    b = HeadlineClusterer(level="themes").fit(X[order]).labels_
    assert list(a[order]) == list(b)


# -- scale-out ------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", LEVELS)
def test_assign_gives_new_headlines_the_nearest_cluster(level):
    X, themes, stories = themed_vectors(3, seed=6)
    clusterer = HeadlineClusterer(level=level).fit(X)
    rng = np.random.default_rng(2)
    near_copies = unit(X + rng.normal(size=X.shape) * 0.02)
    assigned = clusterer.assign(near_copies)
    assert np.mean(assigned == clusterer.labels_) > 0.95
    strangers = random_directions(5, X.shape[1], rng)
    assert (clusterer.assign(strangers) == -1).all()
    assert clusterer.assign(near_copies[:1]).dtype.kind == "i"


def test_a_large_input_is_fitted_on_a_sample_and_the_rest_assigned():
    X, themes, _ = themed_vectors(3, stories=12, seed=7)
    texts = [f"headline {i:04d}" for i in range(len(X))]
    full = HeadlineClusterer(level="sections").fit(X, texts=texts)
    sampled = HeadlineClusterer(level="sections", sample_size=100).fit(X, texts=texts)
    assert sampled.sampled_ and not full.sampled_
    assert len(sampled.fit_labels_) == 100 and len(sampled.labels_) == len(X)
    assert adjusted_rand_score(full.labels_, sampled.labels_) > 0.95
    order = np.random.default_rng(0).permutation(len(X))
    again = HeadlineClusterer(level="sections", sample_size=100).fit(
        X[order], texts=[texts[i] for i in order]
    )
    assert list(again.labels_) == list(sampled.labels_[order])


def test_assign_refuses_what_it_cannot_compare():
    with pytest.raises(NotFittedError):
        HeadlineClusterer().assign(np.ones((1, 4)))
    clusterer = HeadlineClusterer().fit(np.eye(4) + 0.01)
    with pytest.raises(ValueError, match="3 dimensions; the clusterer was fitted on 4"):
        clusterer.assign(np.ones((2, 3)))
    with pytest.raises(ValueError, match="row 1 is all zeros"):
        clusterer.assign(np.vstack([np.ones(4), np.zeros(4)]))


# -- parameters and bad input ---------------------------------------------------------------------
def test_parameters_are_checked_when_fitting_not_when_set():
    clusterer = HeadlineClusterer(level="themes", n_neighbors=7)
    assert clusterer.get_params()["n_neighbors"] == 7
    copy = clone(clusterer)
    assert copy.get_params() == clusterer.get_params()
    clusterer.set_params(level="nonsense")  # checked when fitting, not when set
    with pytest.raises(ValueError, match="level must be one of stories, themes"):
        clusterer.fit(np.eye(3))
    X, _, _ = themed_vectors(2, seed=0)
    fitted = copy.fit(X)
    assert fitted is copy and copy.labels_.shape == (len(X),)
    assert copy.fit_predict(X).tolist() == copy.labels_.tolist()


def test_every_parameter_is_declared_once():
    assert list(PARAMETER_CONSTRAINTS) != [] and set(PARAMETER_CONSTRAINTS) == set(
        HeadlineClusterer().get_params()
    )


@pytest.mark.parametrize(
    "params, message",
    [
        ({"level": "topics"}, "level must be one of stories, themes, sections; got 'topics'"),
        (
            {"distance_threshold": 0},
            "distance_threshold must be between 0 and 2 (cosine distance); got 0",
        ),
        ({"distance_threshold": "far"}, "distance_threshold must be between 0 and 2"),
        ({"max_clusters": 0}, "max_clusters must be a positive integer; got 0"),
        ({"n_neighbors": 2.5}, "n_neighbors must be a positive integer; got 2.5"),
        ({"sample_size": None}, "sample_size must be a positive integer; got None"),
        ({"n_clusters": 0}, "n_clusters must be a positive integer or None; got 0"),
        ({"noise_similarity": 1.5}, "noise_similarity must be a cosine in [-1, 1]; got 1.5"),
        ({"min_cluster_size": 0}, "min_cluster_size must be a positive integer; got 0"),
        ({"level": "x", "n_neighbors": 0}, "level must be one of"),  # the first rule decides
    ],
)
def test_a_bad_setting_names_itself_what_it_must_be_and_what_it_got(params, message):
    with pytest.raises(ValueError) as caught:
        HeadlineClusterer(**params).validate_params()
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "X, texts, params, error, message",
    [
        (np.array([[1.0, np.nan]]), None, {}, ValueError, "row 0 contains NaN"),
        (np.array([[1.0, 0.0], [0.0, 0.0]]), None, {}, ValueError, "row 1 is all zeros"),
        (np.ones(3), None, {}, ValueError, "must be 2-D"),
        (np.zeros((0, 4)), None, {}, InputError, "no headlines to cluster"),
        ([["a", "b"]], None, {}, ValueError, "2-D array of numbers"),
        (np.eye(2), ["one"], {}, ValueError, "2 embeddings but 1 headlines"),
        (np.eye(2), ["one", "  "], {}, InputError, "headline 1 is empty"),
        (np.eye(2), ["one", 7], {}, InputError, "headline 1 is int, not text"),
        (np.eye(2), None, {"level": "topics"}, ValueError, "level must be one of"),
        (np.eye(2), None, {"distance_threshold": 0}, ValueError, "between 0 and 2"),
        (np.eye(2), None, {"n_clusters": 0}, ValueError, "n_clusters must be a positive"),
        (np.eye(2), None, {"min_cluster_size": 0}, ValueError, "min_cluster_size must be"),
        (np.eye(2), None, {"n_neighbors": 2.5}, ValueError, "n_neighbors must be a positive"),
        (np.eye(2) * 1j, None, {}, ValueError, "Complex data not supported"),
    ],
)
def test_bad_input_gets_a_clear_error(X, texts, params, error, message):
    with pytest.raises(error, match=message):
        HeadlineClusterer(**params).fit(X, texts=texts)


def test_headlines_in_the_place_of_y_are_refused_not_ignored():
    with pytest.raises(TypeError, match="takes the headlines as texts="):
        HeadlineClusterer().fit(np.eye(2), ["one", "two"])
    labels = HeadlineClusterer().fit(np.eye(2), np.array([0, 1])).labels_  # a real y: ignored
    assert labels.tolist() == [-1, -1]


def test_column_names_of_a_data_frame_are_kept():
    import pandas as pd

    X, _, _ = themed_vectors(2, stories=2, per_story=4, dim=8, seed=1)
    frame = pd.DataFrame(X, columns=[f"d{i}" for i in range(8)])
    clusterer = HeadlineClusterer().fit(frame)
    assert clusterer.feature_names_in_.tolist() == list(frame.columns)
    assert not hasattr(HeadlineClusterer().fit(X), "feature_names_in_")


def test_tiny_inputs_do_not_crash():
    one = HeadlineClusterer(level="themes").fit(np.ones((1, 3)), texts=["only"])
    assert one.labels_.tolist() == [-1] and one.n_clusters_ == 0 and one.clusters_ == []
    pair = HeadlineClusterer(level="stories").fit(np.ones((2, 3)), texts=["same", "same"])
    assert pair.labels_.tolist() == [0, 0]
    few = HeadlineClusterer(level="themes").fit(np.ones((6, 3)) + np.eye(6, 3) * 0.1)
    assert few.n_clusters_ == 1


def test_fit_predict_takes_the_same_arguments_as_fit():
    texts, _ = story_headlines()
    X = FakeEmbedder().encode(texts)
    fitted = HeadlineClusterer().fit(X, texts=texts)
    assert HeadlineClusterer().fit_predict(X, texts=texts).tolist() == fitted.labels_.tolist()
    with pytest.raises(TypeError, match="takes the headlines as texts="):
        HeadlineClusterer().fit_predict(X, texts)
