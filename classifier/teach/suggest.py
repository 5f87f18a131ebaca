"""What to label next: the headlines of an archive whose labels would teach the model most.

A label teaches most where the model is unsure, but the most uncertain headlines of an archive
are often the same story told ten times, or one corner of the news (the model is unsure about
all of "the Fed and the budget"). So the pick is "uncertain, then diverse", as in Zhdanov's
diverse mini-batch active learning: keep the :data:`POOL_FACTOR` x ``n`` most uncertain distinct
headlines while streaming the archive, collapse near duplicates (cosine at or above
:data:`DUPLICATE_COSINE`, the most uncertain of a group stays), cluster the rest into ``n``
groups by k-means on their embeddings (weighted by uncertainty), and take the most uncertain
headline of each group.

Uncertainty is the mean of three signals in [0, 1], from the model's own calibrated answers:
``1 - confidence``, ``1 - margin`` (the top topic's probability minus the runner-up's) and how
close the nearest "applies" probability is to its topic's threshold (1 on the threshold): a
headline that nearly gets a second topic is as instructive as one with a weak first topic.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifier.config import MAX_SUGGESTIONS
from classifier.readers.base import batched
from classifier.teach.rows import CHUNK_ROWS, RowCounts, archive_rows, usable_headlines
from classifier.topics.model import Prediction, TopicModel

logger = logging.getLogger(__name__)

#: Candidates kept per headline asked for: enough for the clusters to have a choice.
POOL_FACTOR = 10
#: The most candidates kept whatever ``n`` is (the duplicate check compares them pairwise).
POOL_MAX = 20_000
#: Headlines at least this similar (cosine of their embeddings) are one headline to label.
DUPLICATE_COSINE = 0.9


@dataclass
class Suggestion:
    """One headline to label, with the model's answer prefilled."""

    headline: str
    #: Its row in the input (1 = the first data row), the first time it occurs.
    row: int
    prediction: Prediction
    uncertainty: float
    reason: str
    #: The k-means group it was picked from (one pick per group).
    cluster: int
    #: How many other headlines of the pool were near-identical to it and left out.
    duplicates: int = 0


@dataclass
class SuggestResult:
    suggestions: list[Suggestion]
    rows_read: int = 0
    distinct: int = 0
    pooled: int = 0
    collapsed: int = 0
    skipped: Counter = field(default_factory=Counter)


def check_n(n: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_SUGGESTIONS:
        raise ValueError(f"n must be a whole number from 1 to {MAX_SUGGESTIONS:,}, not {n!r}")
    return n


def uncertainty(model: TopicModel, scores: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each row's uncertainty (module docstring) and, in words, the signal that weighs most."""
    labels = model.labels
    k = len(labels)
    proba = np.asarray(scores)[:, :k]
    order = np.argsort(-proba, axis=1)
    rows = np.arange(len(proba))
    first, second = proba[rows, order[:, 0]], proba[rows, order[:, 1]]
    low = 1.0 - first
    close = 1.0 - (first - second)
    near = np.zeros(len(proba))
    nearest = np.zeros(len(proba), dtype=int)
    if model.applies is not None and scores.shape[1] >= 2 * k:
        applies = np.asarray(scores)[:, k : 2 * k]
        bars = np.asarray(model.applies.thresholds_, dtype=float)
        spread = np.maximum(bars, 1.0 - bars)
        closeness = 1.0 - np.abs(applies - bars) / spread
        nearest = closeness.argmax(axis=1)
        near = closeness[rows, nearest]
    value = (low + close + near) / 3.0
    reasons = []
    for i in rows:
        top, runner = labels[order[i, 0]], labels[order[i, 1]]
        strongest = int(np.argmax([low[i], close[i], near[i]]))
        if strongest == 0:
            reasons.append(f"low confidence: {top} {first[i]:.2f}")
        elif strongest == 1:
            reasons.append(f"close call: {top} {first[i]:.2f} vs {runner} {second[i]:.2f}")
        else:
            t = nearest[i]
            reasons.append(
                f"{labels[t]} applies {applies[i, t]:.2f}, its threshold {bars[t]:.2f}"  # type: ignore[possibly-undefined]
            )
    return value, reasons


def collapse_duplicates(
    vectors: np.ndarray, order: Sequence[int], cosine: float = DUPLICATE_COSINE
) -> tuple[list[int], dict[int, int]]:
    """The rows to keep, in ``order`` (most uncertain first), none of them at ``cosine`` or more
    to an earlier kept one; and how many rows each kept row stood for."""
    kept: list[int] = []
    count: dict[int, int] = {}
    kept_vectors = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    block = 512
    order = list(order)
    for start in range(0, len(order), block):
        idx = order[start : start + block]
        sims = vectors[idx] @ kept_vectors.T if len(kept) else np.zeros((len(idx), 0))
        inner = vectors[idx] @ vectors[idx].T
        fresh: list[int] = []  # positions within this block kept so far
        for j, row in enumerate(idx):
            earlier = sims[j]
            if earlier.size and earlier.max() >= cosine:
                count[kept[int(earlier.argmax())]] += 1
                continue
            within = [p for p in fresh if inner[j, p] >= cosine]
            if within:
                count[idx[within[0]]] += 1
                continue
            fresh.append(j)
            kept.append(row)
            count[row] = 1
        kept_vectors = np.vstack([kept_vectors, vectors[[idx[p] for p in fresh]]])
    return kept, count


def pick_diverse(
    vectors: np.ndarray, weight: np.ndarray, n: int, *, seed: int = 0
) -> tuple[list[int], list[int]]:
    """``n`` rows, one per k-means group (weighted by ``weight``), each its group's heaviest;
    and the group of each. Fewer rows than ``n``: all of them."""
    if len(vectors) <= n:
        return list(range(len(vectors))), list(range(len(vectors)))
    from sklearn.cluster import KMeans

    groups = KMeans(n_clusters=n, n_init=1, random_state=seed).fit_predict(
        vectors, sample_weight=np.maximum(weight, 1e-6)
    )
    best: dict[int, int] = {}
    for i, g in enumerate(groups):
        if g not in best or weight[i] > weight[best[g]]:
            best[int(g)] = i
    chosen = sorted(best.values(), key=lambda i: -weight[i])
    if len(chosen) < n:  # an empty group: fill up with the most uncertain left
        rest = [i for i in np.argsort(-weight) if i not in set(chosen)]
        chosen += rest[: n - len(chosen)]
    return chosen, [int(groups[i]) for i in chosen]


class _Pool:
    """The most uncertain distinct headlines seen so far, with what the pick needs of them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.texts: list[str] = []
        self.rows: list[int] = []
        self.vectors: np.ndarray | None = None
        self.scores: np.ndarray | None = None
        self.value = np.zeros(0)

    def add(self, texts, rows, vectors, scores, value) -> None:
        self.texts += texts
        self.rows += rows
        self.vectors = vectors if self.vectors is None else np.vstack([self.vectors, vectors])
        self.scores = scores if self.scores is None else np.vstack([self.scores, scores])
        self.value = np.concatenate([self.value, value])
        if len(self.texts) > self.size:
            keep = np.sort(np.argpartition(-self.value, self.size - 1)[: self.size])
            self.texts = [self.texts[i] for i in keep]
            self.rows = [self.rows[i] for i in keep]
            self.vectors, self.scores, self.value = (
                self.vectors[keep],
                self.scores[keep],
                self.value[keep],
            )


def suggest_rows(
    model: TopicModel,
    rows: Iterable[tuple[int, str]],
    *,
    n: int,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> SuggestResult:
    """Suggest ``n`` of ``rows``, (row number, usable distinct headline), read once in chunks.

    ``progress`` is told how many headlines have been scored so far.
    """
    check_n(n)
    pool = _Pool(min(max(n * POOL_FACTOR, n), max(POOL_MAX, n)))
    result = SuggestResult([])
    for batch in batched(iter(rows), CHUNK_ROWS):
        texts = [t for _, t in batch]
        vectors = np.asarray(model.embedder.encode(texts), dtype=np.float32)
        scores = model.scores(texts, embeddings=vectors)
        value, _ = uncertainty(model, scores)
        pool.add(texts, [r for r, _ in batch], vectors, scores, value)
        result.distinct += len(batch)
        if progress is not None:
            progress(result.distinct)
    if not pool.texts:
        return result
    result.pooled = len(pool.texts)
    kept, stood_for = collapse_duplicates(pool.vectors, np.argsort(-pool.value, kind="stable"))
    result.collapsed = result.pooled - len(kept)
    chosen, groups = pick_diverse(pool.vectors[kept], pool.value[kept], n, seed=seed)
    picked = [kept[i] for i in chosen]
    answers = model.describe(pool.scores[picked])
    _, reasons = uncertainty(model, pool.scores[picked])
    for i, answer, reason, group in zip(picked, answers, reasons, groups, strict=True):
        result.suggestions.append(
            Suggestion(
                headline=pool.texts[i],
                row=pool.rows[i],
                prediction=answer,
                uncertainty=round(float(pool.value[i]), 4),
                reason=reason,
                cluster=group,
                duplicates=stood_for[i] - 1,
            )
        )
    logger.info(
        "%d distinct headlines, %d most uncertain pooled, %d near duplicates collapsed",
        result.distinct,
        result.pooled,
        result.collapsed,
    )
    return result


def suggest(model: TopicModel, texts: Sequence[object], *, n: int, seed: int = 0) -> SuggestResult:
    """:func:`suggest_rows` over a list (row numbers from 1); unusable texts are counted."""
    counts = RowCounts()
    rows = usable_headlines(enumerate(texts, start=1), counts)
    result = suggest_rows(model, rows, n=n, seed=seed)
    result.rows_read, result.skipped = counts.rows_read, counts.skipped
    return result


def suggest_file(
    model: TopicModel,
    path: str | Path,
    *,
    n: int,
    text_column: str = "headline",
    encoding: str | None = None,
    header: bool = True,
    max_chars: int | None = None,
    seed: int = 0,
    progress: Callable[[int, float | None], None] | None = None,
) -> SuggestResult:
    """Suggest ``n`` headlines of an archive in any format ``tag`` reads (CSV/TSV/JSONL/Parquet,
    gzip too), streamed; a row that cannot be used is counted by why (``skipped``).

    ``progress`` is told the rows read so far and the share of the file read (or None).
    """
    check_n(n)
    counts = RowCounts()
    with archive_rows(path, text_column=text_column, encoding=encoding, header=header) as (
        rows,
        reader,
    ):
        usable = usable_headlines(rows, counts, max_chars=max_chars)
        tick = None
        if progress is not None:
            tick = lambda _done: progress(counts.rows_read, reader.fraction_done())  # noqa: E731
        result = suggest_rows(model, usable, n=n, seed=seed, progress=tick)
    result.rows_read, result.skipped = counts.rows_read, counts.skipped
    return result
