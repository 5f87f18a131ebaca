"""Shared fixtures: one real encoder per session, a fast fake one for unit tests, small data."""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

import pytest

from tests.support import (  # noqa: F401 - the fixtures' helpers, importable from here as before
    DATA,
    ROOT,
    FakeEmbedder,
    load_project_data,
    save_model,
    write_csv,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# One place for ONNX exports for the whole session (and across runs), whatever temporary model
# store a test serves from: an export costs ~10 s. Tests that clear HEADLINE_TOPICS_* keep it.
ENCODER_CACHE_ENV = "HEADLINE_TOPICS_ENCODER_CACHE"
os.environ.setdefault(ENCODER_CACHE_ENV, str(ROOT / "models" / "encoders"))
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    from classifier.encoders.torch import Embedder

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
