"""The head follows scikit-learn's estimator contract and its calibration does what it claims."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from classifier.topics.head import TopicHead, fit_temperature, fit_thresholds
from classifier.topics.metrics import expected_calibration_error

#: A weight of 2 is not two copies of a row here, by design: the held-out folds that calibrate
#: the temperature put two copies in different folds (each scored by a model that saw the
#: other), so the calibration, and the logits it divides, differ. The weights themselves are fit
#: as sklearn's; test_half_weights_are_half_rows_for_the_weights checks that.
WEIGHTS_ARE_NOT_COPIES = {
    name: "held-out calibration folds split repeated rows, so weights and copies calibrate apart"
    for name in (
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data",
    )
}


@parametrize_with_checks(
    [TopicHead(), TopicHead(class_weight=None, calibration_folds=3)],
    expected_failed_checks=lambda estimator: WEIGHTS_ARE_NOT_COPIES,
)
def test_sklearn_contract(estimator, check):
    check(estimator)


def _blobs(n=600, seed=0, noise=1.6):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(3, 8)) * 2
    y = rng.integers(0, 3, size=n)
    X = centers[y] + rng.normal(scale=noise, size=(n, 8))
    return X, np.array(["a", "b", "c"], dtype=object)[y]


def test_fit_returns_self_and_learns_fitted_attributes():
    X, y = _blobs()
    head = TopicHead()
    assert head.fit(X, y) is head
    assert list(head.classes_) == ["a", "b", "c"]
    assert head.coef_.shape == (3, 8)
    assert head.oof_proba_.shape == (600, 3)
    np.testing.assert_allclose(head.predict_proba(X).sum(axis=1), 1.0)


def test_temperature_calibrates_held_out_confidence():
    X, y = _blobs(n=3000, seed=1)
    head = TopicHead(C=100.0).fit(X[:2000], y[:2000])
    proba = head.predict_proba(X[2000:])
    correct = head.classes_[proba.argmax(axis=1)] == y[2000:]
    assert expected_calibration_error(proba.max(axis=1), correct) < 0.05


def test_fit_temperature_recovers_a_known_scale():
    rng = np.random.default_rng(3)
    true_logits = rng.normal(scale=2.0, size=(5000, 4))
    y = np.array([rng.choice(4, p=np.exp(r) / np.exp(r).sum()) for r in true_logits])
    assert fit_temperature(true_logits * 3.0, y) == pytest.approx(3.0, rel=0.1)


def test_priors_shift_predictions_towards_the_common_class():
    X, y = _blobs(seed=4, noise=3.0)
    plain = TopicHead().fit(X, y)
    shifted = TopicHead(priors={"a": 0.9, "b": 0.05, "c": 0.05}).fit(X, y)
    assert (shifted.predict(X) == "a").sum() > (plain.predict(X) == "a").sum()
    assert shifted.prior_shift_[0] > 0 > shifted.prior_shift_[1]


def test_priors_must_name_the_classes():
    X, y = _blobs()
    with pytest.raises(ValueError, match="priors must name exactly"):
        TopicHead(priors={"a": 0.5, "zzz": 0.5}).fit(X, y)


def test_thresholds_pick_the_f1_optimal_cut():
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.35, 0.65]])
    y = np.array([0, 0, 1, 1])
    thresholds = fit_thresholds(proba, y)
    assert 0.4 < thresholds[1] <= 0.65
    assert thresholds.min() >= 0.2


def test_one_class_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="only one class"):
        TopicHead().fit(np.zeros((5, 2)), ["x"] * 5)


def test_groups_hold_out_whole_sources_and_raise_the_temperature():
    # two "sources" per class, the second shifted: a model that never saw a source is less sure
    rng = np.random.default_rng(5)
    centers = rng.normal(size=(3, 8)) * 2
    y = np.repeat([0, 1, 2], 400)
    source = np.tile(np.repeat([0, 1], 200), 3)
    X = centers[y] + rng.normal(size=(1200, 8)) + source[:, None] * rng.normal(size=(3, 8))[y] * 1.5
    labels = np.array(["a", "b", "c"], dtype=object)[y]
    groups = [f"{lab}-{s}" for lab, s in zip(labels, source, strict=True)]
    plain = TopicHead().fit(X, labels)
    grouped = TopicHead().fit(X, labels, groups=groups)
    assert plain.cv_ == "stratified" and grouped.cv_ == "groups"
    assert grouped.temperature_ > plain.temperature_
    np.testing.assert_array_equal(grouped.coef_, plain.coef_)  # the final fit uses every row


def test_groups_that_remove_a_class_fall_back_to_stratified_folds():
    X, y = _blobs()
    head = TopicHead().fit(X, y, groups=list(y))  # one group per class: holding one out drops it
    assert head.cv_ == "stratified"


def test_state_round_trips_the_fitted_head_as_plain_arrays():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(90, 6))
    y = np.array(["a", "b", "c"] * 30)
    head = TopicHead(priors={"a": 0.6, "b": 0.3, "c": 0.1}).fit(X, y)
    state = head.state()
    assert set(state) == set(TopicHead.STATE_ARRAYS)
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in state.values())
    again = TopicHead.from_state(list(head.classes_), state, **head.get_params())
    np.testing.assert_array_equal(again.predict_proba(X), head.predict_proba(X))
    assert list(again.predict(X)) == list(head.predict(X))
    with pytest.raises(ValueError, match="do not match the 2 labels"):
        TopicHead.from_state(["a", "b"], state)


def test_the_estimator_and_train_share_one_default_regularisation():
    from classifier.config import DEFAULT_C
    from classifier.topics.training import HEAD_PARAMS

    assert TopicHead().C == HEAD_PARAMS["C"] == DEFAULT_C == 16.0


def test_half_weights_are_half_rows_for_the_weights():
    """Without calibration folds, weight 2 and two copies give the same fitted weights.

    Weights are relative ("balanced" keeps the data's total mass at its number of rows), so the
    copies are fitted with C scaled by rows / copies, which is what the weights amount to.
    """
    X, y = _blobs(200)
    weights = np.where(np.arange(len(y)) % 3 == 0, 2.0, 1.0)
    repeat = np.repeat(np.arange(len(y)), weights.astype(int))
    weighted = TopicHead(calibration_folds=1).fit(X, y, sample_weight=weights)
    scaled_c = TopicHead().C * len(y) / len(repeat)
    copied = TopicHead(C=scaled_c, calibration_folds=1).fit(X[repeat], y[repeat])
    np.testing.assert_allclose(weighted.coef_, copied.coef_, atol=1e-3)
    assert weighted.temperature_ == copied.temperature_ == 1.0
