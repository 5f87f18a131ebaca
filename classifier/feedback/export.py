"""Corrections as CSV or JSON Lines: the export of ``GET /v1/feedback``.

The rows have ``headline``, ``topic`` (the primary topic) and ``topics`` (all, ``;``-separated
in CSV, a list in JSONL) like a training file, so an export is a file ``train --add`` reads back
as it is. CSV cells go through :func:`classifier.text.spreadsheet_safe` like every CSV we write
(a headline starting with ``=`` gets a leading quote); JSON Lines keep every value as stored.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence

from classifier.feedback.store import Correction
from classifier.text import spreadsheet_safe

FORMATS = ("jsonl", "csv")
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}
COLUMNS = (
    "id",
    "created",
    "headline",
    "topic",
    "topics",
    "note",
    "labeller",
    "model",
    "model_topics",
)
TOPIC_SEPARATOR = ";"  # as in training files (classifier.topics.data.TOPIC_SEPARATOR)


def record(correction: Correction) -> dict[str, object]:
    """One export row: the stored correction with its primary topic beside the list."""
    out = correction.to_dict()
    out["topic"] = correction.topics[0]
    return {name: out[name] for name in COLUMNS}


def jsonl_lines(corrections: Iterable[Correction]) -> Iterator[str]:
    for correction in corrections:
        yield json.dumps(record(correction), ensure_ascii=False) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = TOPIC_SEPARATOR.join(value)
    return spreadsheet_safe(str(value))


def csv_lines(corrections: Iterable[Correction]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for correction in corrections:
        writer.writerow(_cell(value) for value in record(correction).values())
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()  # the header alone, when there is no correction


def export_lines(corrections: Sequence[Correction], fmt: str) -> Iterator[str]:
    """The export of ``corrections`` in ``fmt`` (one of :data:`FORMATS`), line by line."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return csv_lines(corrections) if fmt == "csv" else jsonl_lines(corrections)
