"""Stream rows out of CSV, JSONL and Parquet archives, in chunks, whatever their size.

Archives can be far larger than memory, so nothing here reads a whole file: a reader yields
:class:`~classifier.readers.chunks.Chunk` objects of a few thousand rows, can skip the rows an
interrupted run already did, and says how far it has got (through gzip too) for a progress bar.
A row that cannot be parsed is never dropped: it comes out with an ``issue`` saying what was
wrong. Text is decoded with ``surrogateescape`` so a stray invalid byte spoils one row, not the
file. What the readers share is in :mod:`classifier.readers.base`, Parquet in
:mod:`classifier.readers.parquet`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from classifier.errors import DataError
from classifier.readers.base import DAMAGE, LineReader, Reader, damage, open_binary
from classifier.readers.chunks import (
    RAW_LINE_COLUMN,
    Chunk,
    CsvRows,
    JsonlRows,
    numbered_columns,
    rename_clashes,
)
from classifier.readers.csvlines import csv_rows
from classifier.readers.decoding import encoding_label, is_line_splittable
from classifier.readers.formats import FileFormat, detect_format
from classifier.readers.parquet import ParquetReader
from classifier.readers.split import scan_jsonl

__all__ = [
    "RAW_LINE_COLUMN",
    "CsvReader",
    "JsonlReader",
    "ParquetReader",
    "Reader",
    "damage",
    "open_reader",
]


class CsvReader(LineReader):
    """CSV or TSV, optionally gzip; the header is checked when the reader is opened.

    Without a header (``header=False``) the columns are named by position, ``1``, ``2``... as
    many as the first row has, and ``text_column`` is one of those numbers.
    """

    def __init__(self, *args: Any, **read: Any):  # Reader's arguments
        super().__init__(*args, **read)
        path, fmt, text_column, reserved = self.path, self.fmt, self.text_column, self.reserved
        binary, self._counter = open_binary(path, fmt.gzip)
        self._stream = io.TextIOWrapper(
            binary, encoding=self.encoding, errors="surrogateescape", newline=""
        )
        self._first: list[str] | None = None  # a headerless file's first row, read to count
        try:
            self._reader = csv_rows(self._stream, fmt.delimiter)
            try:
                first = next(self._reader, [])
            except DAMAGE as exc:
                raise damage(path, exc, 0) from exc
            if isinstance(first, str):
                raise DataError(f"{path}: cannot read the first row: {first}")
            if first and first[0].startswith("\ufeff"):
                first[0] = first[0][1:]
            names = first
            if not self.header:
                self._first = first or None
                names = numbered_columns(len(first))
            try:
                self.rows = CsvRows(
                    names,
                    text_column,
                    reserved,
                    numbered=not self.header,
                    encoding=encoding_label(self.encoding),
                )
            except DataError as exc:
                raise DataError(f"{path}: {exc}") from exc
        except BaseException:
            self.close()
            raise
        self.columns = self.rows.columns

    def _items(self) -> Iterator[list[str] | str]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from self._reader

    def _build(self, start: int, batch: list[list[str] | str]) -> Chunk:
        return self.rows.build(start, batch)


class JsonlReader(LineReader):
    """JSON lines, optionally gzip; a broken line keeps its text in a ``raw_line`` column."""

    def __init__(
        self, *args: Any, scanned: tuple[list[str], bool] | None = None, **read: Any
    ):  # Reader's arguments
        """``scanned``: the (keys, has broken lines) of a scan already made, else one is made."""
        super().__init__(*args, **read)
        path, fmt, text_column = self.path, self.fmt, self.text_column
        check_jsonl_reading(path, self.encoding, self.header)
        keys, self.has_bad_lines = scanned or scan_jsonl_columns(path, fmt, self.encoding)
        self.columns, self.renames = jsonl_layout(
            path, keys, self.has_bad_lines, text_column, self.reserved
        )
        self._rows = JsonlRows(text_column, self.renames, self.encoding)
        self._stream, self._counter = open_binary(path, fmt.gzip)

    def _items(self) -> Iterator[bytes]:
        for line in self._stream:
            if line.strip():
                yield line

    def _build(self, start: int, batch: list[bytes]) -> Chunk:
        return self._rows.build(start, batch)


def check_jsonl_reading(path: str | os.PathLike[str], codec: str, header: bool) -> None:
    """Refuse what JSONL cannot be read with: --no-header (JSONL names its fields) and an
    encoding whose lines do not split on the byte ``\\n`` (UTF-16)."""
    if not header:
        raise DataError(f"{path}: --no-header is for CSV and TSV files; JSONL names its fields")
    if not is_line_splittable(codec):
        raise DataError(
            f"{path}: JSONL in {codec} cannot be read line by line; convert it to UTF-8"
        )


def jsonl_layout(
    path: str | os.PathLike[str],
    keys: list[str],
    bad: bool,
    text_column: str,
    reserved: set[str],
) -> tuple[list[str], dict[str, str]]:
    """The output columns of a JSONL file with these keys, and the keys renamed to make room."""
    if keys and text_column not in keys:
        raise DataError(
            f"{path}: no record has a {text_column!r} field; found {', '.join(keys)} "
            "(choose one with --text-column)"
        )
    columns = [*keys, RAW_LINE_COLUMN] if bad else list(keys)
    renames = rename_clashes(columns, reserved)
    return [renames.get(c, c) for c in columns], renames


def scan_jsonl_columns(
    path: Path, fmt: FileFormat, encoding: str = "utf-8"
) -> tuple[list[str], bool]:
    """Every key used in a JSONL file, in order of first use, and whether any line is broken."""
    columns, bad, _ = scan_jsonl(str(path), fmt, encoding=encoding)
    return columns, bad


def open_reader(
    path: str | os.PathLike[str],
    *,
    text_column: str,
    reserved: set[str],
    encoding: str | None = None,
    header: bool = True,
) -> Reader:
    """A streaming reader for ``path``, checked up front for the text column.

    ``reserved`` names the columns the caller will add to each row; input columns with those
    names are renamed (``topic`` -> ``topic_input``) instead of being overwritten. ``encoding``
    (default UTF-8, with or without a byte order mark) is the text's; ``header=False`` reads a
    CSV without a header row, its columns named ``1``, ``2``...
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder; name a CSV, JSONL or Parquet file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    fmt = detect_format(path)
    cls = {"csv": CsvReader, "jsonl": JsonlReader, "parquet": ParquetReader}[fmt.kind]
    return cls(path, fmt, text_column, reserved, encoding=encoding, header=header)
