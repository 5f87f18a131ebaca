"""The usable, distinct headlines of an archive, streamed, with every other row counted by why.

``suggest`` and ``diff`` read the same archives ``tag`` does (CSV/TSV/JSONL/Parquet, gzip too,
through :mod:`classifier.readers`), but answer about headlines, not rows: a headline repeated
(case and spacing aside) is one headline, at its first row, and a row that cannot be used is
counted, never embedded and never dropped without a trace.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from classifier.encoders.cache import text_key
from classifier.text import headline_problem

#: Rows read from an archive at a time.
CHUNK_ROWS = 2048
#: Stands for a row the reader could not parse (a wrong field count, a broken JSON line).
UNREADABLE = object()


@dataclass
class RowCounts:
    rows_read: int = 0
    #: Rows whose headline an earlier row already had.
    repeats: int = 0
    skipped: Counter = field(default_factory=Counter)


def usable_headlines(
    rows: Iterable[tuple[int, object]],
    counts: RowCounts,
    *,
    max_chars: int | None = None,
    distinct: bool = True,
) -> Iterator[tuple[int, str]]:
    """(row, headline with its spacing normalised) for each usable row of ``rows``; with
    ``distinct``, only the first row of each headline."""
    seen: set[bytes] = set()
    for number, text in rows:
        counts.rows_read += 1
        problem = "unreadable row" if text is UNREADABLE else headline_problem(text, max_chars)
        if problem:
            counts.skipped[problem] += 1
            continue
        clean = " ".join(str(text).split())
        if distinct:
            key = text_key(clean.casefold())
            if key in seen:
                counts.repeats += 1
                continue
            seen.add(key)
        yield number, clean


@contextmanager
def archive_rows(
    path: str | Path,
    *,
    text_column: str = "headline",
    encoding: str | None = None,
    header: bool = True,
) -> Iterator[tuple[Iterator[tuple[int, object]], object]]:
    """(rows of (row number from 1, text or :data:`UNREADABLE`), the reader) of an archive."""
    from classifier.readers.stream import open_reader

    with open_reader(
        path, text_column=text_column, reserved=set(), encoding=encoding, header=header
    ) as reader:

        def rows() -> Iterator[tuple[int, object]]:
            for chunk in reader.chunks(CHUNK_ROWS):
                for i, (text, issue) in enumerate(zip(chunk.texts, chunk.issues, strict=True)):
                    yield chunk.start + i + 1, (UNREADABLE if issue else text)

        yield rows(), reader
