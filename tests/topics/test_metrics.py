"""Scores a person can read: macro-F1 over the topics that are there."""

from __future__ import annotations

import numpy as np

from classifier.topics.metrics import classification_metrics

LABELS = ["geopolitics", "health", "immigration", "other", "trade"]


def test_a_file_with_every_row_right_scores_one_whatever_topics_it_lacks():
    """Two rows, both right: 1.0, not 0.40 (three topics absent from truth and predictions)."""
    result = classification_metrics(["trade", "health"], ["trade", "health"], None, LABELS)
    assert result["macro_f1"] == 1.0 and result["accuracy"] == 1.0
    assert result["macro_f1_labels"] == ["health", "trade"]
    assert set(result["per_class"]) == set(LABELS)  # still reported for every label


def test_a_topic_only_predicted_counts_against_the_average():
    result = classification_metrics(["trade", "trade"], ["trade", "health"], None, LABELS)
    assert result["macro_f1_labels"] == ["health", "trade"]
    trade_f1 = 2 * 1 / (2 * 1 + 1)  # one right, one missed
    assert result["macro_f1"] == round((trade_f1 + 0.0) / 2, 4)


def test_calibration_is_reported_with_confidences():
    result = classification_metrics(["a", "b"], ["a", "a"], np.array([0.9, 0.6]), ["a", "b"])
    assert 0 <= result["ece"] <= 1 and result["macro_f1_labels"] == ["a", "b"]
