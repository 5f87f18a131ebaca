"""What every streaming reader shares: the interface, chunking, progress and damage messages.

:mod:`classifier.readers.stream` has the CSV and JSONL readers and ``open_reader``,
:mod:`classifier.readers.parquet` the Parquet one; both build on :class:`Reader` here.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from classifier.errors import DataError
from classifier.readers.chunks import Chunk
from classifier.readers.decoding import text_encoding
from classifier.readers.formats import FileFormat

# a truncated gzip member, corrupt compressed data, a bad disk block
DAMAGE = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


def damage(path: Path, exc: BaseException, rows: int) -> DataError:
    """What went wrong with a file that stopped being readable, and after how many rows.

    ``rows`` is the number of rows read whole before it stopped: the output has them (a tag
    run keeps them for ``--resume`` once the file is repaired).
    """
    if isinstance(exc, EOFError):
        what = "the file is truncated (its compressed data ends early, as after a cut-off copy)"
    elif isinstance(exc, gzip.BadGzipFile):
        what = f"the file is damaged: not valid gzip data ({exc})"
    elif isinstance(exc, zlib.error):
        what = f"the file is damaged: its compressed data is corrupt ({exc})"
    else:
        what = f"the file could not be read ({exc})"
    where = f"after row {rows:,}" if rows else "before the first row"
    return DataError(f"{path}: {what}; reading stopped {where}")


def check_typed_input(path: Path, encoding: str | None, header: bool) -> None:
    """Refuse --encoding and --no-header for Parquet, whose text is typed UTF-8 in named
    columns: silently ignoring an option the user gave would hide a mistake."""
    if encoding is not None or not header:
        option = "--encoding" if encoding is not None else "--no-header"
        raise DataError(f"{path}: {option} is for CSV and JSONL; Parquet text is typed UTF-8")


class ByteCounter(io.RawIOBase):
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

    def __init__(
        self,
        path: Path,
        fmt: FileFormat,
        text_column: str,
        reserved: set[str],
        *,
        encoding: str | None = None,
        header: bool = True,
    ):
        self.path = path
        self.fmt = fmt
        self.text_column = text_column
        self.reserved = reserved
        self.encoding_given = encoding
        self.encoding = text_encoding(encoding)
        self.header = header
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


class LineReader(Reader):
    """A reader of a text format, one row per item of ``_items()`` (CSV rows, JSONL lines)."""

    _stream: Any
    _counter: ByteCounter

    def _items(self) -> Iterator[Any]:  # pragma: no cover
        raise NotImplementedError

    def _build(self, start: int, batch: list[Any]) -> Chunk:  # pragma: no cover
        raise NotImplementedError

    def chunks(self, size: int, skip: int = 0) -> Iterator[Chunk]:
        start = 0
        read = [0]  # rows read whole, for the message if the file stops being readable

        def counted() -> Iterator[Any]:
            for item in self._items():
                yield item
                read[0] += 1

        try:
            items = counted()
            for _ in range(skip):
                if next(items, None) is None:
                    return
                start += 1
            for batch in batched(items, size):
                yield self._build(start, batch)
                start += len(batch)
        except DAMAGE as exc:
            raise damage(self.path, exc, read[0]) from exc

    def fraction_done(self) -> float | None:
        return min(1.0, self._counter.count / self.size) if self.size else None

    def close(self) -> None:
        self._stream.close()
        self._counter.close()


def open_binary(path: Path, compressed: bool) -> tuple[Any, ByteCounter]:
    """A buffered (and maybe gunzipping) binary stream, and the counter of raw bytes read."""
    counter = ByteCounter(open(path, "rb"))  # noqa: SIM115 - closed by the reader
    binary: Any = io.BufferedReader(counter, 1 << 16)
    if compressed:
        # GzipFile does not close a file object it was given; the reader closes ``counter``
        binary = gzip.GzipFile(fileobj=binary, mode="rb")
    return binary, counter


def batched(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
