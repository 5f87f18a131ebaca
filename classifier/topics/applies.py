"""Which topics a headline is about: one calibrated yes/no probability per topic.

The softmax head answers "which one topic", so its probabilities share one unit between the
topics and a second topic rarely clears a bar: a headline about tariffs on Mexico over migrants
gets trade 0.55, immigration 0.40. Here each topic has its own logistic regression, trained on
"is this headline about the topic" (every topic of a row counts), and its own Platt scaling
fitted on held-out scores, so ``applies["immigration"] = 0.8`` means that of the headlines
scored 0.8, four in five are about immigration, whatever else they are about.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.utils.validation import check_is_fitted, validate_data

from classifier.config import DEFAULT_C

logger = logging.getLogger(__name__)

#: Lowest threshold a topic can get: below it a topic would be listed on headlines that only
#: mention a word of it.
THRESHOLD_FLOOR = 0.2
THRESHOLD_CEILING = 0.9


def fit_platt(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Slope and offset mapping held-out decision values to probabilities (Platt scaling).

    Fitted by an almost unregularised one-feature logistic regression, which is Platt's method
    without his label smoothing; with thousands of held-out rows the smoothing does not matter.
    """
    if truth.all() or not truth.any():  # a constant answer: keep the scores' own sigmoid
        return 1.0, 0.0
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), truth)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def best_threshold(proba: np.ndarray, truth: np.ndarray) -> float:
    """The bar that maximises one topic's F1 of "applies" on held-out probabilities."""
    if not truth.any():
        return 0.5
    best, best_f1 = 0.5, -1.0
    for t in np.linspace(THRESHOLD_FLOOR, THRESHOLD_CEILING, 29):
        predicted = proba >= t
        tp = np.count_nonzero(predicted & truth)
        f1 = 2 * tp / max(np.count_nonzero(predicted) + np.count_nonzero(truth), 1)
        if f1 > best_f1 + 1e-12:
            best, best_f1 = float(t), f1
    return best


class AppliesHead(BaseEstimator):
    """One-vs-rest logistic regressions with Platt calibration and a threshold per topic.

    Parameters
    ----------
    C : inverse regularisation strength of each topic's logistic regression.
    calibration_folds : folds for the held-out scores that Platt scaling and the thresholds are
        fitted on.
    max_iter, random_state : passed on.

    Attributes
    ----------
    coef_ : ndarray of shape (n_topics, n_features)
    intercept_ : ndarray of shape (n_topics,)
    platt_ : ndarray of shape (n_topics, 2)
        Slope and offset of each topic's calibration.
    thresholds_ : ndarray of shape (n_topics,)
        Probability above which a topic is listed.
    oof_proba_ : ndarray of shape (n_samples, n_topics) or None
        Held-out calibrated probabilities of the training rows, for the recorded metrics.
    n_features_in_ : int

    ``fit`` takes ``Y`` as a 0/1 matrix, one column per topic (the order the caller keeps).
    """

    STATE_ARRAYS = ("applies_coef", "applies_intercept", "applies_platt", "applies_thresholds")

    def __init__(
        self,
        *,
        C: float = DEFAULT_C,
        calibration_folds: int = 3,
        max_iter: int = 2000,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.calibration_folds = calibration_folds
        self.max_iter = max_iter
        self.random_state = random_state

    def _linear(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.C,
            class_weight="balanced",
            max_iter=self.max_iter,
            random_state=self.random_state,
        )

    def fit(self, X, Y, groups=None):
        """Fit every topic on all rows; calibration comes from held-out folds.

        ``groups`` keeps rows of one group in one fold (the training rows of one headline, or
        of one writing set), so held-out scores are honest.
        """
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32])
        Y = np.asarray(Y, dtype=bool)
        if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise ValueError(
                f"Y must be (n_samples, n_topics); got {Y.shape} for {X.shape[0]} rows"
            )
        n_topics = Y.shape[1]
        self.coef_ = np.zeros((n_topics, X.shape[1]))
        self.intercept_ = np.zeros(n_topics)
        self.platt_ = np.tile([1.0, 0.0], (n_topics, 1))
        self.thresholds_ = np.full(n_topics, 0.5)
        splits = self._splits(X, Y, groups)
        self.oof_proba_ = np.zeros(Y.shape) if splits else None
        for k in range(n_topics):
            truth = Y[:, k]
            if not _learnable(truth):
                logger.warning("topic %d is on every row or on none; it cannot be learnt", k)
                self.intercept_[k] = 10.0 if truth.all() else -10.0
                continue
            if splits:
                held_out = np.zeros(len(truth))
                for train, test in splits:
                    if _learnable(truth[train]):  # else its held-out scores stay 0
                        part = self._linear().fit(X[train], truth[train])
                        held_out[test] = part.decision_function(X[test])
                self.platt_[k] = fit_platt(held_out, truth)
                self.oof_proba_[:, k] = expit(self.platt_[k, 0] * held_out + self.platt_[k, 1])
                self.thresholds_[k] = best_threshold(self.oof_proba_[:, k], truth)
            final = self._linear().fit(X, truth)
            self.coef_[k], self.intercept_[k] = final.coef_[0], final.intercept_[0]
        return self

    def refit(self, X, Y, *, calibration: AppliesHead, init: tuple[np.ndarray, np.ndarray]):
        """Fit each topic's final weights only, warm-started from ``init`` (coef, intercept),
        keeping ``calibration``'s Platt scales and thresholds: the quick retrain of
        :mod:`classifier.topics.quick`, which skips the folds a full :meth:`fit` spends its time on.
        """
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32])
        Y = np.asarray(Y, dtype=bool)
        n_topics = len(calibration.thresholds_)
        if Y.ndim != 2 or Y.shape != (X.shape[0], n_topics):
            raise ValueError(f"Y must be ({X.shape[0]}, {n_topics}); got {Y.shape}")
        coef, intercept = (np.asarray(a, dtype=np.float64) for a in init)
        self.coef_, self.intercept_ = coef.copy(), intercept.copy()
        self.platt_ = np.asarray(calibration.platt_, dtype=np.float64).copy()
        self.thresholds_ = np.asarray(calibration.thresholds_, dtype=np.float64).copy()
        self.oof_proba_ = None
        learnable = [k for k in range(n_topics) if _learnable(Y[:, k])]
        for k in sorted(set(range(n_topics)) - set(learnable)):
            logger.warning("topic %d is on every row or on none; it cannot be learnt", k)
        for k in learnable:
            final = self._warm(k).fit(X, Y[:, k])
            self.coef_[k], self.intercept_[k] = final.coef_[0], final.intercept_[0]
        return self

    def _warm(self, k: int) -> LogisticRegression:
        """A logistic regression for topic ``k`` that starts from its current weights."""
        final = self._linear().set_params(warm_start=True)
        final.coef_ = self.coef_[k : k + 1].copy()
        final.intercept_ = self.intercept_[k : k + 1].copy()
        return final

    def _splits(self, X, Y, groups) -> list[tuple[np.ndarray, np.ndarray]]:
        """Held-out folds, stratified on the rarest topic of each row, or by group."""
        smallest = int(min(Y.sum(axis=0).min(), (~Y).sum(axis=0).min()))
        folds = min(self.calibration_folds, smallest)
        if folds < 2:
            logger.warning("too few rows per topic to calibrate 'applies'; uncalibrated")
            return []
        if groups is not None and len(np.unique(groups)) >= folds:
            splits = list(GroupKFold(folds).split(X, groups=groups))
            # a topic whose examples all sit in one group (30 written examples of a new topic)
            # would have none on that fold's training side: its held-out scores, and so its
            # calibration, would say it never applies
            if all(
                Y[train].any(axis=0).all() and (~Y[train]).any(axis=0).all() for train, _ in splits
            ):
                return splits
            logger.warning("groups leave a topic out of a training fold; using stratified folds")
        rarest = np.argmin(Y.sum(axis=0))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        return list(splitter.split(X, Y[:, rarest]))

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probability, per topic, that the headline is about it (rows do not sum to 1)."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", reset=False, dtype=[np.float64, np.float32])
        return self.proba_from_products(np.asarray(X @ self.coef_.T))

    def proba_from_products(self, products: np.ndarray) -> np.ndarray:
        """:meth:`predict_proba` from ``X @ coef_.T``, for a caller that computed the product
        itself: :meth:`TopicModel.scores` does both heads' in one, without the input checks."""
        return expit((products + self.intercept_) * self.platt_[:, 0] + self.platt_[:, 1])

    def state(self) -> dict[str, np.ndarray]:
        check_is_fitted(self, "coef_")
        return {
            "applies_coef": self.coef_,
            "applies_intercept": self.intercept_,
            "applies_platt": self.platt_,
            "applies_thresholds": self.thresholds_,
        }

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], n_topics: int, **params) -> AppliesHead:
        """A fitted head from :meth:`state`'s arrays; ValueError when their shapes disagree."""
        head = cls(**params)
        # column-major, so that X @ coef_.T reads it in place (row-major was copied every call)
        head.coef_ = np.asfortranarray(arrays["applies_coef"], dtype=np.float64)
        head.intercept_ = np.asarray(arrays["applies_intercept"], dtype=np.float64)
        head.platt_ = np.asarray(arrays["applies_platt"], dtype=np.float64)
        head.thresholds_ = np.asarray(arrays["applies_thresholds"], dtype=np.float64)
        head.n_features_in_ = head.coef_.shape[1]
        if not (
            head.coef_.shape[0] == len(head.intercept_) == len(head.thresholds_) == n_topics
            and head.platt_.shape == (n_topics, 2)
        ):
            raise ValueError(f"'applies' weights do not match the {n_topics} labels")
        return head

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _learnable(truth: np.ndarray) -> bool:
    """A topic can be learnt from rows that have both its examples and others."""
    return bool(truth.any() and not truth.all())
