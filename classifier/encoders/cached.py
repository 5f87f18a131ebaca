"""An encoder that looks in the embedding cache first: retraining embeds only what is new.

``train`` embeds its whole file, the evaluation file and, for the gate, the evaluation file again
with the current model; after a first run all of that is in the cache
(:mod:`classifier.encoders.cache`), so a retrain on the same data plus a few hundred corrections
encodes only those. The cache is keyed by the exact text given and the encoder's cache key, and
an encoder gives a text the same vector whatever else is in its batch, so a model trained from
the cache is the model trained without it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from classifier.encoders.base import Encoder
from classifier.encoders.cache import EmbeddingCache, text_key

logger = logging.getLogger(__name__)


class CachedEncoder:
    """``encoder`` with ``cache`` in front of it; everything but ``encode`` is the encoder's."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache) -> None:
        self._encoder = encoder
        self.cache = cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self._encoder, name)

    def encode(self, texts: Any, *, batch_size: int | None = None) -> Any:
        if isinstance(texts, str) or not len(texts):
            return self._encoder.encode(texts, batch_size=batch_size)
        texts = list(texts)
        keys = [text_key(text) for text in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)))
        hits = len(found)
        missing = list(
            {key: text for key, text in zip(keys, texts, strict=True) if key not in found}.items()
        )
        if missing:
            vectors = np.asarray(
                self._encoder.encode([text for _, text in missing], batch_size=batch_size),
                dtype=np.float32,
            )
            self.cache.put_many([key for key, _ in missing], vectors)
            found.update(zip((key for key, _ in missing), vectors, strict=True))
        logger.info(
            "distinct headlines: %d from the embedding cache, %d encoded", hits, len(missing)
        )
        return np.stack([found[key] for key in keys])
