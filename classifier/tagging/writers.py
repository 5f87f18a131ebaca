"""Turn one tagged chunk into the bytes (CSV, JSONL) or the Arrow table (Parquet) of the output.

The output of a chunk is built whole before it is written, so the checkpointed output can
append it in one write and cut a half-written tail back on resume. Each tag column is described
once in ``_TAG_FIELDS`` (its Arrow type and its CSV cell), in the order ``TAG_COLUMNS`` gives.
CSV output writes undecodable input bytes back as they were; JSONL and Parquet must be valid
UTF-8, so they get U+FFFD instead. CSV cells a spreadsheet would run as a formula get a single
quote in front (:func:`classifier.text.spreadsheet_safe`); JSONL and Parquet keep them raw.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa

from classifier.readers.chunks import Chunk
from classifier.readers.csvlines import HUGE_LINE, format_row
from classifier.readers.decoding import clean_text, raw_bytes
from classifier.readers.formats import FileFormat
from classifier.tagging.results import (
    TOPICS_SEPARATOR,
    ClusterColumns,
    TagResult,
    output_columns,
)
from classifier.text import spreadsheet_safe

# column -> (Arrow type, CSV cell of a value)
_TAG_FIELDS: dict[str, tuple[pa.DataType, Callable[[Any], str]]] = {
    "topic": (pa.string(), lambda topic: topic or ""),
    "confidence": (pa.float64(), lambda score: "" if score is None else f"{score:.4f}"),
    "topics": (pa.list_(pa.string()), TOPICS_SEPARATOR.join),
    "uncertain": (pa.bool_(), lambda flag: "" if flag is None else ("true" if flag else "false")),
    "model": (pa.string(), lambda version: version),
    "tag_error": (pa.string(), lambda error: error),
    "cluster": (pa.int64(), lambda cluster: "" if cluster is None else str(cluster)),
    "story": (pa.int64(), lambda story: "" if story is None else str(story)),
    "wire_group": (pa.int64(), lambda group: "" if group is None else str(group)),
    "wire_count": (pa.int64(), lambda count: "" if count is None else str(count)),
}


def csv_value(value: Any) -> str:
    """One cell of CSV output for any input value (Parquet and JSONL are typed, CSV is not)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def string_value(value: Any) -> str | None:
    """An input value as Parquet text: strings as they are, other JSON values as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class CsvFormatter:
    """Bytes of CSV output, one chunk at a time (the header goes with the first chunk)."""

    def __init__(
        self, columns: list[str], *, clusters: ClusterColumns, delimiter: str = ","
    ) -> None:
        self.columns = columns
        self.clusters = clusters
        self.delimiter = delimiter
        self._cells = [_TAG_FIELDS[name][1] for name in output_columns(clusters)]

    def header(self) -> bytes:
        return self._lines([self.columns + list(output_columns(self.clusters))])

    def _lines(self, rows: Iterable[list[str]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.delimiter, lineterminator="\n")
        for row in rows:
            cells = [spreadsheet_safe(cell) for cell in row]
            if sum(map(len, cells)) > HUGE_LINE:  # a huge cell: no copy at 4 bytes a character
                buffer.write(format_row(cells, self.delimiter))
            else:
                writer.writerow(cells)
        return raw_bytes(buffer.getvalue())

    def format(self, chunk: Chunk, result: TagResult) -> bytes:
        """The chunk's rows: the input cells as read, then the tag cells."""
        cols = self.columns
        tags = list(zip(*result.columns(self.clusters), strict=True))
        return self._lines(
            [csv_value(row.get(c)) for c in cols]
            + [cell(value) for cell, value in zip(self._cells, tags[i], strict=True)]
            for i, row in enumerate(chunk.rows())
        )


class JsonlFormatter:
    """Bytes of JSONL output: each input record with the tag fields added."""

    def __init__(self, columns: list[str], *, clusters: ClusterColumns) -> None:
        self.columns = columns
        self.clusters = clusters
        self._names = output_columns(clusters)

    def header(self) -> bytes:
        return b""

    def format(self, chunk: Chunk, result: TagResult) -> bytes:
        """One line per row: the input record with the tag fields after its own."""
        tags = list(zip(*result.columns(self.clusters), strict=True))
        lines = []
        for i, row in enumerate(chunk.rows()):
            record = dict(row)
            record.update(zip(self._names, tags[i], strict=True))
            line = json.dumps(record, ensure_ascii=False, default=str)
            lines.append(clean_text(line))
        return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def tag_schema(clusters: ClusterColumns) -> pa.Schema:
    """The Arrow fields a tagged table has after the input's own."""
    return pa.schema([pa.field(name, _TAG_FIELDS[name][0]) for name in output_columns(clusters)])


def _string_array(values: list[str | None]) -> pa.Array:
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowException, UnicodeEncodeError):
        return pa.array([None if v is None else clean_text(v) for v in values], type=pa.string())


def arrow_table(
    chunk: Chunk, result: TagResult, columns: list[str], *, clusters: ClusterColumns
) -> pa.Table:
    """One chunk as an Arrow table: Parquet inputs keep their types, text inputs become strings."""
    if chunk.table is not None:
        base = chunk.table
    else:
        rows = chunk.rows()
        base = pa.table(
            {c: _string_array([string_value(row.get(c)) for row in rows]) for c in columns}
        )
    for field, values in zip(tag_schema(clusters), result.columns(clusters), strict=True):
        if field.type == pa.string():
            array = _string_array(values)
        else:
            array = pa.array(values, type=field.type)
        base = base.append_column(field, array)
    return base


def gzip_member(data: bytes) -> bytes:
    """A complete gzip member: members can be appended, so a half-written output can be cut back."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def formatter_for(
    fmt: FileFormat, columns: list[str], *, clusters: ClusterColumns
) -> CsvFormatter | JsonlFormatter:
    """The formatter of a text output format (Parquet goes through :func:`arrow_table`)."""
    if fmt.kind == "csv":
        return CsvFormatter(columns, clusters=clusters, delimiter=fmt.delimiter)
    if fmt.kind == "jsonl":
        return JsonlFormatter(columns, clusters=clusters)
    raise ValueError(f"no text formatter for {fmt.kind}")
