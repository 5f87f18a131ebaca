"""Which format a file name means, for the streaming readers, the writers and the record readers.

The streaming side (the tagger) also reads gzip and Parquet and names every format it knows in
its error; the whole-file side (training sets, the cluster command) reads plain CSV/TSV/JSONL
and also takes ``.json`` for a JSONL file, as it always has. Both tables are here so that adding
a format is one edit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from classifier.errors import DataError

CSV_DELIMITERS = {".csv": ",", ".tsv": "\t"}
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
# the whole-file readers: CSV/TSV, and JSON lines under any of these names
RECORD_JSONL_SUFFIXES = (*JSONL_SUFFIXES, ".json")
RECORD_SUFFIXES = (*CSV_DELIMITERS, *RECORD_JSONL_SUFFIXES)


@dataclass(frozen=True)
class FileFormat:
    """How a file is laid out: ``kind`` is ``"csv"``, ``"jsonl"`` or ``"parquet"``."""

    kind: str
    gzip: bool = False
    delimiter: str = ","

    @property
    def label(self) -> str:
        """The format as a resume state records it: ``csv``, ``jsonl.gz``, ``parquet``..."""
        return f"{self.kind}{'.gz' if self.gzip else ''}"


def detect_format(path: str | os.PathLike[str]) -> FileFormat:
    """The format a file is streamed in or written in, from its name (``.csv.gz`` is gzip CSV)."""
    name = Path(path).name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    for suffix, delimiter in CSV_DELIMITERS.items():
        if name.endswith(suffix):
            return FileFormat("csv", compressed, delimiter)
    if name.endswith(JSONL_SUFFIXES):
        return FileFormat("jsonl", compressed)
    if name.endswith(PARQUET_SUFFIXES):
        if compressed:
            raise DataError(f"{path}: Parquet is compressed inside the file; drop the .gz")
        return FileFormat("parquet")
    raise DataError(
        f"{path}: unknown file type; use .csv, .tsv, .jsonl or .ndjson (each optionally .gz) "
        "or .parquet"
    )


def record_format(path: Path) -> FileFormat:
    """The format of a file read whole (a training set, the cluster command's input)."""
    suffix = path.suffix.lower()
    if suffix in RECORD_JSONL_SUFFIXES:
        return FileFormat("jsonl")
    if suffix in CSV_DELIMITERS:
        return FileFormat("csv", delimiter=CSV_DELIMITERS[suffix])
    raise DataError(f"{path}: unsupported file type {suffix or '(none)'}; use .csv or .jsonl")


def is_record_file(source: str) -> bool:
    """Whether the cluster command reads ``source`` as records (else as one headline a line)."""
    return source != "-" and Path(source).suffix.lower() in RECORD_SUFFIXES
