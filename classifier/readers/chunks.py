"""What the streaming readers yield, and how one parsed CSV row becomes a record.

A :class:`Chunk` is a run of consecutive input rows: the originals (records, or an Arrow table
for Parquet), the value of the text column for each, and what was wrong with each row that could
not be parsed. A bad row is never dropped: it stays in the chunk with its ``issue``, so the
output keeps every input row in order. :class:`CsvRows` is shared by the local CSV reader and
the Dask engine's partition reader, so both mark a malformed row the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from classifier.errors import DataError
from classifier.readers.decoding import encoding_label, has_undecodable
from classifier.readers.records import check_header, numbered_columns

__all__ = [
    "MISSING",
    "RAW_LINE_COLUMN",
    "Chunk",
    "CsvRows",
    "JsonlRows",
    "numbered_columns",
    "rename_clashes",
]

CLASH_SUFFIX = "_input"
RAW_LINE_COLUMN = "raw_line"  # a broken JSONL line keeps its text here


class _Missing:
    """The row has no value at all for the text column (not even an empty one)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


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
        """The original rows as dicts, whichever form the reader kept them in."""
        if self.records is not None:
            return self.records
        assert self.table is not None
        return self.table.to_pylist()

    @classmethod
    def empty(cls, schema: pa.Schema | None = None, columns: list[str] | None = None) -> Chunk:
        """No rows, but the input's columns (and, for Parquet, their types) for an empty output."""
        if schema is None:
            return cls(0, [], [], records=[])
        table = schema.empty_table()
        if columns is not None:
            table = table.rename_columns(columns)
        return cls(0, [], [], table=table)


def rename_clashes(names: Iterable[str], reserved: set[str]) -> dict[str, str]:
    """New names for input columns that collide with the columns the caller adds.

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


class CsvRows:
    """Turns parsed CSV field lists into records, marking rows whose shape is wrong."""

    def __init__(
        self,
        header: list[str],
        text_column: str,
        reserved: set[str],
        *,
        numbered: bool = False,
        encoding: str = "UTF-8",
    ) -> None:
        if not header:
            raise DataError(
                "the CSV file is empty" if numbered else "the CSV file has no header row"
            )
        check_header(header)
        if text_column not in header:
            if numbered:
                raise DataError(
                    f"with --no-header, --text-column is a column number from 1 to "
                    f"{len(header)} (the first row has {len(header)} fields), not {text_column!r}"
                )
            raise DataError(
                f"no {text_column!r} column; found {', '.join(header)} (choose one with --text-column)"
            )
        self.text_column = text_column
        self.encoding = encoding
        self.shape_word = "the first row" if numbered else "the header"
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
            if text is not MISSING and has_undecodable(text):
                issue = f"{self.text_column} is not valid {self.encoding}"
            if n != n_cols:
                issue = f"wrong number of fields: {n} field{'' if n == 1 else 's'}, {self.shape_word} has {n_cols}"
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


class JsonlRows:
    """Turns JSON lines into records; a broken line keeps its text in a ``raw_line`` column.

    Shared by the local JSONL reader and the Dask engine's range reader, so both mark a broken
    line the same way. ``renames`` are the input keys that clash with the columns tag adds.
    """

    def __init__(self, text_column: str, renames: dict[str, str], encoding: str = "utf-8") -> None:
        """``encoding`` is a codec whose lines split on the byte ``\\n`` (UTF-8, Latin-1...)."""
        self.text_column = text_column
        self.renames = renames
        self.encoding = encoding

    def build(self, start: int, lines: Iterable[bytes]) -> Chunk:
        """Lines that are blank (whitespace only) are not rows: the caller leaves them out."""
        texts, issues, records = [], [], []
        for line in lines:
            record, value, issue = self.parse(line)
            records.append(record)
            texts.append(value)
            issues.append(issue)
        return Chunk(start, texts, issues, records=records)

    def parse(self, line: bytes) -> tuple[dict[str, Any], Any, str | None]:
        try:
            text = line.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raw = line.decode(self.encoding, "replace").rstrip("\r\n")
            label = encoding_label(self.encoding)
            return {RAW_LINE_COLUMN: raw}, MISSING, f"not valid {label}: byte {exc.start}"
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
