"""The classification head: a calibrated linear softmax over numeric features.

It is a plain scikit-learn classifier (numeric ``X`` in, labels out) so it can be checked with
``sklearn.utils.estimator_checks`` and saved as a handful of arrays instead of a pickle.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from classifier.config import DEFAULT_C

logger = logging.getLogger(__name__)


def fit_temperature(
    logits: np.ndarray,
    y_index: np.ndarray,
    weights: np.ndarray | None = None,
    shift: np.ndarray | float = 0.0,
) -> float:
    """Temperature that minimises the negative log-likelihood of held-out logits.

    One scalar keeps the ranking (and so every prediction) intact while fixing over- or
    under-confidence, which is what "a 0.8 is right 80% of the time" asks for.
    """

    weights = np.ones(len(y_index)) if weights is None else np.asarray(weights, dtype=float)

    def nll(log_t: float) -> float:
        scaled = log_softmax(logits / np.exp(log_t) + shift, axis=1)
        return float(-np.average(scaled[np.arange(len(y_index)), y_index], weights=weights))

    result = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(result.x))


def fit_thresholds(
    proba: np.ndarray, y_index: np.ndarray, weights: np.ndarray | None = None, floor: float = 0.2
) -> np.ndarray:
    """Per-class score above which a class is also listed as a topic of a headline.

    Chosen to maximise that class's one-vs-rest F1 on held-out scores, never below ``floor`` so a
    faint class is not listed on every headline.
    """
    weights = np.ones(len(y_index)) if weights is None else np.asarray(weights, dtype=float)
    thresholds = np.full(proba.shape[1], 0.5)
    candidates = np.linspace(floor, 0.9, 36)
    for k in range(proba.shape[1]):
        truth = y_index == k
        if not truth.any():
            continue
        best, best_f1 = 0.5, -1.0
        for t in candidates:
            pred = proba[:, k] >= t
            tp = weights[pred & truth].sum()
            f1 = 2 * tp / max(weights[pred].sum() + weights[truth].sum(), 1e-12)
            if f1 > best_f1 + 1e-12:
                best, best_f1 = float(t), f1
        thresholds[k] = best
    return thresholds


class TopicHead(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression with temperature calibration and per-class thresholds.

    Parameters
    ----------
    C : inverse regularisation strength of the logistic regression.
    class_weight : passed to LogisticRegression; "balanced" lifts rare topics, which is what a
        macro-averaged score rewards.
    calibration_folds : folds used to get held-out scores for the temperature and thresholds;
        fewer are used when a class is too small, none (temperature 1) below two per class.
    priors : expected share of each class where the model will be used (``{label: share}``).
        Training data is rarely balanced like a news stream; the logits are shifted by the log
        ratio of these priors to the priors the fit implicitly assumed, and calibration and
        thresholds are fitted with importance weights so confidences hold under these priors.
        None keeps the training balance.
    max_iter, random_state : passed on.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted.
    coef_ : ndarray of shape (n_classes, n_features)
        Weights of the logistic regression fitted on all rows.
    intercept_ : ndarray of shape (n_classes,)
    temperature_ : float
        Divides the logits; fitted on held-out logits (1.0 when there were too few rows).
    prior_shift_ : ndarray of shape (n_classes,) or float
        Added to the tempered logits: log ratio of ``priors`` to the training balance (0.0 when
        ``priors`` is None).
    thresholds_ : ndarray of shape (n_classes,)
        Score above which a class is also listed among a headline's topics.
    cv_ : str
        How held-out scores were obtained (e.g. "5-fold stratified", "none"), for the manifest.
    oof_proba_, oof_weights_ : ndarray or None
        Held-out probabilities and importance weights of the training rows (None without
        calibration); training reports its cross-validated metrics from them.
    n_iter_ : ndarray
        Iterations of the final fit.
    n_features_in_ : int

    :meth:`state` and :meth:`from_state` give and take the fitted state as plain arrays, so a
    model store saves it without pickles and without knowing these names.
    """

    #: What :meth:`state` returns and :meth:`from_state` needs, beside ``classes_``.
    STATE_ARRAYS = ("coef", "intercept", "temperature", "thresholds", "prior_shift")

    def __init__(
        self,
        *,
        C: float = DEFAULT_C,
        class_weight: str | dict | None = "balanced",
        calibration_folds: int = 5,
        priors: dict[str, float] | None = None,
        max_iter: int = 2000,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.priors = priors
        self.max_iter = max_iter
        self.random_state = random_state

    def _linear(self, class_weight=None) -> LogisticRegression:
        return LogisticRegression(
            C=self.C,
            class_weight=self.class_weight if class_weight is None else class_weight,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )

    def fit(self, X, y, groups=None, sample_weight=None):
        """Fit on all rows; held-out scores for calibration come from cross-validation.

        ``groups`` (optional, one label per row) names where each row came from — a source, a
        writer, a period. Folds then hold out whole groups, so the temperature and the recorded
        scores reflect headlines from a source the model has not seen, which is how it will be
        used; rows from one source are more alike than rows of a real stream.

        ``sample_weight`` lets a headline about two topics count as half a row of each (one row
        per topic, weight 1/2, same group), which teaches the head that such a headline is
        between the two instead of forcing it into its first topic.
        """
        X, y_index, row_weight = self._targets(X, y, sample_weight)
        if len(self.classes_) < 2:
            raise ValueError(
                "training needs at least two classes (topics); the data has only one class: "
                f"{self.classes_[0]!r}"
            )
        counts = np.bincount(y_index, weights=row_weight)
        shift, weights = self._prior_shift(counts, y_index)
        weights = weights * row_weight
        self.cv_, splits = self._splits(X, y_index, np.bincount(y_index), groups)
        if splits:
            logits = np.zeros((X.shape[0], len(self.classes_)))
            for train, test in splits:
                part = self._linear().fit(X[train], y_index[train], sample_weight=row_weight[train])
                logits[test] = _logits(part, X[test])
            self.temperature_ = fit_temperature(logits, y_index, weights, shift)
            self.oof_proba_ = softmax(logits / self.temperature_ + shift, axis=1)
            self.oof_weights_ = weights
            self.thresholds_ = fit_thresholds(self.oof_proba_, y_index, weights)
        else:
            logger.warning(
                "too few examples per class to calibrate (%d); temperature 1", counts.min()
            )
            self.temperature_ = 1.0
            self.oof_proba_ = None
            self.oof_weights_ = None
            self.thresholds_ = np.full(len(self.classes_), 0.5)
        self._keep(self._final_model(X, y_index, row_weight, sample_weight is not None))
        self.prior_shift_ = shift
        return self

    def refit(
        self,
        X,
        y,
        *,
        calibration: TopicHead,
        init: tuple[np.ndarray, np.ndarray],
        sample_weight=None,
    ):
        """Fit the final weights only, warm-started from ``init`` (coef, intercept), and keep
        ``calibration``'s temperature and thresholds.

        A full :meth:`fit` spends nearly all its time on the cross-validation folds; after a few
        corrections they would find the same temperature and thresholds, so a retrain that
        starts from the current model's weights needs none of them (:mod:`classifier.topics.quick`).
        ``y`` must have ``calibration``'s classes. The prior shift is recomputed from ``y``.
        """
        X, y_index, row_weight = self._targets(X, y, sample_weight)
        if list(self.classes_) != list(calibration.classes_):
            raise ValueError(
                f"refit needs the classes {list(calibration.classes_)}; got {list(self.classes_)}"
            )
        self.prior_shift_, _ = self._prior_shift(np.bincount(y_index, weights=row_weight), y_index)
        self.temperature_ = float(calibration.temperature_)
        self.thresholds_ = np.asarray(calibration.thresholds_, dtype=np.float64).copy()
        self.cv_, self.oof_proba_, self.oof_weights_ = "carried over", None, None
        self._keep(self._final_model(X, y_index, row_weight, sample_weight is not None, init))
        return self

    def _targets(self, X, y, sample_weight) -> tuple:
        """The checked ``X``, each row's class index (``classes_`` set) and its weight."""
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32])
        row_weight = (
            np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
        )
        if row_weight.shape != (X.shape[0],) or np.any(row_weight < 0):
            raise ValueError("sample_weight must be one non-negative number per row")
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        return X, y_index, row_weight

    def _final_model(self, X, y_index, row_weight, weighted: bool, init=None) -> LogisticRegression:
        """The logistic regression on all rows (warm-started from ``init``, a (coef, intercept)
        pair of one row per class, when given)."""
        counts = np.bincount(y_index, weights=row_weight, minlength=len(self.classes_))
        # "balanced" by the weighted counts: half rows are half a headline of their class
        balance = (
            dict(enumerate(len(y_index) / (len(counts) * np.maximum(counts, 1e-12))))
            if weighted and self.class_weight == "balanced"
            else None
        )
        final = self._linear(balance)
        if init is not None:
            coef, intercept = (np.asarray(a, dtype=np.float64) for a in init)
            if len(self.classes_) == 2:  # back to sklearn's one row: the difference of the two
                coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
            final.set_params(warm_start=True)
            final.coef_, final.intercept_ = coef.copy(), intercept.copy()
        return final.fit(X, y_index, sample_weight=row_weight)

    def _keep(self, final: LogisticRegression) -> None:
        coef, intercept = final.coef_, final.intercept_
        if len(self.classes_) == 2:  # sklearn keeps one row for two classes; store both logits
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        self.coef_ = np.asarray(coef, dtype=np.float64)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        self.n_iter_ = final.n_iter_

    def _splits(
        self, X, y_index, counts, groups
    ) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
        """Held-out folds: by group when every training side keeps every class, else stratified."""
        if groups is not None:
            groups = np.asarray(groups)
            if len(groups) != len(y_index):
                raise ValueError(f"{len(groups)} groups for {len(y_index)} rows")
            n_groups = len(np.unique(groups))
            # one fit per group while that is cheap; whole groups per fold beyond
            splitter = LeaveOneGroupOut() if n_groups <= 12 else GroupKFold(self.calibration_folds)
            if n_groups >= 2:
                splits = list(splitter.split(X, y_index, groups))
                n_classes = len(counts)
                if all(len(np.unique(y_index[train])) == n_classes for train, _ in splits):
                    return "groups", splits
            logger.warning("groups leave some class out of a training fold; using stratified folds")
        folds = min(self.calibration_folds, int(counts.min()))
        if folds < 2:
            return "none", []
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        return "stratified", list(splitter.split(X, y_index))

    def _prior_shift(
        self, counts: np.ndarray, y_index: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Logit offsets and per-row importance weights that move the fit to ``priors``."""
        if not self.priors:
            return np.zeros(len(counts)), np.ones(len(y_index))
        unknown = set(self.priors) - {str(c) for c in self.classes_}
        missing = [str(c) for c in self.classes_ if str(c) not in self.priors]
        if unknown or missing:
            raise ValueError(
                f"priors must name exactly the classes {list(map(str, self.classes_))}; "
                f"unknown {sorted(unknown)}, missing {missing}"
            )
        target = np.array([float(self.priors[str(c)]) for c in self.classes_])
        if np.any(target <= 0):
            raise ValueError("every prior must be positive")
        target /= target.sum()
        empirical = counts / counts.sum()
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            implied = np.full(len(counts), 1.0 / len(counts))
        elif isinstance(self.class_weight, dict):
            implied = empirical * np.array([self.class_weight.get(c, 1.0) for c in self.classes_])
            implied /= implied.sum()
        else:
            implied = empirical
        return np.log(target) - np.log(implied), (target / empirical)[y_index]

    def _calibrated_logits(self, X) -> np.ndarray:
        """One column per class: tempered logits shifted to the deployment priors."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", reset=False, dtype=[np.float64, np.float32])
        return self._calibrate(np.asarray(X @ self.coef_.T))

    def _calibrate(self, products: np.ndarray) -> np.ndarray:
        return (products + self.intercept_) / self.temperature_ + self.prior_shift_

    def proba_from_products(self, products: np.ndarray) -> np.ndarray:
        """:meth:`predict_proba` from ``X @ coef_.T``, for a caller that computed the product
        itself: :meth:`TopicModel.scores` does both heads' in one, without the input checks."""
        return softmax(self._calibrate(products), axis=1)

    def decision_function(self, X) -> np.ndarray:
        """Calibrated logits; for two classes one column, positive meaning ``classes_[1]``."""
        logits = self._calibrated_logits(X)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_proba(self, X) -> np.ndarray:
        return softmax(self._calibrated_logits(X), axis=1)

    def predict(self, X) -> np.ndarray:
        index = np.argmax(self._calibrated_logits(X), axis=1)
        return self.classes_[index]

    def state(self) -> dict[str, np.ndarray]:
        """The fitted weights as named numpy arrays (see :data:`STATE_ARRAYS`)."""
        check_is_fitted(self, "coef_")
        return {
            "coef": self.coef_,
            "intercept": self.intercept_,
            "temperature": np.array([self.temperature_]),
            "thresholds": np.asarray(self.thresholds_, dtype=np.float64),
            "prior_shift": np.asarray(self.prior_shift_, dtype=np.float64),
        }

    @classmethod
    def from_state(cls, classes: list[str], arrays: dict[str, np.ndarray], **params) -> TopicHead:
        """A fitted head from :meth:`state`'s arrays; ValueError when their shapes disagree."""
        head = cls(**params)
        head.classes_ = np.asarray(classes, dtype=object)
        # column-major, so that X @ coef_.T reads it in place (row-major was copied every call)
        head.coef_ = np.asfortranarray(arrays["coef"])
        head.intercept_ = arrays["intercept"]
        head.temperature_ = float(arrays["temperature"][0])
        head.thresholds_ = arrays["thresholds"]
        head.prior_shift_ = arrays["prior_shift"]
        head.n_features_in_ = head.coef_.shape[1]
        n = len(classes)
        if head.coef_.shape[0] != n or not (
            len(head.thresholds_) == len(head.prior_shift_) == len(head.intercept_) == n
        ):
            raise ValueError(f"weights do not match the {n} labels")
        return head

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _logits(model: LogisticRegression, X) -> np.ndarray:
    """One logit column per class, also for sklearn's one-column binary decision function."""
    decision = model.decision_function(X)
    if decision.ndim == 1:
        return np.column_stack([-decision / 2, decision / 2])
    return decision
