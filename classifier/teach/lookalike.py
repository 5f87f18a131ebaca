"""Rows of a labelled file that look like a topic but are not labelled with it.

A new topic ("climate") is usually added to data that already holds headlines about it, filed
under ``other`` or a neighbour because the topic did not exist. Those rows teach the model that
the topic is *not* what they are, and they outvote a few dozen new examples. On our data, 30
written climate examples beside the 31 climate headlines filed under other labels gave a model
that listed climate for 16 of 100 held-out climate headlines; with those 31 relabelled, 37
(docs/benchmarks.md). Relabelling them is the fix, and finding them is this module's job.

A row's score is the mean cosine similarity to its :data:`NEIGHBOURS` most similar rows that
carry the topic (fewer when the topic has fewer rows). The topic's own rows get the same score
with themselves left out; their median is printed as a yardstick, since a look-alike scoring near
it is as close to the topic as the topic's own examples are to each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from classifier.teach.suggest import check_n

#: How many of the topic's rows a row is compared with (the mean of its best matches).
NEIGHBOURS = 5
#: A topic with fewer rows than this, and under MINORITY times the median of the other real
#: topics' rows, is "new": ``train`` points to the look-alikes for it.
FEW_EXAMPLES = 100
MINORITY = 0.25
#: Rows compared per block, so a 100,000-row file never builds one huge similarity matrix.
BLOCK = 4096


@dataclass(frozen=True)
class LookAlike:
    """One row that may be about the topic, with what it is labelled now."""

    headline: str
    #: Its index in the rows given (0 = the first usable row).
    index: int
    topics: tuple[str, ...]
    similarity: float
    #: The row of the topic it is closest to.
    nearest: str


@dataclass(frozen=True)
class LookAlikes:
    topic: str
    examples: int
    #: Median score of the topic's own rows against the others of the topic (None with one row).
    typical: float | None
    rows: list[LookAlike]


def look_alikes(
    texts: Sequence[str],
    topics: Sequence[Sequence[str]],
    embeddings: np.ndarray,
    topic: str,
    *,
    n: int = 50,
) -> LookAlikes:
    """The ``n`` rows not labelled ``topic`` that are most like the rows that are."""
    check_n(n)
    vectors = np.asarray(embeddings, dtype=np.float32)
    if len(texts) != len(topics) or len(texts) != len(vectors):
        raise ValueError(
            f"{len(texts)} headlines, {len(topics)} topic lists, {len(vectors)} embeddings"
        )
    has = np.array([topic in t for t in topics], dtype=bool)
    if not has.any():
        known = sorted({t for row in topics for t in row})
        raise ValueError(f"no row is labelled {topic!r}; the file's topics: {', '.join(known)}")
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    own = vectors[has]
    own_idx = np.flatnonzero(has)
    typical = None
    if len(own) > 1:
        sims = own @ own.T
        np.fill_diagonal(sims, -np.inf)  # an example is not its own neighbour
        typical = float(np.median(_top_mean(sims, min(NEIGHBOURS, len(own) - 1))[0]))
    others = np.flatnonzero(~has)
    k = min(NEIGHBOURS, len(own))
    scores = np.empty(len(others))
    nearest = np.empty(len(others), dtype=np.int64)
    for start in range(0, len(others), BLOCK):
        block = others[start : start + BLOCK]
        scores[start : start + len(block)], nearest[start : start + len(block)] = _top_mean(
            vectors[block] @ own.T, k
        )
    order = np.argsort(-scores, kind="stable")[:n]
    rows = [
        LookAlike(
            headline=texts[others[i]],
            index=int(others[i]),
            topics=tuple(topics[others[i]]),
            similarity=round(float(scores[i]), 4),
            nearest=texts[own_idx[nearest[i]]],
        )
        for i in order
    ]
    return LookAlikes(topic=topic, examples=int(has.sum()), typical=typical, rows=rows)


def _top_mean(sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the mean of its ``k`` highest similarities, and the column of the highest."""
    best = np.argmax(sims, axis=1)
    top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
    return top.mean(axis=1), best
