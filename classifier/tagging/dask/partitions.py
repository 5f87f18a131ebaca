"""Split an archive into partitions and read one, parsing rows exactly like the local engine.

CSV and JSONL are split into byte ranges that start and end where a record ends, found by one
pass of the local reader's own parser over the file (:mod:`classifier.readers.split`): a quoted
line break at a block edge, a BOM, CRLF, a bad row or an undecodable byte lands in the same row,
marked the same way, as in the local engine, and no row is read twice or shifted. Gzip files are
split the same way, by uncompressed offsets (a task decompresses and skips what precedes its
range). Parquet is split into its row groups.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from classifier.errors import DataError
from classifier.readers.base import check_typed_input
from classifier.readers.chunks import Chunk, CsvRows, JsonlRows, numbered_columns, rename_clashes
from classifier.readers.decoding import DEFAULT_ENCODING, encoding_label, text_encoding
from classifier.readers.formats import FileFormat, detect_format
from classifier.readers.split import ByteRange, csv_records, range_lines, scan_csv, scan_jsonl
from classifier.readers.stream import check_jsonl_reading, jsonl_layout
from classifier.readers.urls import is_url, open_url
from classifier.tagging.results import output_columns


@dataclass(frozen=True)
class Part:
    """One partition of the input: a byte range of a text file or a row group of a Parquet file."""

    path: str
    start: int = 0
    end: int = 0
    first_row: int = 0
    rows: int = 0
    row_group: int = -1

    @property
    def byte_range(self) -> ByteRange:
        return ByteRange(self.start, self.end, self.first_row, self.rows)


@dataclass(frozen=True)
class Plan:
    """How an input is partitioned, and what every partition's rows look like."""

    fmt: FileFormat
    parts: tuple[Part, ...]
    columns: tuple[str, ...]  # output names of the input columns
    header: tuple[str, ...] = ()  # CSV: the header as read
    renames: tuple[tuple[str, str], ...] = ()  # JSONL: input keys renamed to spare tag's columns
    text_column: str = "headline"
    encoding: str = DEFAULT_ENCODING
    has_header: bool = True

    @property
    def total_rows(self) -> int:
        return sum(p.rows for p in self.parts)

    def identity(self) -> dict[str, Any]:
        """What a resumed run must find unchanged: the same partitions at the same offsets, and
        the same way of reading them (only recorded when not the default, so older runs resume)."""
        identity: dict[str, Any] = {
            "partitions": len(self.parts),
            "boundaries": [p.start for p in self.parts][:1000],
        }
        if self.encoding != DEFAULT_ENCODING:
            identity["encoding"] = self.encoding
        if not self.has_header:
            identity["header"] = False
        return identity

    def empty_chunk(self, path: str | None = None) -> Chunk:
        """No rows, but the input's columns (with the Parquet types of ``path`` or the first)."""
        if self.fmt.kind == "parquet":
            schema = _parquet_file(path or self.parts[0].path).schema_arrow
            return Chunk.empty(schema, list(self.columns))
        return Chunk.empty()


def plan_partitions(
    path: Path | str,
    text_column: str,
    blocksize: int,
    *,
    encoding: str | None = None,
    header: bool = True,
) -> Plan:
    """Split an input into partitions of about ``blocksize`` bytes (Parquet: by row group).

    ``encoding`` and ``header`` are :func:`~classifier.readers.stream.open_reader`'s, and read
    the input as the local engine reads it: a headerless CSV's columns are named ``1``, ``2``...
    """
    fmt = detect_format(path)
    reserved = set(output_columns(False))
    if fmt.kind == "parquet":
        check_typed_input(Path(str(path)), encoding, header)
        return _plan_parquet(path, fmt, text_column, reserved)
    codec = text_encoding(encoding)
    how: dict[str, Any] = {"text_column": text_column, "encoding": codec, "has_header": header}
    if fmt.kind == "jsonl":
        check_jsonl_reading(path, codec, header)
        keys, bad, ranges = scan_jsonl(str(path), fmt, blocksize, encoding=codec)
        columns, renames = jsonl_layout(path, keys, bad, text_column, reserved)
        return Plan(fmt, _parts(path, ranges), tuple(columns), (), tuple(renames.items()), **how)
    first, ranges = scan_csv(str(path), fmt, blocksize, codec=codec, header=header)
    if isinstance(first, str):
        raise DataError(f"{path}: cannot read the first row: {first}")
    first = list(first or [])
    if first and first[0].startswith("\ufeff"):  # a second BOM, as the local reader drops it
        first[0] = first[0][1:]
    names = first if header else numbered_columns(len(first))
    try:
        rows = CsvRows(
            names, text_column, reserved, numbered=not header, encoding=encoding_label(codec)
        )
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from exc
    return Plan(fmt, _parts(path, ranges), tuple(rows.columns), tuple(names), (), **how)


def _parts(path: Path | str, ranges: list[ByteRange]) -> tuple[Part, ...]:
    return tuple(Part(str(path), r.start, r.end, r.first_row, r.rows) for r in ranges)


def _parquet_file(path: str) -> pq.ParquetFile:
    return pq.ParquetFile(open_url(path) if is_url(path) else path)


def _plan_parquet(path: Path | str, fmt: FileFormat, text_column: str, reserved: set[str]) -> Plan:
    if is_url(path):
        files: list[Path | str] = [str(path)]
    else:
        path = Path(path)
        files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise DataError(f"{path}: no .parquet files")
    schema = _parquet_file(str(files[0])).schema_arrow
    if text_column not in schema.names:
        raise DataError(f"{path}: no {text_column!r} column; found {', '.join(schema.names)}")
    renames = rename_clashes(schema.names, reserved)
    parts, row = [], 0
    for file in files:
        metadata = _parquet_file(str(file)).metadata
        for group in range(metadata.num_row_groups):
            rows = metadata.row_group(group).num_rows
            parts.append(Part(str(file), first_row=row, rows=rows, row_group=group))
            row += rows
    columns = tuple(renames.get(c, c) for c in schema.names)
    return Plan(fmt, tuple(parts), columns, text_column=text_column)


def read_part(part: Part, plan: Plan, chunk_size: int) -> Iterator[Chunk]:
    """The rows of one partition in chunks of up to ``chunk_size``, parsed as the local engine does."""
    if plan.fmt.kind == "parquet":
        table = _parquet_file(part.path).read_row_group(part.row_group)
        for offset in range(0, table.num_rows, chunk_size):
            piece = table.slice(offset, chunk_size)
            texts = piece.column(plan.text_column).to_pylist()
            piece = piece.rename_columns(list(plan.columns))
            yield Chunk(part.first_row + offset, texts, [None] * len(texts), table=piece)
        return
    lines = range_lines(part.path, plan.fmt, part.byte_range)
    if plan.fmt.kind == "jsonl":
        rows = JsonlRows(plan.text_column, dict(plan.renames), plan.encoding)
        items: Iterator[Any] = (line for line in lines if line.strip())
        build = rows.build
    else:
        csv_rows = CsvRows(
            list(plan.header),
            plan.text_column,
            set(output_columns(False)),
            numbered=not plan.has_header,
            encoding=encoding_label(plan.encoding),
        )
        items = csv_records(lines, plan.fmt.delimiter, [0], plan.encoding)
        if not plan.has_header and part.first_row == 0:
            items = _without_bom(items)
        build = csv_rows.build
    start, batch = part.first_row, []
    for item in items:
        batch.append(item)
        if len(batch) >= chunk_size:
            yield build(start, batch)
            start, batch = start + len(batch), []
    if batch:
        yield build(start, batch)


def _without_bom(items: Iterator[Any]) -> Iterator[Any]:
    """A headerless file's first row with a second BOM dropped from its first cell, as the
    local reader drops it (it reads that row as it would a header)."""
    first = next(items, None)
    if isinstance(first, list) and first and first[0].startswith("\ufeff"):
        first = [first[0][1:], *first[1:]]
    if first is not None:
        yield first
    yield from items
