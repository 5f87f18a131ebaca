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
from typing import BinaryIO

from classifier.errors import DataError
from classifier.readers.decoding import decode, read_text
from classifier.readers.formats import record_format

# A cell may be any size: an archive holds the odd whole article pasted into one cell, and the
# csv module's default limit (128 KiB) turned it into a traceback, or a row with its columns
# blanked. The row is kept whole; a headline cell over the headline limit is then refused by
# length (``text.headline_problem``) before anything copies or encodes it. The limit is the
# module's, for the process: set once, here, where every CSV reader of the package imports it.
FIELD_SIZE_LIMIT = 2**31 - 1  # the largest every platform's C long holds
csv.field_size_limit(FIELD_SIZE_LIMIT)


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
    lines = text.splitlines()
    names = None
    if not header:
        first = next(csv.reader(lines[:1], delimiter=fmt.delimiter), [])
        names = numbered_columns(len(first))
        if missing := [c for c in required if c not in names]:
            raise DataError(
                f"{path}: with --no-header, columns are named by number, 1 to {len(names)}; "
                f"there is no column {', '.join(missing)}"
            )
    reader = csv.DictReader(lines, fieldnames=names, delimiter=fmt.delimiter)
    columns = reader.fieldnames or []
    try:
        check_header(list(columns))
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from exc
    if missing := [c for c in required if c not in columns]:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(columns) or 'none'}"
        )
    shape = "the first row" if names else "the header"
    for number, record in enumerate(_rows(reader), start=1):
        if isinstance(record, str):
            yield number, Problem(str(path), number, record)
            continue
        if None in record:
            yield number, Problem(str(path), number, f"more fields than {shape}")
            continue
        yield number, record


def _rows(reader: csv.DictReader) -> Iterator[dict[str, object] | str]:
    """The reader's records; a row the csv module rejects is its reason, not a traceback."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f"unreadable CSV row: {exc}"


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
