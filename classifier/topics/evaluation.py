"""Score a saved model on a labelled file."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import numpy as np

from classifier.topics.data import read_labelled
from classifier.topics.metrics import classification_metrics
from classifier.topics.model import TopicModel
from classifier.topics.multi import multi_topic_metrics

logger = logging.getLogger(__name__)


def evaluate(
    model: TopicModel,
    texts: list[str],
    labels: list[str],
    topics: list[list[str]] | None = None,
) -> dict[str, Any]:
    """Metrics over the rows whose label the model knows; the others are counted, not scored.

    With ``topics`` and a row with several of them, ``multi_topic`` scores the whole topic lists
    too (see :func:`classifier.topics.multi.multi_topic_metrics`).
    """
    known = set(model.labels)
    keep = [i for i, label in enumerate(labels) if label in known]
    unknown = Counter(label for label in labels if label not in known)
    if not keep:
        raise ValueError(
            f"none of the labels in the data ({sorted(unknown)}) is known to model {model.version} "
            f"({model.labels})"
        )
    texts_kept = [texts[i] for i in keep]
    truth = [labels[i] for i in keep]
    scores = model.scores(texts_kept)
    proba = scores[:, : len(model.labels)]
    predicted = np.asarray(model.labels, dtype=object)[proba.argmax(axis=1)]
    result = classification_metrics(truth, predicted, proba.max(axis=1), model.labels)
    if topics is not None and any(len(topics[i]) > 1 for i in keep):
        answers = model.describe(scores)
        applies = scores[:, len(model.labels) :] if model.applies is not None else None
        result["multi_topic"] = multi_topic_metrics(
            [topics[i] for i in keep], [a.topics for a in answers], applies, model.labels
        )
    result["model"] = model.version
    result["unknown_labels"] = {"rows": sum(unknown.values()), "labels": dict(unknown)}
    return result


def evaluate_file(
    model: TopicModel, path: str, *, encoding: str = "utf-8-sig", **read: Any
) -> dict[str, Any]:
    """Score ``model`` on a labelled file; ``read`` (columns, ``header``, ``max_chars``) goes to
    :func:`~classifier.topics.data.read_labelled`, whose problem rows are listed as skipped."""
    data = read_labelled(path, encoding=encoding, **read)
    result = evaluate(model, data.texts, data.labels, data.topics)
    result["file"] = str(path)
    result["rows_read"] = data.rows_read
    result["rows_skipped"] = [str(p) for p in data.problems]
    return result
