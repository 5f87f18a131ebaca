"""Cut a text archive into byte ranges that each start and end where a record really ends.

The Dask engine tags an archive in parallel, one byte range per task, and must give exactly the
rows the local engine reads from the whole file: a CSV headline may hold a quoted line break (at
a block edge too), so "the next line end" is not a record end. :func:`scan_csv` therefore runs
the very parser the local reader runs (:func:`~classifier.readers.csvlines.csv_rows` over lines
split the way ``TextIOWrapper(newline="")`` splits them, decoded with ``surrogateescape`` in the
file's encoding) over the file once,
and notes the byte offset after each record; a range read from such an offset with a fresh
parser yields the same records, bad ones included, as the whole-file parse yields there. JSONL
records end at every ``\\n``, as the local reader splits them. Only encodings whose lines split
on the bytes ``\\n`` and ``\\r`` can be cut this way (UTF-8, Latin-1, cp1252...; not UTF-16):
:func:`check_splittable` refuses the others.

Gzip cannot be read from the middle: offsets count uncompressed bytes, and a task reading a later
range decompresses (and discards) what comes before it. That costs a fraction of a second per
100 MB, little next to tagging the range.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from classifier.errors import DataError
from classifier.readers.base import DAMAGE, damage
from classifier.readers.csvlines import csv_rows
from classifier.readers.decoding import DEFAULT_ENCODING, is_line_splittable
from classifier.readers.formats import FileFormat
from classifier.readers.urls import is_url, open_url

_LONE_CR = re.compile(rb"\r(?!\n)")
_BOM = b"\xef\xbb\xbf"
_SKIP = 1 << 20  # bytes decompressed and discarded at a time on the way to a gzip range


@dataclass(frozen=True)
class ByteRange:
    """Records ``first_row`` .. ``first_row + rows - 1`` of a file, in bytes ``start`` to ``end``."""

    start: int
    end: int
    first_row: int
    rows: int


class _GzipOver(gzip.GzipFile):
    """A gzip stream over a file object it closes too (``GzipFile`` leaves a given one open)."""

    def __init__(self, raw: Any) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_binary(path: str, compressed: bool) -> Any:
    """The file's (uncompressed) bytes as a binary stream; ``path`` may be an ``s3://`` URL."""
    if not is_url(path):
        return gzip.open(path, "rb") if compressed else open(path, "rb")  # noqa: SIM115
    raw = open_url(path)
    return _GzipOver(raw) if compressed else raw


def text_lines(binary: Any) -> Iterator[bytes]:
    """Lines as ``TextIOWrapper(newline="")`` ends them: at ``\\n``, ``\\r\\n`` or a lone ``\\r``.

    Splitting bytes is splitting text here: no UTF-8 sequence holds a CR or LF byte.
    """
    for raw in binary:
        if b"\r" not in raw or _LONE_CR.search(raw) is None:
            yield raw
            continue
        start = 0
        for match in _LONE_CR.finditer(raw):
            yield raw[start : match.end()]
            start = match.end()
        if start < len(raw):
            yield raw[start:]


def check_splittable(path: Any, codec: str, engine: str = "the dask engine") -> None:
    """Refuse an encoding whose text cannot be cut into lines as bytes (UTF-16, UTF-32)."""
    if not is_line_splittable(codec):
        raise DataError(
            f"{path}: {engine} splits text on line ends, which {codec} text does not allow; "
            "tag it with the local engine or convert it to UTF-8"
        )


def _line_codec(codec: str) -> str:
    """The codec for one line: ``utf-8-sig`` would drop a BOM at the start of every line, where
    the local reader drops only the file's first (:func:`scan_csv` cuts that one)."""
    return "utf-8" if codec == DEFAULT_ENCODING else codec


def _decoded(lines: Iterator[bytes], position: list[int], codec: str) -> Iterator[str]:
    """Decode each line as the local reader does, counting the bytes handed to the parser."""
    codec = _line_codec(codec)
    for line in lines:
        position[0] += len(line)
        yield line.decode(codec, "surrogateescape")


def _cut(ends: Iterator[int], start: int, blocksize: int) -> list[ByteRange]:
    """Ranges of about ``blocksize`` bytes from the offsets after each record."""
    ranges, first, row, rows, end = [], start, 0, 0, start
    for end in ends:
        rows += 1
        if end - first >= blocksize:
            ranges.append(ByteRange(first, end, row, rows))
            first, row, rows = end, row + rows, 0
    if rows or not ranges:
        ranges.append(ByteRange(first, end, row, rows))
    return ranges


def csv_records(
    lines: Iterator[bytes],
    delimiter: str,
    position: list[int],
    codec: str = DEFAULT_ENCODING,
) -> Iterator[Any]:
    """Field lists (or a reason string for a row ``csv`` rejects), blank lines skipped.

    ``position[0]`` is, after each record, the byte offset where it ends.
    """
    return csv_rows(_decoded(lines, position, codec), delimiter)


def scan_csv(
    path: str,
    fmt: FileFormat,
    blocksize: int,
    *,
    codec: str = DEFAULT_ENCODING,
    header: bool = True,
) -> tuple[Any, list[ByteRange]]:
    """The first record (fields, or a reason string, or None: an empty file) and the ranges of
    the records after it; with ``header=False`` the ranges hold the first record too."""
    check_splittable(path, codec)
    rows = [0]  # data records scanned, for the message if the file stops being readable
    with open_binary(path, fmt.gzip) as binary:
        try:
            lines = text_lines(binary)
            first = next(lines, b"")
            bom = len(_BOM) if codec == DEFAULT_ENCODING and first.startswith(_BOM) else 0
            position = [bom]  # offsets count the BOM that the parser is not shown
            records = csv_records(_with_first(first[bom:], lines), fmt.delimiter, position, codec)
            if not header:
                return _scan_headerless(records, position, bom, blocksize, rows)
            head = next(records, None)
            header_end = position[0]
            if head is None:
                return None, [ByteRange(header_end, header_end, 0, 0)]

            def ends() -> Iterator[int]:
                for _ in records:
                    rows[0] += 1
                    yield position[0]

            return head, _cut(ends(), header_end, max(1, blocksize))
        except DAMAGE as exc:
            raise damage(path, exc, rows[0]) from exc


def _scan_headerless(
    records: Iterator[Any], position: list[int], start: int, blocksize: int, rows: list[int]
) -> tuple[Any, list[ByteRange]]:
    """The ranges of a file without a header: every record is a row, the first one too."""
    first = next(records, None)
    if first is None:
        return None, [ByteRange(start, start, 0, 0)]
    rows[0] = 1

    def ends() -> Iterator[int]:
        yield position[0]
        for _ in records:
            rows[0] += 1
            yield position[0]

    return first, _cut(ends(), start, max(1, blocksize))


def _with_first(first: bytes, lines: Iterator[bytes]) -> Iterator[bytes]:
    """The first line (its BOM cut: ``utf-8-sig`` drops one at the start), then the rest."""
    if first:
        yield first
    yield from lines


def range_lines(path: str, fmt: FileFormat, part: ByteRange) -> Iterator[bytes]:
    """The lines of bytes ``part.start`` to ``part.end`` (text lines for CSV, ``\\n`` for JSONL)."""
    with open_binary(path, fmt.gzip) as binary:
        try:
            if fmt.gzip:
                todo = part.start
                while todo > 0:
                    got = len(binary.read(min(todo, _SKIP)))
                    if not got:
                        break
                    todo -= got
                data = binary.read(part.end - part.start)
            else:
                binary.seek(part.start)
                data = binary.read(part.end - part.start)
        except DAMAGE as exc:
            raise damage(path, exc, part.first_row) from exc
    if len(data) != part.end - part.start:
        raise DataError(f"{path} changed while it was being tagged (shorter than planned)")
    stream = io.BytesIO(data)
    return text_lines(stream) if fmt.kind == "csv" else iter(stream)


def scan_jsonl(
    path: str, fmt: FileFormat, blocksize: int | None = None, *, encoding: str = DEFAULT_ENCODING
) -> tuple[list[str], bool, list[ByteRange]]:
    """Every key of a JSONL file in order of first use, whether any line is broken, and ranges.

    CSV and Parquet outputs need one set of columns before the first row is written; one pass
    over the keys (no model involved) costs seconds even on large archives, and finds the
    ``\\n`` that end ranges of about ``blocksize`` bytes on the way (one range when None).
    """
    seen: dict[str, None] = {}
    bad = False
    position = rows = 0

    def ends(binary: Any) -> Iterator[int]:
        nonlocal bad, position, rows
        for line in binary:
            position += len(line)
            if not line.strip():
                continue
            rows += 1
            try:
                record = json.loads(line.decode(encoding))  # as JsonlRows decodes it
            except (UnicodeDecodeError, json.JSONDecodeError):
                bad = True
                yield position
                continue
            if not isinstance(record, dict):
                bad = True
            else:
                for key in record:
                    if key not in seen:
                        seen[key] = None
            yield position

    with open_binary(path, fmt.gzip) as binary:
        try:
            ranges = _cut(ends(binary), 0, blocksize or (1 << 62))
        except DAMAGE as exc:
            raise damage(path, exc, rows) from exc
    return list(seen), bad, ranges
