"""Which encoder is this: fingerprints, identity and cache keys, and heads across backends.

The values checked here name files on disk (embedding caches, export folders, manifests, resume
records), so they must not change when the code that computes them moves.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import classifier
from classifier.encoders import (
    DEFAULT_MODEL_NAME,
    EncoderError,
    EncoderInfo,
    backend_for,
    embedder_for,
    make_embedder,
)
from classifier.encoders.cache import EmbeddingCache
from classifier.encoders.exports import encoder_fingerprint
from classifier.encoders.onnx import OnnxEncoder
from classifier.encoders.torch import TorchEncoder
from classifier.tagging.tagger import encoder_id, open_cache
from classifier.topics.store import ModelError, ModelStore, check_encoder
from classifier.topics.training import train_model
from tests.encoders.support import HEADLINES
from tests.support import FakeEmbedder, load_project_data

SOURCE = "ab" * 32


# -- identity and cache keys (fast) ---------------------------------------------------------------
def test_the_identity_and_cache_key_keep_the_values_already_on_disk():
    torch_info = EncoderInfo("m", SOURCE, 384, "torch", SOURCE)
    assert torch_info.id == f"torch:{SOURCE[:16]}" and torch_info.cache_key == SOURCE
    for backend in ("onnx", "onnx-int8"):
        info = EncoderInfo("m", encoder_fingerprint(SOURCE, backend), 384, backend, SOURCE)
        assert info.id == f"{backend}:{info.fingerprint[:16]}"
        expected = hashlib.sha256(f"{info.fingerprint}:{backend}".encode()).hexdigest()
        assert info.cache_key == expected  # onnx too, although its fingerprint is torch's


def test_the_tagger_keys_its_cache_and_its_runs_by_the_encoder_identity(tmp_path):
    class Model:
        embedder = FakeEmbedder()

    info = Model.embedder.info()
    cache = open_cache(tmp_path, Model())
    try:
        assert cache.path.name == f"embeddings-{info.fingerprint[:16]}-64.sqlite"
        assert cache.fingerprint == info.cache_key
    finally:
        cache.close()
    assert open_cache(None, Model()) is None
    assert encoder_id(Model()) == info.id == f"torch:{info.fingerprint[:16]}"
    again = EmbeddingCache.for_encoder(tmp_path, info)
    assert again.path == cache.path
    again.close()


@pytest.mark.parametrize(
    ("recorded", "match"),
    [
        ({"fingerprint": SOURCE, "dimension": 384, "backend": "torch"}, "same"),
        ({"fingerprint": SOURCE, "dimension": 384}, "same"),  # before backends existed
        ({"fingerprint": SOURCE, "dimension": 64}, None),
        ({"fingerprint": "cd" * 32, "dimension": 384, "source_fingerprint": SOURCE}, "same source"),
        ({"fingerprint": "cd" * 32, "dimension": 384, "backend": "onnx-int8"}, None),
        ({"fingerprint": "cd" * 32, "dimension": 384}, None),
    ],
)
def test_a_recorded_encoder_is_compared_by_vectors_then_by_source(recorded, match):
    onnx = EncoderInfo("m", SOURCE, 384, "onnx", SOURCE)
    assert onnx.compare(recorded) == match
    int8 = EncoderInfo("m", encoder_fingerprint(SOURCE, "onnx-int8"), 384, "onnx-int8", SOURCE)
    legacy_torch = {"fingerprint": SOURCE, "dimension": 384}
    assert int8.compare(legacy_torch) == "same source"
    assert int8.compare({**legacy_torch, "backend": "onnx-int8"}) is None


# -- real encoders ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_fingerprints_tell_int8_apart_and_fp32_shares_torch(fp32, int8, real_embedder):
    torch_info = real_embedder.info()
    assert torch_info.backend == "torch"
    assert fp32.info().fingerprint == torch_info.fingerprint
    assert int8.info().fingerprint == encoder_fingerprint(torch_info.fingerprint, "onnx-int8")
    assert int8.info().fingerprint != torch_info.fingerprint
    for encoder in (fp32, int8):
        info = encoder.info()
        assert (info.name, info.dimension) == (DEFAULT_MODEL_NAME, 384)
        assert info.to_dict()["backend"] == encoder.backend
        assert encoder.name == DEFAULT_MODEL_NAME and encoder.path == real_embedder.path


@pytest.mark.slow
def test_a_torch_head_serves_equal_on_fp32_and_close_on_int8_with_a_warning(
    tmp_path, real_embedder, fp32, int8, caplog
):
    rows = load_project_data()[::10]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    model, manifest = train_model(
        texts, labels, real_embedder, head_params={"calibration_folds": 2}, source="test"
    )
    assert manifest["embedding"]["backend"] == "torch"
    assert manifest["embedding"]["source_fingerprint"] == manifest["embedding"]["fingerprint"]
    store = ModelStore(tmp_path / "models")
    store.save(model, manifest, promote=True)
    probe = HEADLINES[:60]
    expected = model.predict_proba(probe)
    with caplog.at_level("WARNING", logger="classifier.topics.store"):
        served = store.load(embedder=fp32)
    assert "embeddings of the same encoder" not in caplog.text  # equal vectors: no warning
    np.testing.assert_allclose(served.predict_proba(probe), expected, atol=1e-4)

    with caplog.at_level("WARNING", logger="classifier.topics.store"):
        quantised = store.load(embedder=int8)
    assert "trained on torch embeddings and now gets onnx-int8 embeddings" in caplog.text
    same_top = np.mean(quantised.predict_proba(probe).argmax(1) == expected.argmax(1))
    # 99.1% of top topics on NYT headlines (docs/speed.md); here 60 of 60: at most one may differ
    assert same_top >= 0.98, same_top


@pytest.mark.slow
def test_a_head_trained_on_int8_records_it_and_is_served_with_int8_by_default(
    tmp_path, int8, onnx_cache, monkeypatch
):
    rows = load_project_data()[::60]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    model, manifest = train_model(texts, labels, int8, head_params={"calibration_folds": 2})
    recorded = manifest["embedding"]
    assert recorded["backend"] == "onnx-int8" and recorded["fingerprint"] == int8.info().fingerprint
    assert recorded["source_fingerprint"] == int8.source_fingerprint != recorded["fingerprint"]
    monkeypatch.delenv("HEADLINE_TOPICS_ENCODER_BACKEND", raising=False)
    monkeypatch.setenv("HEADLINE_TOPICS_ENCODER_CACHE", str(onnx_cache))
    assert backend_for(manifest) == "onnx-int8"
    assert backend_for(manifest, "torch") == "torch"
    chosen = embedder_for(manifest)
    assert isinstance(chosen, OnnxEncoder) and chosen.backend == "onnx-int8"
    assert chosen.cache_dir == onnx_cache
    store = ModelStore(tmp_path / "models")
    store.save(model, manifest, promote=True)
    loaded = store.load()  # no embedder given: the manifest's backend, from the shared cache
    assert loaded.embedder.info().backend == "onnx-int8"
    np.testing.assert_allclose(
        loaded.predict_proba(HEADLINES[:20]), model.predict_proba(HEADLINES[:20]), atol=1e-5
    )


@pytest.mark.slow
def test_another_encoder_is_refused_whatever_the_backend(int8):
    rows = load_project_data()[::80]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    fake = FakeEmbedder(dimension=384)
    model, manifest = train_model(texts, labels, fake, head_params={"calibration_folds": 2})
    with pytest.raises(ModelError, match=r"\(torch, fingerprint .*\(onnx-int8, fingerprint"):
        check_encoder(manifest, int8, manifest["version"])


def test_hub_names_and_unknown_backends_are_refused():
    with pytest.raises(EncoderError, match="never downloaded"):
        OnnxEncoder("sentence-transformers/all-MiniLM-L6-v2")
    with pytest.raises(EncoderError, match="unknown encoder backend 'gpu'"):
        make_embedder(backend="gpu")
    with pytest.raises(EncoderError, match="unknown ONNX backend"):
        OnnxEncoder(backend="onnx-fp16")
    assert isinstance(make_embedder(backend="torch"), TorchEncoder)
    assert classifier.Embedder is TorchEncoder  # the public name it has always had
