"""Topics known only by a description: a zero-shot start, clearly marked, until examples exist.

A user who wants "climate" before labelling anything writes what the topic covers and a handful
of seed phrases. Each is embedded with the model's own encoder; a headline's score for the topic
is its highest cosine similarity to any of them. Nobody has labelled a headline of the topic, so
the score is not a calibrated probability: its bar is set on the training headlines, which are
about the other topics, at the similarity only :data:`FALSE_RATE` of them reach, and the score is
a logistic of the distance to that bar (0.5 on it, about 0.05 at the training headlines' median).

Everything that carries such a topic says so: the manifest lists it under ``zero_shot`` with its
description, seeds and bar, and every answer of the model names its zero-shot topics
(``Prediction.extra["zero_shot"]``). Training again with real examples of the topic (a ``topic``
or ``topics`` cell) makes it an ordinary topic of both heads; the description is then dropped
(:func:`classifier.topics.training.fit_model`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifier.text import check_headlines
from classifier.topics.data import TOPIC_SEPARATOR
from classifier.topics.multi import NONE_LABEL

logger = logging.getLogger(__name__)

#: Share of the training headlines (about other topics) whose similarity sets the bar.
FALSE_RATE = 0.01
#: How many scale units the bar sits above the training headlines' median similarity.
MEDIAN_UNITS = 3.0
#: Most seed phrases a topic may have.
MAX_SEEDS = 50
NOTE = (
    "zero-shot: scored by similarity to the description and seed phrases, not trained on "
    "labelled examples; train with examples of the topic to replace it"
)


@dataclass(frozen=True)
class TopicDescription:
    """A topic without examples: its name, what it covers, and a few phrases typical of it."""

    name: str
    description: str
    seeds: tuple[str, ...] = ()

    def checked(self) -> TopicDescription:
        """Itself, or ValueError saying what is wrong with it."""
        name = self.name.strip()
        if not name or TOPIC_SEPARATOR in name or name != self.name:
            raise ValueError(
                f"a new topic's name must be a word without {TOPIC_SEPARATOR!r} or spaces around "
                f"it, not {self.name!r}"
            )
        if name == NONE_LABEL:
            raise ValueError(f"{NONE_LABEL!r} means none of the topics; name the new topic")
        if not self.description.strip():
            raise ValueError(f"new topic {name!r} needs a description (--describe)")
        if len(self.seeds) > MAX_SEEDS:
            raise ValueError(f"new topic {name!r}: at most {MAX_SEEDS} seed phrases")
        check_headlines([self.description, *self.seeds])
        return self

    def phrases(self) -> list[str]:
        return [" ".join(p.split()) for p in (self.description, *self.seeds)]


class ZeroShotTopics:
    """Score headlines for topics known by description only (module docstring).

    ``vectors`` holds one row per phrase, ``owner`` the topic index of each row; ``bars`` and
    ``scales`` are per topic.
    """

    def __init__(
        self,
        topics: Sequence[TopicDescription],
        vectors: np.ndarray,
        owner: np.ndarray,
        bars: np.ndarray,
        scales: np.ndarray,
    ) -> None:
        self.topics = list(topics)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.owner = np.asarray(owner, dtype=np.int64)
        self.bars = np.asarray(bars, dtype=np.float64)
        self.scales = np.asarray(scales, dtype=np.float64)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.topics]

    @classmethod
    def fit(
        cls, topics: Sequence[TopicDescription], encoder: Any, background: np.ndarray
    ) -> ZeroShotTopics:
        """Embed each topic's phrases with ``encoder`` and set its bar on ``background``, the
        embeddings of the training headlines (about the other topics)."""
        topics = sorted((t.checked() for t in topics), key=lambda t: t.name)  # manifest order
        names = [t.name for t in topics]
        if len(set(names)) != len(names):
            raise ValueError(f"a new topic is named twice: {names}")
        phrases, owner = [], []
        for k, topic in enumerate(topics):
            phrases += topic.phrases()
            owner += [k] * len(topic.phrases())
        vectors = _unit(np.asarray(encoder.encode(phrases), dtype=np.float32))
        model = cls(topics, vectors, np.asarray(owner), np.zeros(len(topics)), np.ones(len(topics)))
        sims = model.similarity(np.asarray(background, dtype=np.float32))
        bars = np.quantile(sims, 1.0 - FALSE_RATE, axis=0)
        median = np.median(sims, axis=0)
        model.bars = bars
        model.scales = np.maximum((bars - median) / MEDIAN_UNITS, 1e-3)
        for topic, bar in zip(topics, bars, strict=True):
            logger.info("zero-shot topic %s: similarity bar %.3f", topic.name, bar)
        return model

    def similarity(self, embeddings: np.ndarray) -> np.ndarray:
        """(headlines, topics): each headline's highest cosine to any phrase of each topic."""
        sims = _unit(np.asarray(embeddings, dtype=np.float32)) @ self.vectors.T
        out = np.full((sims.shape[0], len(self.topics)), -1.0)
        for k in range(len(self.topics)):
            out[:, k] = sims[:, self.owner == k].max(axis=1)
        return out

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """(headlines, topics): the score of the module docstring; 0.5 on the bar."""
        z = (self.similarity(embeddings) - self.bars) / self.scales
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def manifest_entry(self) -> dict[str, Any]:
        """What the manifest says of each zero-shot topic, so the marking travels with it."""
        return {
            t.name: {
                "description": t.description,
                "seeds": list(t.seeds),
                "similarity_bar": round(float(bar), 6),
                "scale": round(float(scale), 6),
                "examples": 0,
                "note": NOTE,
            }
            for t, bar, scale in zip(self.topics, self.bars, self.scales, strict=True)
        }

    def state(self) -> dict[str, np.ndarray]:
        return {
            "zs_vectors": self.vectors,
            "zs_owner": self.owner,
            "zs_bars": self.bars,
            "zs_scales": self.scales,
        }

    @classmethod
    def from_state(cls, entry: dict[str, Any], arrays: dict[str, np.ndarray]) -> ZeroShotTopics:
        """The inverse of :meth:`manifest_entry` and :meth:`state` (names in manifest order)."""
        topics = [
            TopicDescription(name, str(e["description"]), tuple(e.get("seeds", ())))
            for name, e in entry.items()
        ]
        model = cls(
            topics, arrays["zs_vectors"], arrays["zs_owner"], arrays["zs_bars"], arrays["zs_scales"]
        )
        if (
            model.vectors.ndim != 2
            or len(model.owner) != len(model.vectors)
            or len(model.bars) != len(topics)
            or len(model.scales) != len(topics)
            or set(model.owner.tolist()) != set(range(len(topics)))
        ):
            raise ValueError("zero-shot arrays do not match the topics of the manifest")
        return model


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)
