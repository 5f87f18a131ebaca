"""Fixtures for the clustering tests: a small topic model trained with the fake encoder."""

from __future__ import annotations

import pytest

from classifier.topics.store import ModelStore
from tests.conftest import FakeEmbedder, load_project_data, save_model


@pytest.fixture(scope="session")
def fake_model(tmp_path_factory):
    """A topic model trained on our data with the fake embedder, in a temporary store."""
    rows = load_project_data()[::20]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    embedder = FakeEmbedder()
    store = ModelStore(tmp_path_factory.mktemp("models"))
    save_model(store, texts, labels, embedder)
    return store.load(embedder=embedder)
