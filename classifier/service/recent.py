"""The embeddings of recent headlines, so that a headline sent again is not encoded again.

News traffic repeats itself: the same wire headline arrives from many clients, a page re-asks
what it showed a second ago, and one batch may hold the same headline twice. Each worker keeps
the vectors of its last ``size`` distinct headlines (``HEADLINE_TOPICS_RECENT_HEADLINES``) in a
bounded LRU, used only by the micro-batcher's one thread, so it needs no lock.

Keys are the encoder's cache key (:attr:`~classifier.encoders.base.EncoderInfo.cache_key`) and
a hash of the headline as the tagger compares headlines
(:func:`~classifier.tagging.normalise_headline`: single spaces, lower case; the bundled encoder
is uncased, so this changes no vector). The
encoder is part of the key because a vector means nothing to a head trained on another one; a
hot reload of the head keeps the cache, since the vectors do not depend on it. Only vectors
are kept, never answers: the head runs on every request, with the model that request holds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from classifier.encoders.cache import text_key
from classifier.tagging import normalise_headline

Encode = Callable[[list[str]], np.ndarray]


class RecentEmbeddings:
    """A bounded LRU of ``key -> vector`` in front of an encode function (``size`` 0: off)."""

    def __init__(self, size: int, fingerprint: str) -> None:
        if size < 0:
            raise ValueError(f"size must not be negative, not {size}")
        self.size = size
        self.fingerprint = fingerprint
        self._vectors: OrderedDict[tuple[str, bytes], np.ndarray] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._vectors)

    def key(self, text: str) -> tuple[str, bytes]:
        return self.fingerprint, text_key(normalise_headline(text))

    def encode(self, encode: Encode, texts: Sequence[str]) -> tuple[np.ndarray, int, int]:
        """(vectors of ``texts``, hits, headlines encoded): each distinct headline that is not
        kept is encoded once, in one call to ``encode`` (none when all are kept), and kept.
        A hit is a headline answered without encoding it: kept, or a repeat in ``texts``."""
        texts = list(texts)
        if self.size == 0:
            self.misses += len(texts)
            return np.asarray(encode(texts)), 0, len(texts)
        keys = [self.key(text) for text in texts]
        found: dict[tuple[str, bytes], np.ndarray] = {}
        wanted: dict[tuple[str, bytes], str] = {}  # first text of each missing key, in order
        for key, text in zip(keys, texts, strict=True):
            if key in found or key in wanted:
                continue
            vector = self._vectors.get(key)
            if vector is None:
                wanted[key] = text
            else:
                self._vectors.move_to_end(key)
                found[key] = vector
        if wanted:
            vectors = np.asarray(encode(list(wanted.values())))
            if vectors.ndim != 2 or vectors.shape[0] != len(wanted):
                raise RuntimeError(
                    f"encoder returned shape {vectors.shape} for {len(wanted)} headlines"
                )
            for key, vector in zip(wanted, vectors, strict=True):
                found[key] = self._vectors[key] = vector.copy()  # not a view of the batch
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        hits = len(texts) - len(wanted)
        self.hits += hits
        self.misses += len(wanted)
        return np.stack([found[key] for key in keys]), hits, len(wanted)
