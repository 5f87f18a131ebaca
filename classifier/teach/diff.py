"""What a retrain changes: the headlines two model versions answer differently, with both answers.

Before promoting a version a person wants to see what it would change on their own headlines,
not only that its macro-F1 moved: which headlines move from trade to other, which gain a second
topic. A headline has changed when its top ``topic`` or its ``topics`` list differs; a change of
confidence alone is not listed (every retrain moves every confidence a little) but is measured
(``mean_confidence_shift``). Rollback is ``promote``: nothing here changes the store.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifier.readers.base import batched
from classifier.teach.rows import CHUNK_ROWS, RowCounts, archive_rows, usable_headlines
from classifier.topics.model import Prediction, TopicModel

logger = logging.getLogger(__name__)


@dataclass
class Change:
    row: int
    headline: str
    old: Prediction
    new: Prediction

    @property
    def topic_changed(self) -> bool:
        return self.old.topic != self.new.topic

    def to_dict(self) -> dict[str, Any]:
        def answer(p: Prediction) -> dict[str, Any]:
            return {"topic": p.topic, "topics": p.topics, "confidence": p.confidence}

        return {
            "row": self.row,
            "headline": self.headline,
            "old": answer(self.old),
            "new": answer(self.new),
        }


@dataclass
class DiffResult:
    old_version: str | None
    new_version: str | None
    changes: list[Change] = field(default_factory=list)
    compared: int = 0
    topic_changed: int = 0
    #: (old top topic, new top topic) -> headlines, for the headlines whose top topic moved.
    flows: Counter = field(default_factory=Counter)
    #: Per topic, how many headlines list it: (old, new).
    listed: dict[str, list[int]] = field(default_factory=dict)
    confidence_shift: float = 0.0
    counts: RowCounts = field(default_factory=RowCounts)

    def summary(self) -> dict[str, Any]:
        return {
            "old": self.old_version,
            "new": self.new_version,
            "rows_read": self.counts.rows_read,
            "headlines_compared": self.compared,
            "repeated_rows": self.counts.repeats,
            "skipped": dict(sorted(self.counts.skipped.items())),
            "changed": len(self.changes),
            "topic_changed": self.topic_changed,
            "topics_changed_only": len(self.changes) - self.topic_changed,
            "flows": [
                {"from": a, "to": b, "headlines": n}
                for (a, b), n in sorted(self.flows.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "listed": {
                topic: {"old": old, "new": new} for topic, (old, new) in sorted(self.listed.items())
            },
            "mean_confidence_shift": round(self.confidence_shift / max(self.compared, 1), 4),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "changes": [c.to_dict() for c in self.changes]}


def same_vectors(old: TopicModel, new: TopicModel) -> bool:
    """Whether both models embed alike, so each headline is encoded once for both."""
    if old.embedder is new.embedder:
        return True
    return old.embedder.info().compare(new.embedder.info().to_dict()) == "same"


def diff_rows(
    old: TopicModel,
    new: TopicModel,
    rows: Iterable[tuple[int, str]],
    *,
    progress: Callable[[int], None] | None = None,
) -> DiffResult:
    """Compare the two models' answers on ``rows`` of (row number, usable headline)."""
    result = DiffResult(old.version, new.version)
    shared = same_vectors(old, new)
    for batch in batched(iter(rows), CHUNK_ROWS):
        texts = [t for _, t in batch]
        vectors = np.asarray(old.embedder.encode(texts), dtype=np.float32)
        before = old.describe(old.scores(texts, embeddings=vectors))
        after = new.describe(new.scores(texts, embeddings=vectors if shared else None))
        for (row, text), a, b in zip(batch, before, after, strict=True):
            result.compared += 1
            result.confidence_shift += b.confidence - a.confidence
            for topic in a.topics:
                result.listed.setdefault(topic, [0, 0])[0] += 1
            for topic in b.topics:
                result.listed.setdefault(topic, [0, 0])[1] += 1
            if a.topic == b.topic and a.topics == b.topics:
                continue
            change = Change(row, text, a, b)
            result.changes.append(change)
            if change.topic_changed:
                result.topic_changed += 1
                result.flows[(a.topic, b.topic)] += 1
        if progress is not None:
            progress(result.compared)
    logger.info("%d of %d headlines answered differently", len(result.changes), result.compared)
    return result


def diff_file(
    old: TopicModel,
    new: TopicModel,
    path: str | Path,
    *,
    text_column: str = "headline",
    encoding: str | None = None,
    header: bool = True,
    max_chars: int | None = None,
    progress: Callable[[int, float | None], None] | None = None,
) -> DiffResult:
    """:func:`diff_rows` over an archive in any format ``tag`` reads, streamed; each distinct
    headline once, unusable rows counted by why."""
    counts = RowCounts()
    with archive_rows(path, text_column=text_column, encoding=encoding, header=header) as (
        rows,
        reader,
    ):
        tick = None
        if progress is not None:
            tick = lambda _done: progress(counts.rows_read, reader.fraction_done())  # noqa: E731
        result = diff_rows(
            old, new, usable_headlines(rows, counts, max_chars=max_chars), progress=tick
        )
    result.counts = counts
    return result
