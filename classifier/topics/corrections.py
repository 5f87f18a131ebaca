"""Training data plus people's corrections: ``train DATA --feedback`` and ``--add FILE``.

A correction replaces every row of the training data with the same headline (compared in
:func:`classifier.text.normalise_headline` form) and is added as a row of its own; among the
corrections, the later source wins: the ``--add`` files in the order given, then the feedback
store (its newest correction per headline). A correction with a topic the training data does not
have is skipped and reported, never trained on in silence: a new topic needs its own examples.
What went in is recorded in the manifest's ``corrections``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.feedback.store import FeedbackStore, corrections_record
from classifier.files import sha256_file
from classifier.readers.records import Problem
from classifier.text import normalise_headline
from classifier.topics.data import LabelledData, read_labelled

logger = logging.getLogger(__name__)

CORRECTIONS_GROUP = "corrections"  # their ``set`` when the training data has one per row


@dataclass
class Corrections:
    """Corrected rows by normalised headline (later sources overriding earlier ones), with the
    record of each source for the manifest and the rows that could not be used."""

    rows: dict[str, tuple[str, list[str], str, int]] = field(default_factory=dict)
    feedback: dict[str, Any] | None = None
    added: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, text: str, topics: Sequence[str], source: str, number: int) -> None:
        """One correction; ``source`` and ``number`` (a file's n-th usable row, or the store's
        correction id) say where it came from when it cannot be used."""
        key = normalise_headline(text)
        self.rows.pop(key, None)  # re-inserted last: the order they are trained in
        self.rows[key] = (" ".join(text.split()), list(topics), source, number)


def gather(
    *,
    files: Sequence[str] = (),
    feedback_db: str | Path | None = None,
    encoding: str = "utf-8-sig",
    max_chars: int | None = None,
) -> Corrections:
    """The corrections of the ``--add`` files, then of the feedback store at ``feedback_db``."""
    out = Corrections()
    for path in files:
        data = read_labelled(path, encoding=encoding, max_chars=max_chars)
        out.problems += data.problems
        for number, (text, topics) in enumerate(zip(data.texts, data.topics or [], strict=True)):
            out.add(text, topics, Path(path).name, number + 1)
        out.added.append(
            {
                "file": Path(path).name,
                "sha256": sha256_file(Path(path)),
                "rows": len(data.texts),
                "skipped": len(data.problems),
            }
        )
    if feedback_db is not None:
        path = Path(feedback_db)
        if not path.is_file():
            raise FileNotFoundError(f"feedback store {path} does not exist: nothing corrected yet")
        store = FeedbackStore(path)
        try:
            latest = store.latest()
        finally:
            store.close()
        for correction in latest:
            out.add(correction.headline, correction.topics, path.name, correction.id)
        out.feedback = corrections_record(latest, path.name)
    return out


def merge(data: LabelledData, corrections: Corrections) -> tuple[LabelledData, dict[str, Any]]:
    """``data`` with every corrected headline's rows replaced by its correction, and the
    manifest's ``corrections`` record."""
    known = set(data.labels) | {t for row in data.topics or () for t in row}
    rows = {}
    problems = list(corrections.problems)
    for key, (text, topics, source, number) in corrections.rows.items():
        unknown = [t for t in topics if t not in known]
        if unknown:
            reason = f"topic {unknown[0]!r} is not a topic of the training data"
            problems.append(Problem(source, number, reason))
        else:
            rows[key] = (text, topics)
    keep = [i for i, text in enumerate(data.texts) if normalise_headline(text) not in rows]
    topics = data.topics or [[label] for label in data.labels]
    groups = None
    if data.groups is not None:
        groups = [data.groups[i] for i in keep] + [CORRECTIONS_GROUP] * len(rows)
    merged = LabelledData(
        texts=[data.texts[i] for i in keep] + [text for text, _ in rows.values()],
        labels=[data.labels[i] for i in keep] + [t[0] for _, t in rows.values()],
        problems=data.problems + problems,
        rows_read=data.rows_read,
        groups=groups,
        topics=[topics[i] for i in keep] + [t for _, t in rows.values()],
    )
    for problem in problems:
        logger.warning("correction skipped: %s", problem)
    record = {
        "feedback": corrections.feedback,
        "added": corrections.added,
        "rows": len(rows),
        "replaced": len(data.texts) - len(keep),
        "skipped": len(problems),
    }
    return merged, record
