"""A trained topic model: encoder + lexical features + calibrated head, predicting from text."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from classifier.config import UNCERTAIN_BELOW
from classifier.encoders.base import Encoder
from classifier.errors import InputError
from classifier.text import check_headlines
from classifier.topics.applies import AppliesHead
from classifier.topics.features import LexicalFeatures
from classifier.topics.head import TopicHead
from classifier.topics.multi import NONE_LABEL, choose_topics
from classifier.topics.neighbours import NeighbourIndex
from classifier.topics.zeroshot import ZeroShotTopics

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    """Everything a caller needs about one headline."""

    topic: str
    confidence: float
    scores: dict[str, float]
    topics: list[str]
    model: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Calibrated probability, per topic, that the headline is about it (None: an older model).
    applies: dict[str, float] | None = None
    #: Whether ``confidence`` is under the bar the caller set (see :data:`UNCERTAIN_BELOW`).
    uncertain: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "topic": self.topic,
            "confidence": self.confidence,
            "scores": self.scores,
            "topics": self.topics,
            "uncertain": self.uncertain,
        }
        if self.applies is not None:
            out["applies"] = self.applies
        if self.model is not None:
            out["model"] = self.model
        out.update(self.extra)
        return out


class TopicModel:
    """Classify headlines into topics; accepts one string or a list and answers in kind.

    ``embeddings=`` lets callers that already encoded the headlines (the tagger's cache, the
    service's micro-batcher, the clusterer) skip the encoder. ``applies`` is the per-topic head
    that decides ``topics``; models saved before it existed have none and list topics by the
    softmax head's thresholds, as they always did. ``neighbours`` is the index of the training
    headlines that explanations show (:mod:`classifier.topics.explain`); None for a model saved
    without one. ``zero_shot`` scores topics known only by a description
    (:mod:`classifier.topics.zeroshot`); every answer of such a model names them.
    """

    def __init__(
        self,
        head: TopicHead,
        lexical: LexicalFeatures,
        embedder: Encoder,
        *,
        applies: AppliesHead | None = None,
        neighbours: NeighbourIndex | None = None,
        version: str | None = None,
        manifest: dict[str, Any] | None = None,
        zero_shot: ZeroShotTopics | None = None,
    ) -> None:
        self.head = head
        self.lexical = lexical
        self.embedder = embedder
        self.applies = applies
        self.neighbours = neighbours
        self.zero_shot = zero_shot
        self.version = version
        self.manifest = manifest or {}

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.head.classes_]

    @property
    def zero_shot_labels(self) -> list[str]:
        """Topics scored from a description only (none for most models)."""
        return self.zero_shot.names if self.zero_shot is not None else []

    @property
    def thresholds(self) -> dict[str, float]:
        return {
            label: float(t) for label, t in zip(self.labels, self.head.thresholds_, strict=True)
        }

    def features(self, texts: str | Sequence[str], embeddings: np.ndarray | None = None):
        """What both heads read: the embedding beside the TF-IDF terms, one row per headline."""
        texts, embeddings = self._embedded(texts, embeddings)
        return self.lexical.combine(embeddings, texts)

    def _embedded(
        self, texts: str | Sequence[str], embeddings: np.ndarray | None
    ) -> tuple[list[str], np.ndarray]:
        """The checked headlines and one float32 embedding row each (encoded when not given)."""
        texts = check_headlines([texts] if isinstance(texts, str) else texts)
        if embeddings is None:
            embeddings = self.embedder.encode(texts)
        embeddings = np.asarray(embeddings, dtype=np.float32).reshape(len(texts), -1)
        if embeddings.shape[0] != len(texts):
            raise InputError(f"{embeddings.shape[0]} embeddings for {len(texts)} headlines")
        if embeddings.shape[1] + self.lexical.size != self.head.n_features_in_:
            raise InputError(
                f"embeddings of {embeddings.shape[1]} dimensions; the model was trained on "
                f"{self.head.n_features_in_ - self.lexical.size}"
            )
        return texts, embeddings

    def predict_proba(
        self, texts: str | Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """One row of topic probabilities per headline; one string is one headline (one row)."""
        return self.head.predict_proba(self.features(texts, embeddings))

    def predict_applies(
        self, texts: str | Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray | None:
        """Per topic, the calibrated probability that each headline is about it (rows need not
        sum to 1); None for a model without the per-topic head."""
        if self.applies is None:
            return None
        return self.applies.predict_proba(self.features(texts, embeddings))

    def scores(
        self, texts: str | Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """Everything :meth:`describe` needs, one row per headline, features computed once.

        The softmax probabilities, followed by the "applies" probabilities when the model has
        that head: one array, so callers that batch, slice and hand rows on (the service's
        micro-batcher, the tagger) carry both without knowing about either. The scores of
        zero-shot topics, if any, come last.
        """
        texts, embeddings = self._embedded(texts, embeddings)
        # what the heads' predict_proba(self.features(...)) gives, without stacking the sparse
        # features and without scikit-learn's input checks: those cost ~4 ms a call, most of
        # the price of one headline in the service (docs/speed.md)
        dense = embeddings * np.float32(self.lexical.embedding_weight)
        lexical = self.lexical.transform(texts)
        split = dense.shape[1]

        def products(coef: np.ndarray) -> np.ndarray:
            # einsum sums each row in one fixed order whatever the number of rows (a BLAS
            # product picks its kernel by size): the same answer whatever the batch
            out = np.einsum("ij,kj->ik", dense, coef[:, :split], dtype=np.float64)
            out += lexical @ coef[:, split:].T
            return out

        parts = [self.head.proba_from_products(products(self.head.coef_))]
        if self.applies is not None:
            parts.append(self.applies.proba_from_products(products(self.applies.coef_)))
        if self.zero_shot is not None:
            parts.append(self.zero_shot.predict_proba(embeddings))
        return parts[0] if len(parts) == 1 else np.hstack(parts)

    def predict(
        self,
        texts: str | Sequence[str],
        embeddings: np.ndarray | None = None,
        *,
        uncertain_below: float = UNCERTAIN_BELOW,
    ) -> Prediction | list[Prediction]:
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        if not batch:
            return []
        predictions = self.describe(self.scores(batch, embeddings), uncertain_below=uncertain_below)
        return predictions[0] if single else predictions

    def describe(
        self, scores: np.ndarray, *, uncertain_below: float = UNCERTAIN_BELOW
    ) -> list[Prediction]:
        """Turn rows of :meth:`scores` (or of :meth:`predict_proba`) into predictions: the top
        topic and every topic that applies.

        ``uncertain`` marks answers whose calibrated confidence is under ``uncertain_below``:
        those are the ones a person should check, and leaving them out buys accuracy on the
        rest (docs/models.md has the curve).
        """
        labels = self.labels
        thresholds = self.head.thresholds_
        scores = np.asarray(scores)
        k, zero_shot = len(labels), self.zero_shot_labels
        width = scores.shape[1] - len(zero_shot)
        if zero_shot and width not in (k, 2 * k):  # rows of predict_proba: no zero-shot columns
            zero_shot, width = [], scores.shape[1]
        proba = scores[:, :k]
        applies = scores[:, k : 2 * k] if width == 2 * k else None
        extra = {"zero_shot": list(zero_shot)} if zero_shot else {}
        out = []
        for i, row in enumerate(proba):
            top = int(np.argmax(row))
            if applies is None:
                over = [k for k in np.argsort(-row) if k == top or row[k] >= thresholds[k]]
                topics = [labels[k] for k in over]
                applies_row = None
            else:
                topics = choose_topics(labels[top], applies[i], self.applies.thresholds_, labels)
                applies_row = {
                    label: round(float(p), 4) for label, p in zip(labels, applies[i], strict=True)
                }
            confidence = round(float(row[top]), 4)
            if zero_shot:
                topics, applies_row = _with_zero_shot(
                    topics, applies_row, zero_shot, scores[i, width:]
                )
            out.append(
                Prediction(
                    topic=labels[top],
                    confidence=confidence,
                    scores={
                        label: round(float(p), 4) for label, p in zip(labels, row, strict=True)
                    },
                    topics=topics,
                    model=self.version,
                    applies=applies_row,
                    # judged on the confidence the answer shows, so the two never disagree
                    uncertain=confidence < uncertain_below,
                    extra=dict(extra),
                )
            )
        return out


def _with_zero_shot(
    topics: list[str],
    applies: dict[str, float] | None,
    names: list[str],
    scores: np.ndarray,
) -> tuple[list[str], dict[str, float] | None]:
    """A zero-shot topic whose score clears 0.5 is listed like a second topic: after the others,
    or in place of ``other`` (which never sits beside a real topic)."""
    found = [name for name, p in zip(names, scores, strict=True) if p >= 0.5]
    if found:
        topics = found if topics == [NONE_LABEL] else topics + found
    if applies is not None:
        applies = {**applies, **{n: round(float(p), 4) for n, p in zip(names, scores, strict=True)}}
    return topics, applies
