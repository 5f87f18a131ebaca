"""Split an archive into partitions and read one, parsing rows exactly like the local engine.

CSV is split into byte blocks aligned to line starts (a row that straddles a boundary belongs to
the block it starts in), Parquet into its row groups. Gzip CSV cannot be split, so it is one
partition. JSONL is refused: it has no header to give a block its columns.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from classifier.errors import DataError
from classifier.readers.base import check_typed_input
from classifier.readers.chunks import Chunk, CsvRows, rename_clashes
from classifier.readers.csvlines import csv_rows
from classifier.readers.decoding import (
    DEFAULT_ENCODING,
    encoding_label,
    is_line_splittable,
    text_encoding,
)
from classifier.readers.formats import FileFormat, detect_format
from classifier.readers.stream import CsvReader
from classifier.tagging.results import output_columns

_WHOLE_FILE = 1 << 62  # rows per chunk when a partition is the whole (gzip) file


@dataclass(frozen=True)
class Part:
    """One partition of the input: a byte range of a CSV file or a row group of a Parquet file."""

    path: str
    start: int = 0
    end: int = -1  # -1: to the end (a gzip file is one partition)
    row_group: int = -1


@dataclass(frozen=True)
class Plan:
    """How an input is partitioned, and what every partition's rows look like."""

    fmt: FileFormat
    parts: tuple[Part, ...]
    columns: tuple[str, ...]  # output names of the input columns
    header: tuple[str, ...] = ()
    header_end: int = 0
    text_column: str = "headline"
    encoding: str = DEFAULT_ENCODING
    has_header: bool = True

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

    def empty_chunk(self) -> Chunk:
        """No rows, but the input's columns (with their Parquet types)."""
        if self.fmt.kind == "parquet":
            return Chunk.empty(pq.read_schema(self.parts[0].path), list(self.columns))
        return Chunk.empty()


def plan_partitions(
    path: Path,
    text_column: str,
    blocksize: int,
    *,
    encoding: str | None = None,
    header: bool = True,
) -> Plan:
    """Split an input into partitions; CSV by byte blocks aligned to lines, Parquet by row group.

    ``encoding`` and ``header`` are :func:`~classifier.readers.stream.open_reader`'s.
    """
    fmt = detect_format(path)
    reserved = set(output_columns(False))
    if fmt.kind == "parquet":
        check_typed_input(path, encoding, header)
        files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        if not files:
            raise DataError(f"{path}: no .parquet files")
        schema = pq.read_schema(files[0])
        if text_column not in schema.names:
            raise DataError(f"{path}: no {text_column!r} column; found {', '.join(schema.names)}")
        renames = rename_clashes(schema.names, reserved)
        parts = []
        for file in files:
            groups = pq.ParquetFile(file).metadata.num_row_groups
            parts += [Part(str(file), row_group=g) for g in range(groups)]
        columns = tuple(renames.get(c, c) for c in schema.names)
        return Plan(fmt, tuple(parts), columns, text_column=text_column)
    if fmt.kind != "csv":
        raise DataError(
            f"{path}: the dask engine reads CSV and Parquet; tag JSONL with the local engine "
            "or convert it to Parquet"
        )
    codec = text_encoding(encoding)
    if not fmt.gzip and not is_line_splittable(codec):
        raise DataError(
            f"{path}: the dask engine splits CSV on line ends, which {codec} text does not allow; "
            "tag it with the local engine or convert it to UTF-8"
        )
    with CsvReader(path, fmt, text_column, reserved, encoding=encoding, header=header) as reader:
        names, columns = tuple(reader.rows.source), tuple(reader.columns)
    size = path.stat().st_size
    how = {"text_column": text_column, "encoding": codec, "has_header": header}
    if fmt.gzip:
        return Plan(fmt, (Part(str(path)),), columns, names, 0, **how)
    with open(path, "rb") as handle:
        if header:
            handle.readline()
        header_end = handle.tell()
    starts = list(range(header_end, size, max(1, blocksize))) or [header_end]
    parts = tuple(
        Part(str(path), start, starts[i + 1] if i + 1 < len(starts) else size)
        for i, start in enumerate(starts)
    )
    return Plan(fmt, parts, columns, names, header_end, **how)


def read_part(part: Part, plan: Plan) -> Chunk:
    """The rows of one partition, parsed exactly like the local engine parses them."""
    if plan.fmt.kind == "parquet":
        table = pq.ParquetFile(part.path).read_row_group(part.row_group)
        texts = table.column(plan.text_column).to_pylist()
        table = table.rename_columns(list(plan.columns))
        return Chunk(0, texts, [None] * len(texts), table=table)
    reserved = set(output_columns(False))
    if part.end < 0:  # gzip: the whole file is one partition
        encoding, header = plan.encoding, plan.has_header
        reader = CsvReader(
            Path(part.path), plan.fmt, plan.text_column, reserved, encoding=encoding, header=header
        )
        with reader:
            chunks = list(reader.chunks(_WHOLE_FILE))
        return chunks[0] if chunks else Chunk.empty()
    with open(part.path, "rb") as handle:
        if part.start > plan.header_end:
            handle.seek(part.start - 1)
            handle.readline()  # the line that straddles the boundary belongs to the block before
        else:
            handle.seek(plan.header_end)
        position, lines = handle.tell(), []
        while position < part.end:
            line = handle.readline()
            if not line:
                break
            lines.append(line)
            position += len(line)
    text = b"".join(lines).decode(plan.encoding, "surrogateescape")
    rows = CsvRows(
        list(plan.header),
        plan.text_column,
        reserved,
        numbered=not plan.has_header,
        encoding=encoding_label(plan.encoding),
    )
    return rows.build(0, csv_rows(io.StringIO(text, newline=""), plan.fmt.delimiter))
