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

logger = logging.getLogger(__name__)

TEXT_COLUMN = "headline"
LABEL_COLUMN = "topic"
GROUP_COLUMN = "set"


@dataclass
class LabelledData:
    texts: list[str]
    labels: list[str]
    problems: list[Problem]
    rows_read: int
    groups: list[str] | None = None


def read_labelled(
    path: str | Path,
    *,
    text_column: str = TEXT_COLUMN,
    label_column: str = LABEL_COLUMN,
    group_column: str = GROUP_COLUMN,
    encoding: str | None = "utf-8-sig",
    header: bool = True,
    max_chars: int | None = None,
) -> LabelledData:
    """Headlines and topics from a CSV/JSONL file; bad rows are listed, not dropped in silence.

    An optional ``group_column`` (default ``set``) says where each row came from; when every usable
    row has one, training cross-validates by holding out whole groups. A headline over
    ``max_chars`` characters is a problem row, never normalised or embedded; ``header=False``
    reads a CSV without a header, its columns named ``1``, ``2``...
    """
    texts: list[str] = []
    labels: list[str] = []
    groups: list[str | None] = []
    problems: list[Problem] = []
    rows = 0
    for number, record in iter_records(
        path, encoding=encoding, required=(text_column, label_column), header=header
    ):
        rows += 1
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
        elif not isinstance(label, str) or not label.strip():
            problems.append(Problem(str(path), number, f"missing {label_column}"))
        else:
            texts.append(" ".join(text.split()))
            labels.append(label.strip())
            group = record.get(group_column)
            groups.append(group.strip() if isinstance(group, str) and group.strip() else None)
    if not texts:
        raise DataError(f"{path}: no usable rows ({len(problems)} problem(s))")
    complete = all(g is not None for g in groups)
    return LabelledData(texts, labels, problems, rows, groups if complete else None)
