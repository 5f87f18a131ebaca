"""A trained topic model: encoder + lexical features + calibrated head, predicting from text."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from classifier.encoders.base import Encoder
from classifier.errors import InputError
from classifier.text import check_headlines
from classifier.topics.features import LexicalFeatures
from classifier.topics.head import TopicHead

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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "topic": self.topic,
            "confidence": self.confidence,
            "scores": self.scores,
            "topics": self.topics,
        }
        if self.model is not None:
            out["model"] = self.model
        out.update(self.extra)
        return out


class TopicModel:
    """Classify headlines into topics; accepts one string or a list and answers in kind.

    ``embeddings=`` lets callers that already encoded the headlines (the tagger's cache, the
    service's micro-batcher, the clusterer) skip the encoder.
    """

    def __init__(
        self,
        head: TopicHead,
        lexical: LexicalFeatures,
        embedder: Encoder,
        *,
        version: str | None = None,
        manifest: dict[str, Any] | None = None,
    ) -> None:
        self.head = head
        self.lexical = lexical
        self.embedder = embedder
        self.version = version
        self.manifest = manifest or {}

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.head.classes_]

    @property
    def thresholds(self) -> dict[str, float]:
        return {
            label: float(t) for label, t in zip(self.labels, self.head.thresholds_, strict=True)
        }

    def predict_proba(
        self, texts: str | Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """One row of topic probabilities per headline; one string is one headline (one row)."""
        texts = check_headlines([texts] if isinstance(texts, str) else texts)
        if embeddings is None:
            embeddings = self.embedder.encode(texts)
        embeddings = np.asarray(embeddings, dtype=np.float32).reshape(len(texts), -1)
        if embeddings.shape[0] != len(texts):
            raise InputError(f"{embeddings.shape[0]} embeddings for {len(texts)} headlines")
        return self.head.predict_proba(self.lexical.combine(embeddings, texts))

    def predict(
        self, texts: str | Sequence[str], embeddings: np.ndarray | None = None
    ) -> Prediction | list[Prediction]:
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        if not batch:
            return []
        proba = self.predict_proba(batch, embeddings)
        predictions = self.describe(proba)
        return predictions[0] if single else predictions

    def describe(self, proba: np.ndarray) -> list[Prediction]:
        """Turn probability rows into predictions with the top topic and every topic over its bar."""
        labels = self.labels
        thresholds = self.head.thresholds_
        out = []
        for row in proba:
            top = int(np.argmax(row))
            over = [k for k in np.argsort(-row) if k == top or row[k] >= thresholds[k]]
            out.append(
                Prediction(
                    topic=labels[top],
                    confidence=round(float(row[top]), 4),
                    scores={
                        label: round(float(p), 4) for label, p in zip(labels, row, strict=True)
                    },
                    topics=[labels[k] for k in over],
                    model=self.version,
                )
            )
        return out
