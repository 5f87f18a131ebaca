"""The plain function behind POST /v1/cluster: headlines in, a JSON-ready description out.

The service imports this module by name and leaves the route out when it is missing
(``classifier.service._cluster_blueprint``), so it keeps this path and imports only what
clustering itself needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from classifier.clustering.estimator import HeadlineClusterer
from classifier.clustering.levels import DEFAULT_LEVEL
from classifier.clustering.summary import TopicSource, describe
from classifier.errors import InputError
from classifier.text import check_headlines


class Encoder(Protocol):
    """Anything that turns headlines into one embedding row each."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


class TopicPredictor(TopicSource, Protocol):
    """What clustering needs of a topic model: its encoder and one probability row per headline."""

    @property
    def embedder(self) -> Encoder: ...

    def predict_proba(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray: ...


def cluster_headlines(
    texts: Sequence[str],
    model: TopicPredictor | None = None,
    *,
    level: str = DEFAULT_LEVEL,
    embeddings: np.ndarray | None = None,
    embedder: Encoder | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Cluster headlines and describe every cluster; the answer is ready for ``json.dumps``.

    ``model`` supplies the encoder and each cluster's topic shares; pass ``embeddings`` to skip
    encoding, and ``embedder`` instead of a model to cluster without topics. Extra keyword
    arguments are :class:`HeadlineClusterer` parameters. Raises ``InputError`` (a ValueError) for
    blank or non-text headlines and ``ValueError`` for bad parameters or embeddings.
    """
    if isinstance(texts, str):
        raise InputError("expected a list of headlines, got a single string")
    texts = check_headlines(texts)
    if not texts:
        raise InputError("no headlines to cluster")
    encoder = embedder if embedder is not None else (model.embedder if model is not None else None)
    if embeddings is None:
        if encoder is None:
            raise ValueError("cluster_headlines needs a model, an embedder or embeddings")
        embeddings = encoder.encode(texts)
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or embeddings.shape[0] != len(texts):
        raise InputError(f"{embeddings.shape[0]} embeddings for {len(texts)} headlines")
    topics = None
    if model is not None:
        proba = model.predict_proba(texts, embeddings)
        topics = [model.labels[i] for i in np.argmax(proba, axis=1)]
    clusterer = HeadlineClusterer(level=level, **params).fit(embeddings, texts=texts, topics=topics)
    return describe(clusterer, model=model)
