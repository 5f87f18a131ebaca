"""Shared fixtures: one real encoder per session, a fast fake one for unit tests, small data."""

from __future__ import annotations

import csv
import hashlib
import os
import random
from pathlib import Path

import numpy as np
import pytest

from classifier.encoders.embedding import EncoderInfo

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
# One place for ONNX exports for the whole session (and across runs), whatever temporary model
# store a test serves from: an export costs ~10 s. Tests that clear HEADLINE_TOPICS_* keep it.
ENCODER_CACHE_ENV = "HEADLINE_TOPICS_ENCODER_CACHE"
os.environ.setdefault(ENCODER_CACHE_ENV, str(ROOT / "models" / "encoders"))
DATA = ROOT / "data" / "headlines.csv"
SHARED = ROOT.parent / "shared" / "data"


class FakeEmbedder:
    """Deterministic bag-of-hashed-words vectors: fast, and topic words still cluster together."""

    name = "fake-hash-embedder"

    def __init__(self, dimension: int = 64, salt: str = "") -> None:
        self.dim = dimension
        self.salt = salt
        self.path = Path("/nonexistent/fake-encoder")
        self.calls = 0

    @property
    def dimension(self) -> int:
        return self.dim

    def info(self) -> EncoderInfo:
        fingerprint = hashlib.sha256(f"fake{self.dim}{self.salt}".encode()).hexdigest()
        return EncoderInfo(self.name, fingerprint, self.dim)

    def encode(self, texts, *, batch_size=None):
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        self.calls += 1
        out = np.zeros((len(batch), self.dim), dtype=np.float32)
        for i, text in enumerate(batch):
            for word in text.lower().split():
                h = int(hashlib.md5((self.salt + word).encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0 if (h >> 8) % 2 else -1.0
            norm = np.linalg.norm(out[i]) or 1.0
            out[i] /= norm
        return out[0] if single else out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    from classifier.encoders.embedding import Embedder

    embedder = Embedder()
    embedder.encode("warm up")
    return embedder


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory, real_embedder) -> Path:
    """Both exports, made once per session into a private cache (torch is loaded anyway)."""
    from classifier.encoders.export import export_encoder

    cache = tmp_path_factory.mktemp("encoders")
    for backend in ("onnx", "onnx-int8"):
        export_encoder(backend=backend, cache_dir=cache)
    return cache


@pytest.fixture(scope="session")
def fp32(onnx_cache):
    from classifier.encoders.onnx import OnnxEncoder

    return OnnxEncoder(backend="onnx", cache_dir=onnx_cache, auto_export=False)


@pytest.fixture(scope="session")
def int8(onnx_cache):
    from classifier.encoders.onnx import OnnxEncoder

    return OnnxEncoder(backend="onnx-int8", cache_dir=onnx_cache, auto_export=False)


def clear_settings_env(monkeypatch, *also: str) -> None:
    """Drop the developer's HEADLINE_TOPICS_* variables (and ``also``) but keep the export cache."""
    for key in list(os.environ):
        if (key.startswith("HEADLINE_TOPICS_") and key != ENCODER_CACHE_ENV) or key in also:
            monkeypatch.delenv(key)


def load_project_data() -> list[dict[str, str]]:
    with open(DATA, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def small_labelled(tmp_path_factory) -> Path:
    """A seeded sample of our own labelled data: 40 headlines per topic, as a CSV file."""
    rows = load_project_data()
    rng = random.Random(7)
    by_topic: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_topic.setdefault(row["topic"], []).append(row)
    sample = []
    for topic in sorted(by_topic):
        sample += rng.sample(by_topic[topic], 40)
    path = tmp_path_factory.mktemp("data") / "small.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["headline", "topic"])
        writer.writerows((r["headline"], r["topic"]) for r in sample)
    return path


def write_csv(path: Path, rows: list[tuple], header=("headline", "topic")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def save_model(
    store,
    texts: list[str],
    labels: list[str],
    embedder,
    *,
    version: str | None = None,
    promote: bool = True,
    head_params: dict | None = None,
) -> str:
    """Train a model on ``texts``/``labels`` and write it to ``store``; returns its version."""
    from classifier.topics.training import train_model

    model, manifest = train_model(texts, labels, embedder, head_params=head_params, source="test")
    if version:
        manifest["version"] = version
    return store.save(model, manifest, promote=promote)
