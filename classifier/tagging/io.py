"""Stream rows in and out of CSV, JSONL and Parquet files, in chunks, for the batch tagger.

Archives can be far larger than memory, so nothing here reads a whole file: readers yield
``Chunk`` objects of a few thousand rows and formatters turn one tagged chunk into the bytes (or
the Arrow table) that go to the output. A row that cannot be parsed is never dropped: it comes
out as a row whose ``issue`` says what was wrong, and the tagger marks it in ``tag_error``.

Text is decoded with ``surrogateescape`` so a stray invalid byte spoils one row, not the file;
CSV output writes those bytes back unchanged, JSONL and Parquet replace them with U+FFFD.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from classifier.topics.data import DataError

logger = logging.getLogger(__name__)

TAG_COLUMNS = ("topic", "confidence", "topics", "model", "tag_error")
CLUSTER_COLUMN = "cluster"
RAW_LINE_COLUMN = "raw_line"
CLASH_SUFFIX = "_input"
TOPICS_SEPARATOR = ";"

csv.field_size_limit(1 << 24)


class _Missing:
    """The row has no value at all for the text column (not even an empty one)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


# -- formats ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileFormat:
    kind: str  # "csv", "jsonl" or "parquet"
    gzip: bool = False
    delimiter: str = ","


def detect_format(path: str | os.PathLike[str]) -> FileFormat:
    """The format a file is read or written in, from its name (``.csv.gz`` is gzip CSV)."""
    name = Path(path).name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    if name.endswith(".csv"):
        return FileFormat("csv", compressed)
    if name.endswith(".tsv"):
        return FileFormat("csv", compressed, "\t")
    if name.endswith((".jsonl", ".ndjson")):
        return FileFormat("jsonl", compressed)
    if name.endswith((".parquet", ".pq")):
        if compressed:
            raise DataError(f"{path}: Parquet is compressed inside the file; drop the .gz")
        return FileFormat("parquet")
    raise DataError(
        f"{path}: unknown file type; use .csv, .tsv, .jsonl or .ndjson (each optionally .gz) "
        "or .parquet"
    )


def output_columns(clusters: bool) -> tuple[str, ...]:
    return TAG_COLUMNS + ((CLUSTER_COLUMN,) if clusters else ())


def rename_clashes(names: Iterable[str], reserved: set[str]) -> dict[str, str]:
    """New names for input columns that collide with the columns the tagger adds.

    An archive that already has a ``topic`` column (a labelled set) keeps it as ``topic_input``
    instead of having it overwritten.
    """
    names = list(names)
    taken = set(names) | reserved
    renames = {}
    for name in names:
        if name in reserved:
            new = name + CLASH_SUFFIX
            while new in taken:
                new += CLASH_SUFFIX
            taken.add(new)
            renames[name] = new
    return renames


# -- text helpers ----------------------------------------------------------------------------------
def is_clean_text(text: str) -> bool:
    """False for strings holding undecodable bytes (lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean_text(text: str) -> str:
    """Replace undecodable bytes with U+FFFD, for formats that must be valid UTF-8."""
    if is_clean_text(text):
        return text
    return text.encode("utf-8", "surrogateescape" if _escapable(text) else "replace").decode(
        "utf-8", "replace"
    )


def _escapable(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def raw_bytes(text: str) -> bytes:
    """Text back to bytes, restoring the original undecodable bytes where there were any."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def issue_kind(issue: str) -> str:
    """The part of a ``tag_error`` message that summaries count by (before the first colon)."""
    return issue.split(":", 1)[0]


# -- chunks ----------------------------------------------------------------------------------------
@dataclass
class Chunk:
    """A run of consecutive input rows: originals, the text to tag, and any parse problem."""

    start: int
    texts: list[Any]
    issues: list[str | None]
    records: list[dict[str, Any]] | None = None
    table: pa.Table | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def rows(self) -> list[dict[str, Any]]:
        if self.records is not None:
            return self.records
        assert self.table is not None
        return self.table.to_pylist()


@dataclass
class TagResult:
    """What the tagger says about each row of a chunk (parallel lists)."""

    topic: list[str | None]
    confidence: list[float | None]
    topics: list[list[str]]
    errors: list[str]
    model: str
    cluster: list[int | None] | None = None


# -- readers ---------------------------------------------------------------------------------------
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
    """Common parts of the streaming readers."""

    columns: list[str]
    total_rows: int | None = None

    def __init__(self, path: Path, fmt: FileFormat, text_column: str, reserved: set[str]):
        self.path = path
        self.fmt = fmt
        self.text_column = text_column
        self.reserved = reserved
        self.size = path.stat().st_size

    def chunks(self, size: int, skip: int = 0) -> Iterator[Chunk]:  # pragma: no cover
        raise NotImplementedError

    def fraction_done(self) -> float | None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_binary(path: Path, compressed: bool) -> tuple[Any, _ByteCounter]:
    """A buffered (and maybe gunzipping) binary stream, and the counter of raw bytes read."""
    counter = _ByteCounter(open(path, "rb"))  # noqa: SIM115 - closed by the reader
    binary: Any = io.BufferedReader(counter, 1 << 16)
    if compressed:
        # GzipFile does not close a file object it was given; the reader closes ``counter``
        binary = gzip.GzipFile(fileobj=binary, mode="rb")
    return binary, counter


def _open_text(path: Path, compressed: bool) -> tuple[io.TextIOWrapper, _ByteCounter]:
    binary, counter = _open_binary(path, compressed)
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    return text, counter


class CsvRows:
    """Turns parsed CSV field lists into records, marking rows whose shape is wrong."""

    def __init__(self, header: list[str], text_column: str, reserved: set[str]) -> None:
        if not header:
            raise DataError("the CSV file has no header row")
        if len(set(header)) != len(header):
            dupes = sorted({h for h in header if header.count(h) > 1})
            raise DataError(f"the CSV header repeats column(s) {', '.join(dupes)}")
        if text_column not in header:
            raise DataError(
                f"no {text_column!r} column; found {', '.join(header)} (choose one with --text-column)"
            )
        renames = rename_clashes(header, reserved)
        self.source = header
        self.columns = [renames.get(h, h) for h in header]
        self.text_index = header.index(text_column)

    def build(self, start: int, rows: Iterable[list[str] | str]) -> Chunk:
        """Rows are field lists, or a string saying why a row could not be parsed."""
        cols, n_cols, text_index = self.columns, len(self.columns), self.text_index
        texts: list[Any] = []
        issues: list[str | None] = []
        records: list[dict[str, Any]] = []
        for fields in rows:
            if isinstance(fields, str):
                records.append(dict.fromkeys(cols, ""))
                texts.append(MISSING)
                issues.append(fields)
                continue
            n = len(fields)
            text = fields[text_index] if text_index < n else MISSING
            issue = None
            if n != n_cols:
                issue = f"wrong number of fields: {n} field{'' if n == 1 else 's'}, the header has {n_cols}"
                if n > n_cols:
                    extra = json.dumps(fields[n_cols:], ensure_ascii=False)
                    issue += f"; extra fields {extra}"
                    fields = fields[:n_cols]
                else:
                    fields = fields + [""] * (n_cols - n)
            records.append(dict(zip(cols, fields, strict=True)))
            texts.append(text)
            issues.append(issue)
        return Chunk(start, texts, issues, records=records)


def iter_csv_fields(reader: Iterator[list[str]]) -> Iterator[list[str] | str]:
    """Field lists from a csv reader; a row the csv module rejects becomes a reason string."""
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f"unreadable CSV row: {exc}"
            continue
        if fields:  # blank lines are not rows
            yield fields


def _batched(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class CsvReader(Reader):
    def __init__(self, path: Path, fmt: FileFormat, text_column: str, reserved: set[str]):
        super().__init__(path, fmt, text_column, reserved)
        self._text, self._counter = _open_text(path, fmt.gzip)
        try:
            self._reader = csv.reader(self._text, delimiter=fmt.delimiter)
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

    def chunks(self, size: int, skip: int = 0) -> Iterator[Chunk]:
        start = 0
        try:
            fields = iter_csv_fields(self._reader)
            for _ in range(skip):
                if next(fields, None) is None:
                    return
                start += 1
            for batch in _batched(fields, size):
                yield self.rows.build(start, batch)
                start += len(batch)
        except (EOFError, gzip.BadGzipFile, OSError) as exc:
            raise DataError(f"{self.path}: the file is damaged after row {start}: {exc}") from exc

    def fraction_done(self) -> float | None:
        return min(1.0, self._counter.count / self.size) if self.size else None

    def close(self) -> None:
        self._text.close()
        self._counter.close()


class JsonlReader(Reader):
    def __init__(self, path: Path, fmt: FileFormat, text_column: str, reserved: set[str]):
        super().__init__(path, fmt, text_column, reserved)
        self.columns, self.has_bad_lines = scan_jsonl_columns(path, fmt)
        if self.columns and text_column not in self.columns:
            raise DataError(
                f"{path}: no record has a {text_column!r} field; found {', '.join(self.columns)} "
                "(choose one with --text-column)"
            )
        if self.has_bad_lines:
            self.columns.append(RAW_LINE_COLUMN)
        self.renames = rename_clashes(self.columns, reserved)
        self.columns = [self.renames.get(c, c) for c in self.columns]
        self._binary, self._counter = _open_binary(path, fmt.gzip)

    def _lines(self) -> Iterator[bytes]:
        for line in self._binary:
            if line.strip():
                yield line

    def _parse(self, line: bytes) -> tuple[dict[str, Any], Any, str | None]:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = line.decode("utf-8", "replace").rstrip("\r\n")
            return {RAW_LINE_COLUMN: raw}, MISSING, f"not valid UTF-8: byte {exc.start}"
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            return {RAW_LINE_COLUMN: text.rstrip("\r\n")}, MISSING, f"not valid JSON: {exc.msg}"
        if not isinstance(record, dict):
            raw = text.rstrip("\r\n")
            return {RAW_LINE_COLUMN: raw}, MISSING, "not a JSON object"
        value = record.get(self.text_column, MISSING)
        if self.renames and not self.renames.keys().isdisjoint(record):
            record = {self.renames.get(k, k): v for k, v in record.items()}
        return record, value, None

    def chunks(self, size: int, skip: int = 0) -> Iterator[Chunk]:
        start = 0
        try:
            lines = self._lines()
            for _ in range(skip):
                if next(lines, None) is None:
                    return
                start += 1
            for batch in _batched(lines, size):
                texts, issues, records = [], [], []
                for line in batch:
                    record, value, issue = self._parse(line)
                    records.append(record)
                    texts.append(value)
                    issues.append(issue)
                yield Chunk(start, texts, issues, records=records)
                start += len(batch)
        except (EOFError, gzip.BadGzipFile, OSError) as exc:
            raise DataError(f"{self.path}: the file is damaged after row {start}: {exc}") from exc

    def fraction_done(self) -> float | None:
        return min(1.0, self._counter.count / self.size) if self.size else None

    def close(self) -> None:
        self._binary.close()
        self._counter.close()


def scan_jsonl_columns(path: Path, fmt: FileFormat) -> tuple[list[str], bool]:
    """Every key used in a JSONL file, in order of first use, and whether any line is broken.

    CSV and Parquet outputs need one set of columns before the first row is written; a quick
    pass over the keys (no model involved) costs seconds even on large archives.
    """
    seen: dict[str, None] = {}
    bad = False
    opener: Any = gzip.open if fmt.gzip else open
    try:
        with opener(path, "rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    bad = True
                    continue
                if not isinstance(record, dict):
                    bad = True
                    continue
                for key in record:
                    if key not in seen:
                        seen[key] = None
    except (EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: the file is damaged: {exc}") from exc
    return list(seen), bad


class ParquetReader(Reader):
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

    def fraction_done(self) -> float | None:
        return self._done / self.total_rows if self.total_rows else None

    def close(self) -> None:
        self._file.close()


def open_reader(path: str | os.PathLike[str], *, text_column: str, reserved: set[str]) -> Reader:
    """A streaming reader for ``path``, checked up front for the text column."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    fmt = detect_format(path)
    cls = {"csv": CsvReader, "jsonl": JsonlReader, "parquet": ParquetReader}[fmt.kind]
    return cls(path, fmt, text_column, reserved)


# -- formatting output -----------------------------------------------------------------------------
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


def _tag_cells(result: TagResult, i: int, with_cluster: bool) -> list[str]:
    confidence = result.confidence[i]
    cells = [
        result.topic[i] or "",
        "" if confidence is None else f"{confidence:.4f}",
        TOPICS_SEPARATOR.join(result.topics[i]),
        result.model,
        result.errors[i],
    ]
    if with_cluster:
        cluster = result.cluster[i] if result.cluster is not None else None
        cells.append("" if cluster is None else str(cluster))
    return cells


class CsvFormatter:
    """Bytes of CSV output, one chunk at a time (the header goes with the first chunk)."""

    def __init__(self, columns: list[str], *, clusters: bool, delimiter: str = ",") -> None:
        self.columns = columns
        self.clusters = clusters
        self.delimiter = delimiter

    def header(self) -> bytes:
        return self._lines([self.columns + list(output_columns(self.clusters))])

    def _lines(self, rows: Iterable[list[str]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.delimiter, lineterminator="\n").writerows(rows)
        return raw_bytes(buffer.getvalue())

    def format(self, chunk: Chunk, result: TagResult) -> bytes:
        cols = self.columns
        rows = chunk.rows()
        return self._lines(
            [csv_value(row.get(c)) for c in cols] + _tag_cells(result, i, self.clusters)
            for i, row in enumerate(rows)
        )


class JsonlFormatter:
    """Bytes of JSONL output: each input record with the tag fields added."""

    def __init__(self, columns: list[str], *, clusters: bool) -> None:
        self.columns = columns
        self.clusters = clusters

    def header(self) -> bytes:
        return b""

    def format(self, chunk: Chunk, result: TagResult) -> bytes:
        lines = []
        for i, row in enumerate(chunk.rows()):
            record = dict(row)
            record["topic"] = result.topic[i]
            record["confidence"] = result.confidence[i]
            record["topics"] = result.topics[i]
            record["model"] = result.model
            record["tag_error"] = result.errors[i]
            if self.clusters:
                record[CLUSTER_COLUMN] = result.cluster[i] if result.cluster else None
            line = json.dumps(record, ensure_ascii=False, default=str)
            lines.append(clean_text(line))
        return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def tag_schema(clusters: bool) -> pa.Schema:
    fields = [
        pa.field("topic", pa.string()),
        pa.field("confidence", pa.float64()),
        pa.field("topics", pa.list_(pa.string())),
        pa.field("model", pa.string()),
        pa.field("tag_error", pa.string()),
    ]
    if clusters:
        fields.append(pa.field(CLUSTER_COLUMN, pa.int64()))
    return pa.schema(fields)


def _string_array(values: list[str | None]) -> pa.Array:
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowException, UnicodeEncodeError):
        return pa.array([None if v is None else clean_text(v) for v in values], type=pa.string())


def arrow_table(chunk: Chunk, result: TagResult, columns: list[str], *, clusters: bool) -> pa.Table:
    """One chunk as an Arrow table: Parquet inputs keep their types, text inputs become strings."""
    if chunk.table is not None:
        base = chunk.table
    else:
        rows = chunk.rows()
        base = pa.table(
            {c: _string_array([string_value(row.get(c)) for row in rows]) for c in columns}
        )
    schema = tag_schema(clusters)
    arrays = [
        _string_array(result.topic),
        pa.array(result.confidence, type=pa.float64()),
        pa.array(result.topics, type=pa.list_(pa.string())),
        pa.array([result.model] * len(chunk), type=pa.string()),
        _string_array(result.errors),
    ]
    if clusters:
        arrays.append(pa.array(result.cluster or [None] * len(chunk), type=pa.int64()))
    for field, array in zip(schema, arrays, strict=True):
        base = base.append_column(field, array)
    return base


def gzip_member(data: bytes) -> bytes:
    """A complete gzip member: members can be appended, so a half-written output can be cut back."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def formatter_for(fmt: FileFormat, columns: list[str], *, clusters: bool):
    if fmt.kind == "csv":
        return CsvFormatter(columns, clusters=clusters, delimiter=fmt.delimiter)
    if fmt.kind == "jsonl":
        return JsonlFormatter(columns, clusters=clusters)
    raise ValueError(f"no text formatter for {fmt.kind}")
