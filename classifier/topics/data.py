"""Read labelled headlines and plain headline lists, reporting every bad row by file and line.

Nothing here drops a row silently: a row that cannot be used is returned as a ``Problem`` so the
caller can count it, print it, or refuse the file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from classifier.errors import DataError
from classifier.readers.records import Problem, iter_records
from classifier.text import headline_problem, too_long
from classifier.topics.multi import NONE_LABEL

logger = logging.getLogger(__name__)

TEXT_COLUMN = "headline"
LABEL_COLUMN = "topic"
TOPICS_COLUMN = "topics"
GROUP_COLUMN = "set"
#: Between the topics of one row in a ``topics`` cell: ``trade;geopolitics``.
TOPIC_SEPARATOR = ";"


@dataclass
class LabelledData:
    texts: list[str]
    labels: list[str]
    problems: list[Problem]
    rows_read: int
    groups: list[str] | None = None
    #: Every topic of each row, primary first (``[label]`` where the file has only ``topic``).
    topics: list[list[str]] | None = None

    @property
    def multi_topic(self) -> bool:
        """Whether any row has more than one topic: then multi-topic scores apply."""
        return any(len(t) > 1 for t in self.topics or ())


def parse_topics(cell: object, primary: object = None) -> tuple[list[str] | None, str | None]:
    """The topic list of a ``topics`` cell (and ``topic`` cell), or None and why it is unusable.

    The primary topic is the ``topic`` cell when there is one, else the first of ``topics``; when
    both are given they must agree, because a file that says two things has no right answer.
    """
    label = primary.strip() if isinstance(primary, str) else ""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return ([label], None) if label else (None, f"missing {LABEL_COLUMN}")
    if not isinstance(cell, str):
        return None, f"{TOPICS_COLUMN} is not text"
    topics = [part.strip() for part in cell.split(TOPIC_SEPARATOR)]
    if any(not part for part in topics):
        return None, f"empty topic in {TOPICS_COLUMN} {cell!r}"
    if len(set(topics)) != len(topics):
        return None, f"a topic is repeated in {TOPICS_COLUMN} {cell!r}"
    if NONE_LABEL in topics and len(topics) > 1:
        return None, f"{NONE_LABEL!r} beside a real topic in {TOPICS_COLUMN} {cell!r}"
    if label and label != topics[0]:
        return None, f"{LABEL_COLUMN} {label!r} is not the first of {TOPICS_COLUMN} {cell!r}"
    return topics, None


def read_labelled(
    path: str | Path,
    *,
    text_column: str = TEXT_COLUMN,
    label_column: str = LABEL_COLUMN,
    topics_column: str = TOPICS_COLUMN,
    group_column: str = GROUP_COLUMN,
    encoding: str | None = "utf-8-sig",
    header: bool = True,
    max_chars: int | None = None,
) -> LabelledData:
    """Headlines and topics from a CSV/JSONL file; bad rows are listed, not dropped in silence.

    A row's topics come from ``topics_column`` (``trade;geopolitics``, primary first) and/or
    ``label_column`` (one topic); a file needs one of the two columns. An optional
    ``group_column`` (default ``set``) says where each row came from; when every usable row has
    one, training cross-validates by holding out whole groups. A headline over ``max_chars``
    characters is a problem row, never normalised or embedded; ``header=False`` reads a CSV
    without a header, its columns named ``1``, ``2``... (then ``label_column`` is required: a
    numbered file has no ``topics`` column).
    """
    texts: list[str] = []
    labels: list[str] = []
    all_topics: list[list[str]] = []
    groups: list[str | None] = []
    problems: list[Problem] = []
    rows = 0
    # without a header there is no topics column: the label column is the one that must exist
    required = (text_column,) if header else (text_column, label_column)
    for number, record in iter_records(path, encoding=encoding, required=required, header=header):
        rows += 1
        if rows == 1 and isinstance(record, dict):
            _check_label_columns(path, record, label_column, topics_column)
        if isinstance(record, Problem):
            problems.append(record)
            continue
        text, label = record.get(text_column), record.get(label_column)
        if not isinstance(text, str):
            problems.append(Problem(str(path), number, f"{text_column} is not text"))
        elif headline_problem(text, max_chars) == "too long":
            words = too_long(len(text), max_chars or 0)
            problems.append(Problem(str(path), number, f"{text_column} too long: {words}"))
        elif not text.strip():
            problems.append(Problem(str(path), number, f"empty {text_column}"))
        elif (parsed := parse_topics(record.get(topics_column), label))[0] is None:
            problems.append(Problem(str(path), number, str(parsed[1])))
        else:
            topics = parsed[0]
            texts.append(" ".join(text.split()))
            labels.append(topics[0])
            all_topics.append(topics)
            group = record.get(group_column)
            groups.append(group.strip() if isinstance(group, str) and group.strip() else None)
    if not texts:
        raise DataError(f"{path}: no usable rows ({len(problems)} problem(s))")
    complete = all(g is not None for g in groups)
    return LabelledData(texts, labels, problems, rows, groups if complete else None, all_topics)


def _check_label_columns(path, record: dict, label_column: str, topics_column: str) -> None:
    """A file needs a ``topic`` or a ``topics`` column (CSV header, or the first JSON record)."""
    if label_column not in record and topics_column not in record:
        raise DataError(
            f"{path}: needs a {label_column!r} or {topics_column!r} column; "
            f"found {', '.join(map(str, record)) or 'none'}"
        )
