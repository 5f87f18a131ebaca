"""Small tagged archives written by hand, in every format ``tag`` writes, for the report tests.

The rows of :data:`ARCHIVE` are made up; the expected counts in the tests are worked out from
them by hand (see the comments there), not by running the code under test.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = (
    "id",
    "headline",
    "date",
    "topic",
    "confidence",
    "topics",
    "model",
    "tag_error",
    "story",
    "wire_group",
    "wire_count",
)


def _row(i, headline, date, topic, topics, story=-1, wire=-1, count=None, error=""):
    return {
        "id": i,
        "headline": headline,
        "date": date,
        "topic": topic,
        "confidence": 0.9 if topic else None,
        "topics": topics,
        "model": "v-test",
        "tag_error": error,
        "story": story,
        "wire_group": wire,
        "wire_count": count,
    }


# Jan: rows 1-5 (row 5 untagged); Feb: rows 6-9; Mar: rows 11, 12, 14; undated: 10 and 13.
ARCHIVE = [
    _row(1, "Steel tariffs rise on Chinese imports", "2024-01-03", "trade", ["trade"], 1),
    _row(
        2,
        "China hits back with soybean tariffs",
        "2024-01-10",
        "trade",
        ["trade", "geopolitics"],
        1,
        7,
        2,
    ),
    _row(
        3,
        "China retaliates with tariffs on soybeans",
        "2024-01-11T08:30:00Z",
        "trade",
        ["trade", "geopolitics"],
        1,
        7,
        2,
    ),
    _row(4, "Border crossings fall in January", "2024-01-20", "immigration", ["immigration"]),
    _row(5, "", "2024-01-21", None, [], error="empty headline"),
    _row(6, "Measles cases climb in Texas", "2024-02-01", "health", ["health"], 2),
    _row(
        7,
        "Measles outbreak spreads in Texas schools",
        "2024-02-05",
        "health",
        ["health", "immigration"],
        2,
    ),
    _row(8, "Texas measles cases reach 90", "2024-02-09", "health", ["health"], 2),
    _row(9, "Tariff talks resume in Geneva", "2024-02-12", "trade", ["trade"], 1),
    _row(10, "Measles toll rises", "soon", "health", ["health"], 2),
    _row(11, "Measles vaccine drive in Texas", "2024-03-02", "health", ["health"], 2),
    _row(12, "Texas measles schools closed", "2024-03-05", "health", ["health"], 2),
    _row(
        13,
        "Migrants wait at the border as rules change",
        "",
        "immigration",
        ["immigration", "geopolitics"],
        3,
    ),
    _row(14, "Summit ends without a deal", "2024-03-20", "geopolitics", ["geopolitics", "trade"]),
]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def write_tagged(
    path: Path, rows: list[dict[str, Any]] = ARCHIVE, columns: tuple[str, ...] = COLUMNS
) -> Path:
    """Write ``rows`` (only ``columns``) as ``tag`` would, in the format of ``path``'s name."""
    name = path.name.removesuffix(".gz")
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    if name.endswith((".csv", ".tsv")):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t" if name.endswith(".tsv") else ",")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        with opener(path, "wt", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
    elif name.endswith(".jsonl"):
        with opener(path, "wt", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps({c: row.get(c) for c in columns}) + "\n")
    elif name.endswith(".parquet"):
        table = pa.table({c: [row.get(c) for row in rows] for c in columns})
        pq.write_table(table, path)
    else:  # pragma: no cover - a test's typo
        raise ValueError(path)
    return path


def without(*names: str) -> tuple[str, ...]:
    return tuple(c for c in COLUMNS if c not in names)
