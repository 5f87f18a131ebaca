"""Scores for a set of predictions: what `train` records and `evaluate` prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
)


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10, weights: np.ndarray | None = None
) -> float:
    """Top-label ECE: the gap between how sure the model is and how often it is right.

    Equal-width bins over [0, 1], weighted by how many predictions fall in each.
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if confidence.size == 0:
        return 0.0
    weights = np.ones_like(confidence) if weights is None else np.asarray(weights, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            w = weights[mask]
            gap = np.average(confidence[mask], weights=w) - np.average(correct[mask], weights=w)
            error += w.sum() / weights.sum() * abs(gap)
    return float(error)


def reliability_table(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[dict]:
    """Per-bin confidence against accuracy, for people who want to see calibration."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            rows.append(
                {
                    "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                    "count": int(mask.sum()),
                    "confidence": round(float(confidence[mask].mean()), 4),
                    "accuracy": round(float(correct[mask].mean()), 4),
                }
            )
    return rows


def classification_metrics(
    truth: Sequence[str],
    predicted: Sequence[str],
    confidence: np.ndarray | None,
    labels: Sequence[str],
    sample_weight: np.ndarray | None = None,
) -> dict[str, Any]:
    """Macro-F1, accuracy, per-class P/R/F1/support, the confusion matrix and calibration.

    Macro-F1 averages over the labels present in the truth or the predictions, named in
    ``macro_f1_labels``; per-class figures are given for every label.

    ``sample_weight`` re-weights rows (e.g. to deployment priors); support and the confusion
    matrix stay raw counts so they can be read as rows.
    """
    labels = list(labels)
    truth = np.asarray(truth, dtype=object)
    predicted = np.asarray(predicted, dtype=object)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0, sample_weight=sample_weight
    )
    support = np.array([np.sum(truth == label) for label in labels])
    per_class = {
        label: {
            "precision": round(float(precision[i]), 4),
            "recall": round(float(recall[i]), 4),
            "f1": round(float(f1[i]), 4),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    # A topic absent from both the truth and the predictions has no F1 to speak of: counting it
    # as 0 would score a file with every row right below 1 (scikit-learn's ``labels=``).
    present = [i for i, label in enumerate(labels) if support[i] or np.any(predicted == label)]
    result: dict[str, Any] = {
        "n": int(len(truth)),
        "macro_f1": round(float(np.mean(f1[present])), 4) if present else 0.0,
        "macro_f1_labels": [labels[i] for i in present],
        "accuracy": round(float(accuracy_score(truth, predicted, sample_weight=sample_weight)), 4),
        "per_class": per_class,
        "confusion_matrix": {
            "labels": labels,
            "matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        },
    }
    if confidence is not None:
        correct = truth == predicted
        result["ece"] = round(
            expected_calibration_error(confidence, correct, weights=sample_weight), 4
        )
        result["reliability"] = reliability_table(np.asarray(confidence, dtype=float), correct)
    return result
