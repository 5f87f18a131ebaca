"""Stream rows out of CSV, JSONL and Parquet archives, in chunks, whatever their size.

Archives can be far larger than memory, so nothing here reads a whole file: a reader yields
:class:`~classifier.readers.chunks.Chunk` objects of a few thousand rows, can skip the rows an
interrupted run already did, and says how far it has got (through gzip too) for a progress bar.
A row that cannot be parsed is never dropped: it comes out with an ``issue`` saying what was
wrong. Text is decoded with ``surrogateescape`` so a stray invalid byte spoils one row, not the
file.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from classifier.errors import DataError
from classifier.readers.chunks import (
    RAW_LINE_COLUMN,
    Chunk,
    CsvRows,
    JsonlRows,
    iter_csv_fields,
    rename_clashes,
)
from classifier.readers.formats import FileFormat, detect_format
from classifier.readers.split import scan_jsonl

__all__ = ["RAW_LINE_COLUMN", "CsvReader", "JsonlReader", "ParquetReader", "Reader", "open_reader"]
_DAMAGE = (EOFError, gzip.BadGzipFile, OSError)  # a truncated gzip member, a bad disk block


class _ByteCounter(io.RawIOBase):
    """Wraps a binary file and counts bytes read, so progress works through gzip too."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


class Reader:
    """What every streaming reader offers; use one as a context manager to close its file."""

    columns: list[str]
    total_rows: int | None = None

    def __init__(self, path: Path, fmt: FileFormat, text_column: str, reserved: set[str]):
        self.path = path
        self.fmt = fmt
        self.text_column = text_column
        self.reserved = reserved
        self.size = path.stat().st_size

    def chunks(self, size: int, skip: int = 0) -> Iterator[Chunk]:  # pragma: no cover
        """Chunks of up to ``size`` rows in file order, after the first ``skip`` rows."""
        raise NotImplementedError

    def empty_chunk(self) -> Chunk:
        """No rows but the input's columns, for writing an empty output's schema."""
        return Chunk.empty()

    def fraction_done(self) -> float | None:
        """Share of the input read so far, or None when it cannot be known."""
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _LineReader(Reader):
    """A reader of a text format, one row per item of ``_items()`` (CSV rows, JSONL lines)."""

    _stream: Any
    _counter: _ByteCounter

    def _items(self) -> Iterator[Any]:  # pragma: no cover
        raise NotImplementedError

    def _build(self, start: int, batch: list[Any]) -> Chunk:  # pragma: no cover
        raise NotImplementedError

    def chunks(self, size: int, skip: int = 0) -> Iterator[Chunk]:
        start = 0
        try:
            items = self._items()
            for _ in range(skip):
                if next(items, None) is None:
                    return
                start += 1
            for batch in _batched(items, size):
                yield self._build(start, batch)
                start += len(batch)
        except _DAMAGE as exc:
            raise DataError(f"{self.path}: the file is damaged after row {start}: {exc}") from exc

    def fraction_done(self) -> float | None:
        return min(1.0, self._counter.count / self.size) if self.size else None

    def close(self) -> None:
        self._stream.close()
        self._counter.close()


def _open_binary(path: Path, compressed: bool) -> tuple[Any, _ByteCounter]:
    """A buffered (and maybe gunzipping) binary stream, and the counter of raw bytes read."""
    counter = _ByteCounter(open(path, "rb"))  # noqa: SIM115 - closed by the reader
    binary: Any = io.BufferedReader(counter, 1 << 16)
    if compressed:
        # GzipFile does not close a file object it was given; the reader closes ``counter``
        binary = gzip.GzipFile(fileobj=binary, mode="rb")
    return binary, counter


def _batched(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class CsvReader(_LineReader):
    """CSV or TSV, optionally gzip; the header is checked when the reader is opened."""

    def __init__(self, path: Path, fmt: FileFormat, text_column: str, reserved: set[str]):
        super().__init__(path, fmt, text_column, reserved)
        binary, self._counter = _open_binary(path, fmt.gzip)
        self._stream = io.TextIOWrapper(
            binary, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        try:
            self._reader = csv.reader(self._stream, delimiter=fmt.delimiter)
            try:
                header = next(self._reader)
            except StopIteration:
                header = []
            except (csv.Error, EOFError, gzip.BadGzipFile) as exc:
                raise DataError(f"{path}: cannot read the header: {exc}") from exc
            if header and header[0].startswith("\ufeff"):
                header[0] = header[0][1:]
            try:
                self.rows = CsvRows(header, text_column, reserved)
            except DataError as exc:
                raise DataError(f"{path}: {exc}") from exc
        except BaseException:
            self.close()
            raise
        self.columns = self.rows.columns

    def _items(self) -> Iterator[list[str] | str]:
        return iter_csv_fields(self._reader)

    def _build(self, start: int, batch: list[list[str] | str]) -> Chunk:
        return self.rows.build(start, batch)


class JsonlReader(_LineReader):
    """JSON lines, optionally gzip; a broken line keeps its text in a ``raw_line`` column."""

    def __init__(
        self,
        path: Path,
        fmt: FileFormat,
        text_column: str,
        reserved: set[str],
        scanned: tuple[list[str], bool] | None = None,
    ):
        """``scanned``: the (keys, has broken lines) of a scan already made, else one is made."""
        super().__init__(path, fmt, text_column, reserved)
        keys, self.has_bad_lines = scanned or scan_jsonl_columns(path, fmt)
        self.columns, self.renames = jsonl_layout(
            path, keys, self.has_bad_lines, text_column, reserved
        )
        self._rows = JsonlRows(text_column, self.renames)
        self._stream, self._counter = _open_binary(path, fmt.gzip)

    def _items(self) -> Iterator[bytes]:
        for line in self._stream:
            if line.strip():
                yield line

    def _build(self, start: int, batch: list[bytes]) -> Chunk:
        return self._rows.build(start, batch)


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


def scan_jsonl_columns(path: Path, fmt: FileFormat) -> tuple[list[str], bool]:
    """Every key used in a JSONL file, in order of first use, and whether any line is broken."""
    columns, bad, _ = scan_jsonl(str(path), fmt)
    return columns, bad


class ParquetReader(Reader):
    """A Parquet file, read by row groups; its column types are kept."""

    def __init__(self, path: Path, fmt: FileFormat, text_column: str, reserved: set[str]):
        super().__init__(path, fmt, text_column, reserved)
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{path}: not a readable Parquet file: {exc}") from exc
        names = self._file.schema_arrow.names
        if text_column not in names:
            raise DataError(
                f"{path}: no {text_column!r} column; found {', '.join(names)} "
                "(choose one with --text-column)"
            )
        self.renames = rename_clashes(names, reserved)
        self.columns = [self.renames.get(c, c) for c in names]
        self.total_rows = self._file.metadata.num_rows
        self._done = 0

    def chunks(self, size: int, skip: int = 0) -> Iterator[Chunk]:
        metadata = self._file.metadata
        first_group, offset = 0, 0
        while (
            first_group < metadata.num_row_groups
            and offset + metadata.row_group(first_group).num_rows <= skip
        ):
            offset += metadata.row_group(first_group).num_rows
            first_group += 1
        start = skip
        drop = skip - offset
        groups = list(range(first_group, metadata.num_row_groups))
        if not groups:
            return
        try:
            for batch in self._file.iter_batches(batch_size=size, row_groups=groups):
                table = pa.Table.from_batches([batch])
                if drop:
                    cut = min(drop, table.num_rows)
                    table, drop = table.slice(cut), drop - cut
                    if not table.num_rows:
                        continue
                texts = table.column(self.text_column).to_pylist()
                table = table.rename_columns(self.columns)
                self._done = start + table.num_rows
                yield Chunk(start, texts, [None] * len(texts), table=table)
                start += table.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{self.path}: the file is damaged after row {start}: {exc}") from exc

    def empty_chunk(self) -> Chunk:
        return Chunk.empty(self._file.schema_arrow, self.columns)

    def fraction_done(self) -> float | None:
        return self._done / self.total_rows if self.total_rows else None

    def close(self) -> None:
        self._file.close()


def open_reader(path: str | os.PathLike[str], *, text_column: str, reserved: set[str]) -> Reader:
    """A streaming reader for ``path``, checked up front for the text column.

    ``reserved`` names the columns the caller will add to each row; input columns with those
    names are renamed (``topic`` -> ``topic_input``) instead of being overwritten.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder; name a CSV, JSONL or Parquet file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    fmt = detect_format(path)
    cls = {"csv": CsvReader, "jsonl": JsonlReader, "parquet": ParquetReader}[fmt.kind]
    return cls(path, fmt, text_column, reserved)
