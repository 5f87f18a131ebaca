"""The training headlines a model was fitted on, as an exact nearest-neighbour index.

"Why this label?" is often best answered by the labelled headlines the new one resembles: a
person correcting a label sees which training rows pulled it there. The index is the training
embeddings (unit vectors, as the encoder gives them) with each row's headline and topics, saved
beside the head as one ``.npz`` of plain arrays (no pickle: loaded with ``allow_pickle=False``).

Exact cosine top-k by one matrix product: over the shipped model's 9,987 rows it costs well under
a millisecond per headline on 2 cores (bench/explain.py, docs/explain.md), so an approximate
index would buy nothing and cost exactness. The vectors are stored as float16 (half the bytes
on disk; cosines move by under 1e-3) and held as float32 in memory for the product.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

STORED_DTYPE = np.float16
ARRAYS = ("embeddings", "headlines", "topics")


@dataclass(frozen=True)
class Neighbour:
    """One labelled training headline close to the one being explained."""

    headline: str
    topics: list[str]
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        return {"headline": self.headline, "topics": self.topics, "similarity": self.similarity}


class NeighbourIndex:
    """Training embeddings with their headlines and topics; :meth:`nearest` finds the closest."""

    def __init__(
        self, embeddings: np.ndarray, headlines: Sequence[str], topics: Sequence[Sequence[str]]
    ) -> None:
        vectors = np.asarray(embeddings, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(headlines) or len(topics) != len(headlines):
            raise ValueError(
                f"the neighbour index needs one vector and one topic list per headline; got "
                f"vectors of shape {vectors.shape}, {len(headlines)} headlines and "
                f"{len(topics)} topic lists"
            )
        if not np.isfinite(vectors).all():
            raise ValueError("the neighbour index has vectors that are not finite")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = vectors / np.maximum(norms, 1e-12)  # cosine = dot product of unit vectors
        self.headlines = [str(h) for h in headlines]
        self.topics = [[str(t) for t in row] for row in topics]

    def __len__(self) -> int:
        return len(self.headlines)

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    def nearest(self, embeddings: np.ndarray, k: int = 3) -> list[list[Neighbour]]:
        """The ``k`` most similar training headlines of each row of ``embeddings``, closest first.

        Ties are broken by training row order, so the answer does not depend on the platform's
        sort. A query that is itself a training headline finds itself first, at similarity 1.
        """
        queries = np.asarray(embeddings, dtype=np.float32).reshape(-1, self.dimension)
        queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
        k = min(k, len(self))
        if k <= 0:
            return [[] for _ in range(len(queries))]
        # rows x queries, then one row per query: for one query that is a plain matrix-vector
        # product over the contiguous rows, the fastest form of it
        similarity = (self.vectors @ queries.T).T
        out = []
        for row in similarity:
            best = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
            best = best[np.lexsort((best, -row[best]))]
            out.append(
                [
                    Neighbour(self.headlines[i], self.topics[i], round(float(row[i]), 4))
                    for i in best
                ]
            )
        return out

    # -- on disk -----------------------------------------------------------------------------
    def arrays(self, labels: Sequence[str]) -> dict[str, np.ndarray]:
        """What the model store saves: float16 vectors, the headlines as UTF-8 bytes (a quarter of
        numpy's UTF-32 strings, so the file needs no compression, which cost half a second of
        every retrain), and each row's topics as ranks over ``labels`` (1 = primary, 2 = second,
        ..., 0 = not a topic), which needs no separator a label could contain."""
        column = {label: j for j, label in enumerate(labels)}
        ranks = np.zeros((len(self), len(column)), dtype=np.uint8)
        for i, row in enumerate(self.topics):
            for rank, topic in enumerate(row, start=1):
                ranks[i, column[topic]] = rank
        return {
            "embeddings": self.vectors.astype(STORED_DTYPE),
            "headlines": np.char.encode(np.asarray(self.headlines, dtype=str), "utf-8"),
            "topics": ranks,
        }

    def summary(self) -> dict[str, Any]:
        """What the manifest records, so a load can check the file holds what was written."""
        return {
            "rows": len(self),
            "dimension": self.dimension,
            "dtype": np.dtype(STORED_DTYPE).name,
        }

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, np.ndarray],
        *,
        summary: Mapping[str, Any],
        labels: Iterable[str],
    ) -> NeighbourIndex:
        """The index from :meth:`arrays`, refusing (ValueError) one that does not match what the
        manifest recorded (``summary``) or whose topic ranks make no list of the model's labels."""
        missing = [name for name in ARRAYS if name not in arrays]
        if missing:
            raise ValueError(f"the neighbour index lacks {missing}")
        vectors, headlines, topics = (arrays[name] for name in ARRAYS)
        if (
            vectors.dtype.kind != "f"
            or headlines.dtype.kind not in "SU"
            or topics.dtype.kind != "u"
        ):
            raise ValueError("the neighbour index holds arrays of the wrong kind")
        if headlines.dtype.kind == "S":  # UTF-8 bytes; indexes saved before them hold str
            try:
                headlines = np.char.decode(headlines, "utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(
                    f"the neighbour index has headlines that are not UTF-8: {exc}"
                ) from exc
        expected = (summary.get("rows"), summary.get("dimension"))
        if vectors.shape != expected:
            raise ValueError(
                f"the neighbour index has vectors of shape {vectors.shape}; the manifest "
                f"records {expected[0]} rows of dimension {expected[1]}"
            )
        labels = list(labels)
        if headlines.shape != (expected[0],) or topics.shape != (expected[0], len(labels)):
            raise ValueError(
                f"the neighbour index has headlines of shape {headlines.shape} and topics of shape "
                f"{topics.shape} for {expected[0]} rows and {len(labels)} labels"
            )
        present = topics > 0
        counts = present.sum(axis=1)
        ranked = np.sort(np.where(present, topics, np.iinfo(topics.dtype).max), axis=1)
        steps = np.arange(1, len(labels) + 1)
        wanted = np.where(steps <= counts[:, None], steps, np.iinfo(topics.dtype).max)
        if (counts == 0).any() or not np.array_equal(ranked, wanted):
            raise ValueError("the neighbour index has a row whose topics are not ranked 1..n")
        # a few distinct topic lists among thousands of rows: decode each once
        patterns, inverse = np.unique(topics, axis=0, return_inverse=True)
        decoded = [[labels[j] for j in np.argsort(p, kind="stable") if p[j] > 0] for p in patterns]
        rows = [decoded[k] for k in inverse.ravel()]
        return cls(vectors, headlines.tolist(), rows)
