"""Whole files of records with a row number each: training and evaluation sets, cluster inputs.

These files are small enough to read at once, and reading them at once lets a wrong encoding
fail before any row is used. Nothing here drops a row silently: a row that cannot be parsed is
yielded as a :class:`Problem`, so the caller can count it, print it, or refuse the file. Row
numbers are the ones a person finds in an editor: line numbers for JSONL and plain text, data
rows counted from 1 after the header for CSV.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from classifier.errors import DataError
from classifier.readers.csvlines import csv_rows
from classifier.readers.decoding import decode, read_text
from classifier.readers.formats import record_format


def numbered_columns(count: int) -> list[str]:
    """The column names of a CSV read without a header: ``1``, ``2``... as ``cut -f`` counts."""
    return [str(i) for i in range(1, count + 1)]


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
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8-sig",
    required: tuple[str, ...] = (),
    header: bool = True,
) -> Iterator[tuple[int, dict[str, object] | Problem]]:
    """Yield ``(row_number, record)`` from a CSV/TSV or JSONL file; unparseable rows as Problems.

    A file without the ``required`` columns (CSV header, or the first JSON record's fields) is
    refused as a whole, before any row: it is the wrong file or the wrong ``--text-column``.
    ``header=False`` reads a CSV that has none: its columns are named ``1``, ``2``... (as many
    as the first row has) and ``required`` names them by those numbers.
    """
    path = Path(path)
    fmt = record_format(path)
    if not header and fmt.kind != "csv":
        raise DataError(f"{path}: --no-header is for CSV and TSV files; JSONL names its fields")
    text = read_text(path, encoding)
    if fmt.kind == "jsonl":
        yield from _json_records(path, text, required)
        return
    rows = csv_rows(text.splitlines(), fmt.delimiter)
    del text  # the lines hold the text now; a huge file is not kept twice
    first = next(rows, [])
    if isinstance(first, str):
        raise DataError(f"{path}: cannot read the first row: {first}")
    columns = first
    if not header:
        columns = numbered_columns(len(first))
        rows = itertools.chain([first], rows)
        if missing := [c for c in required if c not in columns]:
            raise DataError(
                f"{path}: with --no-header, columns are named by number, 1 to {len(columns)}; "
                f"there is no column {', '.join(missing)}"
            )
    try:
        check_header(list(columns))
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from exc
    if missing := [c for c in required if c not in columns]:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(columns) or 'none'}"
        )
    shape = "the header" if header else "the first row"
    width = len(columns)
    for number, fields in enumerate(rows, start=1):
        if isinstance(fields, str):
            yield number, Problem(str(path), number, fields)
        elif len(fields) > width:
            yield number, Problem(str(path), number, f"more fields than {shape}")
        else:  # as csv.DictReader: a short row's missing columns are None
            yield number, dict(itertools.zip_longest(columns, fields))


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


@dataclass(frozen=True)
class LongLine:
    """A line of a stream too long to be a headline: its first characters and its length.

    Its text is never held whole: a 50 MB line costs the memory of its first characters.
    """

    start: str
    length: int  # in characters


_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 bytes that do not start a character


def _characters(raw: bytes) -> int:
    return len(raw.translate(None, _CONTINUATION))


def bounded_lines(binary: BinaryIO, max_chars: int) -> Iterator[str | LongLine]:
    """The UTF-8 lines of ``binary`` (undecodable bytes kept as ``surrogateescape``), with a
    line of more than ``max_chars`` characters as a :class:`LongLine`, read in bounded pieces.
    """
    limit = 4 * max_chars + 2  # more bytes than this is more than max_chars characters
    while line := binary.readline(limit):
        if len(line) < limit or line.endswith(b"\n"):
            yield line.decode("utf-8", "surrogateescape").rstrip("\r\n")
            continue
        start, length = line[:limit], _characters(line)
        while not line.endswith(b"\n") and (line := binary.readline(1 << 20)):
            length += _characters(line)
        length -= len(line) - len(line.rstrip(b"\r\n"))
        yield LongLine(start.decode("utf-8", "replace")[:max_chars], length)


_LINE_END = re.compile(r"\r\n|\r|\n")


def iter_lines(source: str, *, encoding: str = "utf-8-sig") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` of a plain text file, or of stdin for ``-``.

    Any line ending (``\\n``, ``\\r\\n``, ``\\r``) ends a line and is not part of it; blank lines
    are yielded too, so that the numbers stay the editor's.
    """
    if source == "-":
        text = decode(sys.stdin.buffer.read(), encoding, source)
    else:
        text = read_text(source, encoding)
    # split, not io.StringIO: that copies the text at 4 bytes a character (200 MB for a 50 MB
    # line), where the lines cost their own size and the text is let go
    lines = _LINE_END.split(text)
    del text
    if lines and not lines[-1]:
        lines.pop()  # the line end of the last line starts no line
    yield from enumerate(lines, start=1)
