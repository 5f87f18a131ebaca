"""The encoder behind the embedding cache: the same vectors, and nothing embedded twice."""

from __future__ import annotations

import numpy as np

from classifier.encoders.cache import EmbeddingCache
from classifier.encoders.cached import CachedEncoder
from tests.support import FakeEmbedder


def test_cached_vectors_are_the_encoders_and_a_second_pass_encodes_nothing(tmp_path):
    fake = FakeEmbedder()
    cached = CachedEncoder(fake, EmbeddingCache.for_encoder(tmp_path, fake.info()))
    texts = ["Tariffs rise", "Measles returns", "Tariffs rise", "Army enters the capital"]
    first = cached.encode(texts)
    np.testing.assert_array_equal(first, FakeEmbedder().encode(texts))
    calls = fake.calls
    again = cached.encode(list(reversed(texts)))
    assert fake.calls == calls, "everything was in the cache"
    np.testing.assert_array_equal(again, first[::-1])
    mixed = cached.encode(["Measles returns", "A new headline"])
    assert fake.calls == calls + 1 and cached.cache.misses == 3 + 1
    np.testing.assert_array_equal(mixed[1], FakeEmbedder().encode("A new headline"))


def test_everything_but_encode_is_the_encoders(tmp_path):
    fake = FakeEmbedder(dimension=32)
    cached = CachedEncoder(fake, EmbeddingCache.for_encoder(tmp_path, fake.info()))
    assert cached.dimension == 32 and cached.info() == fake.info()
    np.testing.assert_array_equal(cached.encode("one"), fake.encode("one"))
    assert cached.encode([]).shape == fake.encode([]).shape
