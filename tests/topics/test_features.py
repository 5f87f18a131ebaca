"""LexicalFeatures: its own TF-IDF transform is scikit-learn's, to the last bit."""

from __future__ import annotations

import numpy as np

from classifier.topics.features import LexicalFeatures
from tests.conftest import load_project_data

ODD = [
    "Café owners protest new sugar tax",  # accents are stripped, as scikit-learn does
    "ALL CAPS TARIFF HEADLINE",
    "tariff tariff tariff tariffs",  # repeated terms: sublinear counts
    "zzqx unknownword",  # nothing in the vocabulary: an all-zero row
    "日本のニュース",
    "x" * 3000,
    "Trade\twar\n  widens",
]


def _fitted() -> tuple[LexicalFeatures, list[str]]:
    texts = [r["headline"] for r in load_project_data()]
    return LexicalFeatures().fit(texts[::2]), texts[1::2] + ODD


def test_the_fast_transform_equals_scikit_learns_bit_for_bit():
    features, texts = _fitted()
    ours, theirs = features.transform(texts), features.vectorizer.transform(texts)
    assert ours.dtype == theirs.dtype == np.float32
    assert ours.shape == theirs.shape
    assert np.array_equal(ours.indptr, theirs.indptr)
    assert np.array_equal(ours.indices, theirs.indices)
    assert np.array_equal(ours.data, theirs.data)


def test_a_model_loaded_from_its_state_transforms_alike():
    features, texts = _fitted()
    loaded = LexicalFeatures.from_state(*features.state())
    assert np.array_equal(loaded.transform(texts).toarray(), features.transform(texts).toarray())
    assert loaded.transform([]).shape == (0, features.size)
