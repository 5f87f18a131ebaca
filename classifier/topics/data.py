"""Read labelled headlines and plain headline lists, reporting every bad row by file and line.

Nothing here drops a row silently: a row that cannot be used is returned as a ``Problem`` so the
caller can count it, print it, or refuse the file.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from classifier.errors import DataError

logger = logging.getLogger(__name__)

TEXT_COLUMN = "headline"
LABEL_COLUMN = "topic"
GROUP_COLUMN = "set"


@dataclass(frozen=True)
class Problem:
    """A row that was not used, and why."""

    file: str
    row: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.reason}"


@dataclass
class LabelledData:
    texts: list[str]
    labels: list[str]
    problems: list[Problem]
    rows_read: int
    groups: list[str] | None = None


def _read_text(path: Path, encoding: str) -> str:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    raw = path.read_bytes()
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not valid {encoding} text (byte {exc.start}); "
            "save it as UTF-8 or pass --encoding with the file's encoding"
        ) from exc
    except LookupError as exc:
        raise DataError(f"unknown encoding {encoding!r}") from exc


def iter_records(
    path: str | Path, *, encoding: str = "utf-8-sig", required: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, object] | Problem]]:
    """Yield ``(row_number, record)`` from a CSV or JSONL file; unparseable rows as Problems.

    Row numbers are the file's own: line numbers for JSONL, data rows counted from 1 after the
    header for CSV, so a person can find the row.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    text = _read_text(path, encoding)
    if suffix in (".jsonl", ".ndjson", ".json"):
        seen_any = False
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, Problem(str(path), number, f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(record, dict):
                yield number, Problem(str(path), number, "not a JSON object")
                continue
            if not seen_any:
                seen_any = True
                if missing := [c for c in required if c not in record]:
                    raise DataError(f"{path}: first record has no {', '.join(missing)} field")
            yield number, record
    elif suffix in (".csv", ".tsv"):
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        columns = reader.fieldnames or []
        if missing := [c for c in required if c not in columns]:
            raise DataError(
                f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(columns) or 'none'}"
            )
        for number, record in enumerate(reader, start=1):
            if None in record:
                yield number, Problem(str(path), number, "more fields than the header")
                continue
            yield number, record
    else:
        raise DataError(f"{path}: unsupported file type {suffix or '(none)'}; use .csv or .jsonl")


def read_labelled(
    path: str | Path,
    *,
    text_column: str = TEXT_COLUMN,
    label_column: str = LABEL_COLUMN,
    group_column: str = GROUP_COLUMN,
    encoding: str = "utf-8-sig",
) -> LabelledData:
    """Headlines and topics from a CSV/JSONL file; bad rows are listed, not dropped in silence.

    An optional ``group_column`` (default ``set``) says where each row came from; when every usable
    row has one, training cross-validates by holding out whole groups.
    """
    texts: list[str] = []
    labels: list[str] = []
    groups: list[str | None] = []
    problems: list[Problem] = []
    rows = 0
    for number, record in iter_records(
        path, encoding=encoding, required=(text_column, label_column)
    ):
        rows += 1
        if isinstance(record, Problem):
            problems.append(record)
            continue
        text, label = record.get(text_column), record.get(label_column)
        if not isinstance(text, str):
            problems.append(Problem(str(path), number, f"{text_column} is not text"))
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
