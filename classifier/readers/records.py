"""Whole files of records with a row number each: training and evaluation sets, cluster inputs.

These files are small enough to read at once, and reading them at once lets a wrong encoding
fail before any row is used. Nothing here drops a row silently: a row that cannot be parsed is
yielded as a :class:`Problem`, so the caller can count it, print it, or refuse the file. Row
numbers are the ones a person finds in an editor: line numbers for JSONL and plain text, data
rows counted from 1 after the header for CSV.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from classifier.errors import DataError
from classifier.readers.decoding import decode, read_text
from classifier.readers.formats import record_format


@dataclass(frozen=True)
class Problem:
    """A row that was not used, and why."""

    file: str
    row: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.reason}"


def check_header(header: list[str]) -> None:
    """Refuse a CSV header that names a column twice: which of the two would be meant is a guess
    (``csv.DictReader`` silently keeps the last), and a wrong guess trains a wrong model."""
    if len(set(header)) != len(header):
        repeated = sorted({name for name in header if header.count(name) > 1})
        raise DataError(f"the CSV header repeats column(s) {', '.join(repeated)}")


def iter_records(
    path: str | os.PathLike[str], *, encoding: str = "utf-8-sig", required: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, object] | Problem]]:
    """Yield ``(row_number, record)`` from a CSV/TSV or JSONL file; unparseable rows as Problems.

    A file without the ``required`` columns (CSV header, or the first JSON record's fields) is
    refused as a whole, before any row: it is the wrong file or the wrong ``--text-column``.
    """
    path = Path(path)
    text = read_text(path, encoding)
    fmt = record_format(path)
    if fmt.kind == "jsonl":
        yield from _json_records(path, text, required)
        return
    reader = csv.DictReader(text.splitlines(), delimiter=fmt.delimiter)
    columns = reader.fieldnames or []
    try:
        check_header(list(columns))
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from exc
    if missing := [c for c in required if c not in columns]:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(columns) or 'none'}"
        )
    for number, record in enumerate(reader, start=1):
        if None in record:
            yield number, Problem(str(path), number, "more fields than the header")
            continue
        yield number, record


def _json_records(
    path: Path, text: str, required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, object] | Problem]]:
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


def iter_lines(source: str, *, encoding: str = "utf-8-sig") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` of a plain text file, or of stdin for ``-``.

    Any line ending (``\\n``, ``\\r\\n``, ``\\r``) ends a line and is not part of it; blank lines
    are yielded too, so that the numbers stay the editor's.
    """
    if source == "-":
        text = decode(sys.stdin.buffer.read(), encoding, source)
    else:
        text = read_text(source, encoding)
    for number, line in enumerate(io.StringIO(text, newline=None), start=1):
        yield number, line.rstrip("\r\n")
