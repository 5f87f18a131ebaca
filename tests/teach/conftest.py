"""Fixtures for the teach jobs: the shipped model on the encoder it was trained on."""

from __future__ import annotations

import pytest

from tests.support import ROOT


@pytest.fixture(scope="session")
def shipped_models():
    """The repository's store (read only here): three shipped versions."""
    from classifier.topics.store import ModelStore

    store = ModelStore(ROOT / "models")
    if store.current_version() is None:  # pragma: no cover - a checkout without models
        pytest.skip("the shipped models are not here")
    return store


@pytest.fixture(scope="session")
def shipped(shipped_models, int8):
    """The current shipped model with its own (int8) encoder."""
    return shipped_models.load(embedder=int8)
