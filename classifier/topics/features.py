"""Lexical features that sit beside the sentence embedding.

A sentence embedding knows what a headline means but blurs the names and jargon that settle its
topic ("H-1B", "antidumping", "Medicaid"); a TF-IDF bag of words keeps them. The head sees both.
The vocabulary is stored as JSON and the weights as plain arrays, so loading needs no pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

LEXICAL_PARAMS: dict[str, Any] = {
    "lowercase": True,
    "strip_accents": "unicode",
    "ngram_range": (1, 2),
    "min_df": 1,
    "sublinear_tf": True,
    "dtype": np.float32,
}


class LexicalFeatures:
    """A TF-IDF vectoriser whose fitted state round-trips through JSON-safe data."""

    def __init__(self, *, embedding_weight: float = 1.0) -> None:
        self.embedding_weight = embedding_weight
        self.vectorizer = TfidfVectorizer(**LEXICAL_PARAMS)

    def fit(self, texts: Sequence[str]) -> LexicalFeatures:
        self.vectorizer.fit(list(texts))
        return self

    @property
    def size(self) -> int:
        return len(self.vectorizer.vocabulary_)

    def combine(self, embeddings: np.ndarray, texts: Sequence[str]) -> sparse.csr_matrix:
        """One row per headline: the weighted embedding followed by its TF-IDF terms."""
        lexical = self.vectorizer.transform(list(texts))
        dense = sparse.csr_matrix(np.asarray(embeddings, dtype=np.float32) * self.embedding_weight)
        return sparse.hstack([dense, lexical], format="csr", dtype=np.float32)

    def state(self) -> tuple[dict[str, Any], np.ndarray]:
        """JSON-safe parameters and vocabulary (ordered by column), and the idf array."""
        vocabulary = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.get)
        meta = {"embedding_weight": self.embedding_weight, "vocabulary": vocabulary}
        return meta, np.asarray(self.vectorizer.idf_, dtype=np.float64)

    @classmethod
    def from_state(cls, meta: dict[str, Any], idf: np.ndarray) -> LexicalFeatures:
        vocabulary = meta["vocabulary"]
        if not isinstance(vocabulary, list) or len(vocabulary) != len(idf):
            raise ValueError("lexical vocabulary and idf weights do not match")
        features = cls(embedding_weight=float(meta["embedding_weight"]))
        features.vectorizer.vocabulary_ = {term: i for i, term in enumerate(vocabulary)}
        features.vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
        return features
