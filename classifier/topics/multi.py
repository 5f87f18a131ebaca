"""Headlines about several topics: training rows for both heads, the ``topics`` rule, scores.

One home for what "a headline has several topics" means, so training, prediction and evaluation
cannot disagree about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from classifier.topics.metrics import expected_calibration_error

#: The label for "none of the topics"; it never sits beside a real topic.
NONE_LABEL = "other"


def expand_rows(
    topics: Sequence[Sequence[str]], groups: Sequence[str] | None
) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """One softmax training row per (headline, topic), weighted 1/n for a headline of n topics.

    Returns the source row of each expanded row, its label, its weight, and its group: the
    headline's own group, or the headline itself, so cross-validation keeps a headline's copies
    in one fold.
    """
    source, labels, weights, out_groups = [], [], [], []
    for i, row in enumerate(topics):
        for topic in row:
            source.append(i)
            labels.append(topic)
            weights.append(1.0 / len(row))
            out_groups.append(groups[i] if groups is not None else f"row-{i}")
    return np.asarray(source), labels, np.asarray(weights), out_groups


def topic_matrix(topics: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """0/1 matrix: does each headline have each label among its topics."""
    index = {label: k for k, label in enumerate(labels)}
    matrix = np.zeros((len(topics), len(labels)), dtype=bool)
    for i, row in enumerate(topics):
        for topic in row:
            if topic in index:
                matrix[i, index[topic]] = True
    return matrix


def choose_topics(
    primary: str, applies: np.ndarray, thresholds: np.ndarray, labels: Sequence[str]
) -> list[str]:
    """The primary topic, then every real topic whose probability clears its threshold.

    When the primary topic is ``other``, a real topic replaces it only if it also beats
    ``other``'s own probability of applying: "other" means none of the topics, so a real topic
    and ``other`` are never listed together, and a faint topic does not overturn the primary one.
    """
    order = np.argsort(-applies)
    real = [
        k
        for k in order
        if labels[k] != NONE_LABEL and labels[k] != primary and applies[k] >= thresholds[k]
    ]
    if primary != NONE_LABEL:
        return [primary] + [labels[k] for k in real]
    if NONE_LABEL in labels:
        bar = applies[list(labels).index(NONE_LABEL)]
        real = [k for k in real if applies[k] > bar]
    return [labels[k] for k in real] or [NONE_LABEL]


def multi_topic_metrics(
    truth: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    applies: np.ndarray | None,
    labels: Sequence[str],
) -> dict[str, Any]:
    """Example-based F1, exact sets, per-topic "applies" scores and calibration, second topics.

    Second topics are the topics after the first of a row, in truth and in the answer: their
    recall says how many of the extra true topics were listed anywhere, their precision how many
    of the extra listed topics were true.
    """
    n = len(truth)
    if len(predicted) != n:
        raise ValueError(f"{len(predicted)} answers for {n} rows")
    example_f1 = [
        2 * len(set(t) & set(p)) / (len(set(t)) + len(set(p)))
        for t, p in zip(truth, predicted, strict=True)
    ]
    second_true = sum(len(t) - 1 for t in truth)
    second_found = sum(len(set(p) & set(t[1:])) for t, p in zip(truth, predicted, strict=True))
    second_listed = sum(len(p) - 1 for p in predicted)
    second_right = sum(len(set(p[1:]) & set(t)) for t, p in zip(truth, predicted, strict=True))
    single = [len(p) == 1 for t, p in zip(truth, predicted, strict=True) if len(t) == 1]
    true_m, pred_m = topic_matrix(truth, labels), topic_matrix(predicted, labels)
    per_topic = {}
    for k, label in enumerate(labels):
        tp = int(np.count_nonzero(true_m[:, k] & pred_m[:, k]))
        listed, support = int(pred_m[:, k].sum()), int(true_m[:, k].sum())
        entry = {
            "precision": round(tp / listed, 4) if listed else 0.0,
            "recall": round(tp / support, 4) if support else 0.0,
            "f1": round(2 * tp / (listed + support), 4) if listed + support else 0.0,
            "support": support,
        }
        if applies is not None:
            entry["ece"] = round(expected_calibration_error(applies[:, k], true_m[:, k]), 4)
        per_topic[label] = entry
    return {
        "n": n,
        "example_f1": round(float(np.mean(example_f1)), 4) if n else 0.0,
        "exact_set": round(
            float(np.mean([set(t) == set(p) for t, p in zip(truth, predicted, strict=True)])), 4
        ),
        "primary_in_truth": round(
            float(np.mean([p[0] in t for t, p in zip(truth, predicted, strict=True)])), 4
        ),
        "rows_with_several_topics": sum(len(t) > 1 for t in truth),
        "second_topics": {
            "true": second_true,
            "recall": round(second_found / second_true, 4) if second_true else None,
            "listed": second_listed,
            "precision": round(second_right / second_listed, 4) if second_listed else None,
        },
        "single_topic_kept_single": round(float(np.mean(single)), 4) if single else None,
        "per_topic": per_topic,
    }
