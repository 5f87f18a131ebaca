"""No work twice: each distinct headline is embedded once per run, and the cache spans runs."""

from __future__ import annotations

import numpy as np

from classifier.tagging import normalise_headline, open_cache, tag_file
from tests.conftest import FakeEmbedder
from tests.tagging.support import CountingEmbedder, archive_rows, read_rows, write_rows


def test_identical_headlines_are_embedded_once_per_run(tmp_path, model):
    rows = archive_rows(1200)  # 400 distinct headlines, the rest case/space variants
    source = write_rows(tmp_path / "in.csv", rows)
    summary = tag_file(source, tmp_path / "out.csv", model, chunk_size=100)
    distinct = {normalise_headline(r["headline"]) for r in rows}
    assert model.embedder.texts == len(distinct) == summary.stats["encoded"]
    assert summary.stats["reused"] == len(rows) - len(distinct)
    out = read_rows(tmp_path / "out.csv")
    by_text = {}
    for row in out:
        by_text.setdefault(normalise_headline(row["headline"]), set()).add(row["confidence"])
    assert all(len(values) == 1 for values in by_text.values())


def test_a_small_memo_forgets_but_never_mislabels(tmp_path, model, fake_store):
    rows = archive_rows(900)
    source = write_rows(tmp_path / "in.csv", rows)
    tag_file(source, tmp_path / "full.csv", model, chunk_size=50)
    small = fake_store.load("vfake-1", embedder=CountingEmbedder())
    tag_file(source, tmp_path / "small.csv", small, chunk_size=50, memo_size=20)
    assert (tmp_path / "small.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert small.embedder.texts > model.embedder.texts  # forgotten headlines were embedded again


def test_the_embedding_cache_lets_a_new_model_skip_the_encoder(tmp_path, fake_store):
    rows = archive_rows(500)
    source = write_rows(tmp_path / "in.csv", rows)
    first = fake_store.load("vfake-1", embedder=CountingEmbedder())
    cache = open_cache(tmp_path / "cache", first)
    tag_file(source, tmp_path / "one.csv", first, cache=cache)
    cache.close()
    distinct = len({normalise_headline(r["headline"]) for r in rows})
    assert first.embedder.texts == distinct

    second = fake_store.load("vfake-2", embedder=CountingEmbedder())
    cache = open_cache(tmp_path / "cache", second)
    summary = tag_file(source, tmp_path / "two.csv", second, cache=cache)
    cache.close()
    assert second.embedder.texts == 0
    assert summary.stats["cache_hits"] == distinct
    uncached = fake_store.load("vfake-2", embedder=CountingEmbedder())
    tag_file(source, tmp_path / "three.csv", uncached)
    assert (tmp_path / "two.csv").read_bytes() == (tmp_path / "three.csv").read_bytes()


def test_the_cache_keeps_encoders_apart(tmp_path, model):
    cache = open_cache(tmp_path / "cache", model)
    cache.put_many([b"k" * 16], np.ones((1, 64), dtype=np.float32))
    cache.close()
    other = FakeEmbedder(salt="other")
    info = other.info()
    from classifier.encoders.cache import EmbeddingCache

    separate = EmbeddingCache(tmp_path / "cache", info.fingerprint, info.dimension)
    assert separate.get_many([b"k" * 16]) == {}
    separate.close()
    assert len(list((tmp_path / "cache").glob("embeddings-*.sqlite"))) == 2
