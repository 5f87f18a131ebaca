"""TopicModel answers in kind: one string is one headline."""

from __future__ import annotations

import pytest

from classifier.errors import InputError
from classifier.topics.store import ModelStore
from tests.conftest import load_project_data, save_model


@pytest.fixture(scope="module")
def fake_model(tmp_path_factory):
    from tests.conftest import FakeEmbedder

    rows = load_project_data()[::20]
    store = ModelStore(tmp_path_factory.mktemp("models"))
    embedder = FakeEmbedder()
    save_model(store, [r["headline"] for r in rows], [r["topic"] for r in rows], embedder)
    return store.load(embedder=embedder)


def test_one_string_gives_one_row_of_probabilities(fake_model):
    one = fake_model.predict_proba("Tariffs")
    assert one.shape == (1, len(fake_model.labels))
    assert one.tolist() == fake_model.predict_proba(["Tariffs"]).tolist()
    assert fake_model.predict("Tariffs").topic == fake_model.predict(["Tariffs"])[0].topic


def test_blank_and_non_text_headlines_are_refused_by_position(fake_model):
    with pytest.raises(InputError, match="headline 1 is empty"):
        fake_model.predict_proba(["Tariffs", "   "])
    with pytest.raises(InputError, match="headline 0 is int, not text"):
        fake_model.predict_proba([3])
