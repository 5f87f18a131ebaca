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
from classifier.readers.chunks import Chunk, CsvRows, JsonlRows, rename_clashes
from classifier.readers.formats import FileFormat, detect_format
from classifier.readers.split import ByteRange, csv_records, range_lines, scan_csv, scan_jsonl
from classifier.readers.stream import jsonl_layout
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

    @property
    def total_rows(self) -> int:
        return sum(p.rows for p in self.parts)

    def identity(self) -> dict[str, Any]:
        """What a resumed run must find unchanged: the same partitions at the same offsets."""
        return {"partitions": len(self.parts), "boundaries": [p.start for p in self.parts][:1000]}

    def empty_chunk(self, path: str | None = None) -> Chunk:
        """No rows, but the input's columns (with the Parquet types of ``path`` or the first)."""
        if self.fmt.kind == "parquet":
            schema = _parquet_file(path or self.parts[0].path).schema_arrow
            return Chunk.empty(schema, list(self.columns))
        return Chunk.empty()


def plan_partitions(path: Path | str, text_column: str, blocksize: int) -> Plan:
    """Split an input into partitions of about ``blocksize`` bytes (Parquet: by row group)."""
    fmt = detect_format(path)
    reserved = set(output_columns(False))
    if fmt.kind == "parquet":
        return _plan_parquet(path, fmt, text_column, reserved)
    if fmt.kind == "jsonl":
        keys, bad, ranges = scan_jsonl(str(path), fmt, blocksize)
        columns, renames = jsonl_layout(path, keys, bad, text_column, reserved)
        return Plan(
            fmt, _parts(path, ranges), tuple(columns), (), tuple(renames.items()), text_column
        )
    header, ranges = scan_csv(str(path), fmt, blocksize)
    if isinstance(header, str):
        raise DataError(f"{path}: cannot read the header: {header}")
    header = list(header or [])
    if header and header[0].startswith("\ufeff"):  # a second BOM, as the local reader drops it
        header[0] = header[0][1:]
    try:
        rows = CsvRows(header, text_column, reserved)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from exc
    return Plan(fmt, _parts(path, ranges), tuple(rows.columns), tuple(header), (), text_column)


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
        rows = JsonlRows(plan.text_column, dict(plan.renames))
        items: Iterator[Any] = (line for line in lines if line.strip())
        build = rows.build
    else:
        csv_rows = CsvRows(list(plan.header), plan.text_column, set(output_columns(False)))
        items = csv_records(lines, plan.fmt.delimiter, [0])
        build = csv_rows.build
    start, batch = part.first_row, []
    for item in items:
        batch.append(item)
        if len(batch) >= chunk_size:
            yield build(start, batch)
            start, batch = start + len(batch), []
    if batch:
        yield build(start, batch)
