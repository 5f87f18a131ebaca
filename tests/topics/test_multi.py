"""The multi-topic rules: expanded training rows, which topics are listed, and their scores."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.topics.multi import choose_topics, expand_rows, multi_topic_metrics, topic_matrix

LABELS = ["geopolitics", "health", "immigration", "other", "trade"]
BARS = np.full(5, 0.5)


def test_a_headline_of_two_topics_becomes_two_half_rows_in_one_group():
    source, labels, weights, groups = expand_rows([["trade"], ["trade", "immigration"]], None)
    assert source.tolist() == [0, 1, 1]
    assert labels == ["trade", "trade", "immigration"]
    assert weights.tolist() == [1.0, 0.5, 0.5]
    assert groups[1] == groups[2] != groups[0]


def test_expanded_rows_keep_the_writing_set_as_group():
    _, _, _, groups = expand_rows([["health", "trade"]], ["multi_trade"])
    assert groups == ["multi_trade", "multi_trade"]


def test_topic_matrix_marks_every_topic_of_a_row():
    matrix = topic_matrix([["trade", "health"], ["other"]], LABELS)
    assert matrix.tolist() == [[False, True, False, False, True], [False] * 3 + [True, False]]


@pytest.mark.parametrize(
    ("primary", "applies", "expected"),
    [
        ("trade", [0.1, 0.1, 0.9, 0.1, 0.8], ["trade", "immigration"]),  # by probability
        ("trade", [0.1, 0.1, 0.4, 0.9, 0.8], ["trade"]),  # other is never listed beside it
        ("other", [0.1, 0.1, 0.1, 0.9, 0.1], ["other"]),
        ("other", [0.1, 0.7, 0.1, 0.9, 0.1], ["other"]),  # clears its bar but not other's
        ("other", [0.1, 0.7, 0.1, 0.6, 0.1], ["health"]),  # beats other: replaces it
    ],
)
def test_topics_are_the_primary_then_every_real_topic_over_its_bar(primary, applies, expected):
    assert choose_topics(primary, np.asarray(applies), BARS, LABELS) == expected


def test_multi_topic_metrics_on_a_worked_example():
    truth = [["trade", "immigration"], ["health"], ["other"], ["geopolitics", "health"]]
    answer = [["trade"], ["health", "trade"], ["other"], ["geopolitics", "health"]]
    m = multi_topic_metrics(truth, answer, None, LABELS)
    # example F1: 2/3, 2/3, 1, 1
    assert m["example_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1 + 1) / 4, abs=1e-4)
    assert m["exact_set"] == 0.5
    assert m["second_topics"] == {"true": 2, "recall": 0.5, "listed": 2, "precision": 0.5}
    assert m["single_topic_kept_single"] == 0.5
    assert m["per_topic"]["trade"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert m["per_topic"]["immigration"]["recall"] == 0.0


def test_per_topic_calibration_error_is_reported_with_probabilities():
    truth = [["trade"], ["health"]] * 50
    applies = np.tile([[0, 0.1, 0, 0, 0.9], [0, 0.9, 0, 0, 0.1]], (50, 1))
    m = multi_topic_metrics(truth, truth, applies, LABELS)
    assert m["per_topic"]["trade"]["ece"] == pytest.approx(0.1, abs=1e-6)
