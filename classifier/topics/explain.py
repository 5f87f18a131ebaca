"""Why a headline got its top topic: the closest labelled training headlines, and its words that
raised that topic's calibrated probability most.

The words are found by occlusion: each distinct word is left out in turn (every occurrence of
it), the shortened headlines are encoded in one batch with the headline itself, and a word's
weight is how much the top topic's calibrated probability drops without it. That measures the
model as it is: the head reads the MiniLM embedding beside TF-IDF terms
(:meth:`~classifier.topics.model.TopicModel.features`), and a word moves both, the embedding in
ways no linear read-out of the head can attribute. The TF-IDF part of the logit alone would be
exact for the lexical half and blind to the embedding half, and it is in logit units of one
topic, not the probability the answer shows; docs/explain.md has the comparison. The cost is one
more encoding per distinct word (about 9 for a median headline), which is why explanations are
asked for per request, never computed by default.

The neighbours come from the index saved with the model (:mod:`classifier.topics.neighbours`);
a model saved before it existed still gets its words, and a note in place of neighbours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from classifier.config import EXPLAIN_MAX_WORDS, EXPLAIN_NEIGHBOURS, EXPLAIN_WORDS
from classifier.text import check_headlines
from classifier.topics.neighbours import Neighbour

if TYPE_CHECKING:
    from classifier.topics.model import TopicModel

#: A word as a reader sees one: letters and digits, kept whole across inner hyphens, apostrophes
#: and dots ("H-1B", "China's", "U.S"), so leaving it out never leaves half a word behind.
WORD_PATTERN = re.compile(r"\w+(?:['\u2019.\-]\w+)*")
NO_INDEX_NOTE = (
    "this model was saved without a neighbour index; 'headline-topics export-index DATA' adds "
    "one from the data it was trained on"
)
#: Drops smaller than this (the 4 decimals answers carry) are not shown as reasons.
MIN_DROP = 0.0001

Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class WordWeight:
    """A word of the headline and how far the top topic's probability falls without it."""

    word: str
    drop: float

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.word, "drop": self.drop}


@dataclass(frozen=True)
class Explanation:
    """What the model leaned on for one headline's top ``topic``."""

    topic: str
    neighbours: list[Neighbour] = field(default_factory=list)
    words: list[WordWeight] = field(default_factory=list)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "topic": self.topic,
            "neighbours": [n.to_dict() for n in self.neighbours],
            "words": [w.to_dict() for w in self.words],
        }
        if self.note is not None:
            out["note"] = self.note
        return out


def distinct_words(
    text: str, limit: int = EXPLAIN_MAX_WORDS
) -> list[tuple[str, list[tuple[int, int]]]]:
    """Each distinct word of ``text`` (ignoring case), as first written, with every span where
    it occurs, in order of first appearance; at most ``limit`` words."""
    found: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    for match in WORD_PATTERN.finditer(text):
        key = match.group().casefold()
        if key not in found:
            if len(found) >= limit:
                continue
            found[key] = (match.group(), [])
        found[key][1].append(match.span())
    return list(found.values())


def without(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with the characters of ``spans`` (sorted, not overlapping) left out, its
    whitespace runs made single."""
    pieces, last = [], 0
    for start, end in spans:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return " ".join("".join(pieces).split())


def explain(
    model: TopicModel,
    texts: str | Sequence[str],
    *,
    encode: Encode | None = None,
    neighbours: int = EXPLAIN_NEIGHBOURS,
    words: int = EXPLAIN_WORDS,
    max_words: int = EXPLAIN_MAX_WORDS,
) -> list[Explanation]:
    """One explanation per headline, in order.

    ``encode`` (default: the model's encoder) turns a list of texts into embeddings; the service
    passes its micro-batcher's, so every encoder call stays on its one thread. The headlines and
    all their shortened versions go to it in one call. The top topic is the one the model gives
    the headline (the encoder answers a headline alike whatever else is in its batch).
    """
    texts = check_headlines([texts] if isinstance(texts, str) else list(texts))
    encode = encode or model.embedder.encode
    plans = [distinct_words(text, max_words) for text in texts]
    variants = list(texts)
    for text, plan in zip(texts, plans, strict=True):
        variants += [without(text, spans) for _, spans in plan]
    embeddings = np.asarray(encode(variants), dtype=np.float32).reshape(len(variants), -1)
    # the model's own features (embedding beside TF-IDF); a one-word headline's shortened
    # version is empty, which the headline check of TopicModel.features would refuse
    proba = model.head.predict_proba(model.lexical.combine(embeddings, variants))
    index = getattr(model, "neighbours", None)
    near = (
        index.nearest(embeddings[: len(texts)], neighbours)
        if index is not None
        else [[] for _ in texts]
    )
    labels = model.labels
    out, offset = [], len(texts)
    for i, plan in enumerate(plans):
        top = int(np.argmax(proba[i]))
        drops = proba[i, top] - proba[offset : offset + len(plan), top]
        offset += len(plan)
        ranked = sorted(
            ((word, float(drop)) for (word, _), drop in zip(plan, drops, strict=True)),
            key=lambda pair: -pair[1],  # stable: equal drops keep the headline's order
        )
        shown = [WordWeight(word, round(drop, 4)) for word, drop in ranked if drop >= MIN_DROP]
        out.append(
            Explanation(
                topic=labels[top],
                neighbours=near[i],
                words=shown[:words],
                note=None if index is not None else NO_INDEX_NOTE,
            )
        )
    return out
