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
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

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

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The TF-IDF rows of ``texts``, equal to ``vectorizer.transform`` to the last bit.

        The same steps as scikit-learn's (its analyser, counts in the vocabulary, ``1 + log``
        of the counts, times idf, rows scaled to unit length, in float32), without its input
        checks, which cost about 2 ms a call whatever the number of headlines: most of the
        price of one headline in the service. ``test_features`` holds the two equal.
        """
        vectorizer = self.vectorizer
        if vectorizer.norm != "l2" or not vectorizer.use_idf or vectorizer.binary:
            return vectorizer.transform(list(texts))  # steps this copy does not reproduce
        analyze = self._analyzer()
        vocabulary = vectorizer.vocabulary_
        columns: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for text in texts:
            found: dict[int, int] = {}
            for term in analyze(text):
                column = vocabulary.get(term)
                if column is not None:
                    found[column] = found.get(column, 0) + 1
            columns.extend(found)
            counts.extend(found.values())
            indptr.append(len(columns))
        matrix = sparse.csr_matrix(
            (
                np.asarray(counts, dtype=np.float32),
                np.asarray(columns, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(indptr) - 1, len(vocabulary)),
        )
        matrix.sort_indices()
        if vectorizer.sublinear_tf:
            np.log(matrix.data, matrix.data)
            matrix.data += 1.0
        matrix.data *= vectorizer.idf_[matrix.indices]
        inplace_csr_row_normalize_l2(matrix)
        return matrix

    def _analyzer(self):
        """scikit-learn's own preprocessing, tokenising and n-grams, built once."""
        analyze = self.__dict__.get("_analyze")
        if analyze is None:
            analyze = self.__dict__["_analyze"] = self.vectorizer.build_analyzer()
        return analyze

    def combine(self, embeddings: np.ndarray, texts: Sequence[str]) -> sparse.csr_matrix:
        """One row per headline: the weighted embedding followed by its TF-IDF terms."""
        lexical = self.transform(list(texts))
        dense = sparse.csr_matrix(np.asarray(embeddings, dtype=np.float32) * self.embedding_weight)
        return sparse.hstack([dense, lexical], format="csr", dtype=np.float32)

    def carry(self, coef: np.ndarray, old: LexicalFeatures, dense: int) -> np.ndarray:
        """``coef`` (one row per class over ``dense`` embedding columns then ``old``'s terms)
        moved onto this vocabulary: embedding columns and shared terms keep their weights, a
        term ``old`` did not have starts at 0. Warm-starts a refit on new data."""
        coef = np.asarray(coef, dtype=np.float64)
        if coef.shape[1] != dense + old.size:
            raise ValueError(f"{coef.shape[1]} weights for {dense} + {old.size} columns")
        carried = np.zeros((coef.shape[0], dense + self.size))
        carried[:, :dense] = coef[:, :dense]
        before = old.vectorizer.vocabulary_
        shared = [(j, before[t]) for t, j in self.vectorizer.vocabulary_.items() if t in before]
        columns = np.asarray(shared, dtype=np.int64).reshape(-1, 2)
        carried[:, dense + columns[:, 0]] = coef[:, dense + columns[:, 1]]
        return carried

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
