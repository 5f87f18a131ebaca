"""The per-topic "applies" head: calibrated yes/no probabilities that survive a save."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.topics.applies import THRESHOLD_CEILING, THRESHOLD_FLOOR, AppliesHead
from classifier.topics.metrics import expected_calibration_error


def synthetic(n=1200, seed=0):
    """Three topics; each applies when its own feature is positive, plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    Y = (X[:, :3] + rng.normal(scale=0.7, size=(n, 3))) > 0.8
    return X, Y


def test_probabilities_are_calibrated_per_topic_on_new_rows():
    X, Y = synthetic()
    head = AppliesHead(C=1.0).fit(X, Y)
    X_new, Y_new = synthetic(seed=1)
    proba = head.predict_proba(X_new)
    assert proba.shape == Y_new.shape
    for k in range(3):
        assert expected_calibration_error(proba[:, k], Y_new[:, k]) < 0.05
    # several topics can apply at once: rows do not sum to one
    assert (proba.sum(axis=1) > 1.2).any()


def test_a_topic_whose_examples_are_all_one_group_is_still_calibrated(caplog):
    """30 written examples of a new topic form one group: folds by group would hold all of them
    out at once, and the topic would be calibrated as if it never applied."""
    X, Y = synthetic()
    rare = np.zeros(len(Y), dtype=bool)
    rare[:40] = True
    X[:40, 5] += 4.0  # the rare topic is easy to see
    Y = np.column_stack([Y, rare])
    groups = np.where(rare, "new-topic", np.arange(len(Y)) % 5).astype(str)
    head = AppliesHead(C=1.0).fit(X, Y, groups=groups)
    assert "using stratified folds" in caplog.text
    X_new, Y_new = synthetic(seed=1)
    X_new[:40, 5] += 4.0
    proba = head.predict_proba(X_new)[:, 3]
    assert np.median(proba[:40]) > 0.5 and np.median(proba[40:]) < 0.05


def test_thresholds_are_chosen_between_the_floor_and_the_ceiling():
    X, Y = synthetic()
    head = AppliesHead(C=1.0).fit(X, Y)
    assert np.all(head.thresholds_ >= THRESHOLD_FLOOR)
    assert np.all(head.thresholds_ <= THRESHOLD_CEILING)
    assert head.oof_proba_.shape == Y.shape


def test_state_round_trip_gives_the_same_probabilities():
    X, Y = synthetic()
    head = AppliesHead(C=1.0).fit(X, Y)
    again = AppliesHead.from_state(head.state(), 3)
    np.testing.assert_array_equal(again.predict_proba(X), head.predict_proba(X))


def test_weights_of_another_shape_are_refused():
    X, Y = synthetic()
    state = AppliesHead(C=1.0).fit(X, Y).state()
    with pytest.raises(ValueError, match="3 labels"):
        AppliesHead.from_state({**state, "applies_platt": np.ones((2, 2))}, 3)


def test_a_topic_on_no_row_is_never_listed():
    X, Y = synthetic()
    Y = np.column_stack([Y, np.zeros(len(Y), dtype=bool)])
    proba = AppliesHead(C=1.0).fit(X, Y).predict_proba(X)
    assert proba[:, 3].max() < 1e-3


def test_y_must_be_one_row_per_sample():
    X, Y = synthetic()
    with pytest.raises(ValueError, match="n_samples, n_topics"):
        AppliesHead().fit(X, Y[:10])
