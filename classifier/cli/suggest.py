"""``headline-topics suggest ARCHIVE --n 200 --out to_label.csv``: what to label next.

The pick is :func:`classifier.teach.suggest.suggest_file`; this module checks the options before
the model loads, writes the picks as a train file (``headline``, ``topic``, ``topics``
prefilled with the model's answer, then why each was picked) and prints a summary.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from classifier.cli import _util
from classifier.config import MAX_SUGGESTIONS
from classifier.files import write_atomic
from classifier.text import spreadsheet_safe

if TYPE_CHECKING:
    from classifier.teach.suggest import SuggestResult

#: The columns of the file ``suggest`` writes: a train file first, then what helps the person.
COLUMNS = (
    "headline",
    "topic",
    "topics",
    "confidence",
    "uncertainty",
    "reason",
    "cluster",
    "duplicates",
    "row",
)


def register(add: _util.AddCommand) -> None:
    suggest = add(
        "suggest",
        cmd_suggest,
        "pick the headlines of an archive whose labels would teach the model most, written as "
        "a train file with the model's answers prefilled",
    )
    suggest.add_argument("archive", help="headlines: .csv .tsv .jsonl .ndjson (.gz) or .parquet")
    suggest.add_argument(
        "--n",
        type=_util.whole_number(1, MAX_SUGGESTIONS),
        default=200,
        metavar="N",
        help=f"how many headlines to suggest, 1 to {MAX_SUGGESTIONS:,} (default 200)",
    )
    suggest.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="CSV to write: headline, topic, topics (to correct), confidence, uncertainty, "
        "reason, cluster, duplicates, row",
    )
    suggest.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    suggest.add_argument("--model", help="model version (default: current)")
    suggest.add_argument(
        "--text-column",
        default="headline",
        help="column of the headlines (default headline; with --no-header, its number)",
    )
    suggest.add_argument(
        "--seed",
        type=_util.whole_number(0),
        default=0,
        help="seed of the k-means grouping (default 0)",
    )
    _util.add_input_options(suggest, what="ARCHIVE")
    _util.add_progress_option(suggest)


def cmd_suggest(args: argparse.Namespace) -> int:
    from classifier.teach.suggest import suggest_file

    _util.check_file_and_out(args, args.archive, "the archive")
    max_chars = _util.max_headline_chars(args)
    model = _util.load_model(args)
    bar = _util.ProgressBar(args.progress, desc="reading", unit=" rows")
    try:
        result = suggest_file(
            model,
            args.archive,
            n=args.n,
            text_column=args.text_column,
            encoding=args.encoding,
            header=not args.no_header,
            max_chars=max_chars,
            seed=args.seed,
            progress=lambda done, _fraction: bar.update(done, None),
        )
    finally:
        bar.close()
    write_atomic(Path(args.out), suggestions_csv(result).encode("utf-8"))
    _util.emit_lines(summary(result, args.out, model.version))
    return 0


def suggestions_csv(result: SuggestResult) -> str:
    """The picks as CSV, most uncertain first; ``topic`` is the first of ``topics`` so the file
    trains as it is, and stays valid when a person corrects both."""
    stream = io.StringIO(newline="")
    writer = csv.writer(stream)
    writer.writerow(COLUMNS)
    for s in result.suggestions:
        answer = s.prediction
        cells = [
            s.headline,
            answer.topics[0],
            ";".join(answer.topics),
            f"{answer.confidence:.4f}",
            f"{s.uncertainty:.4f}",
            s.reason,
            s.cluster,
            s.duplicates,
            s.row,
        ]
        writer.writerow([spreadsheet_safe(str(c)) for c in cells])
    return stream.getvalue()


def summary(result: SuggestResult, out: str, version: str | None) -> list[str]:
    lines = [
        f"suggested {len(result.suggestions)} headlines to label -> {out} (model {version})",
        f"rows read: {result.rows_read}  distinct headlines: {result.distinct}  most uncertain "
        f"pooled: {result.pooled}  near duplicates collapsed: {result.collapsed}",
    ]
    for why, count in sorted(result.skipped.items()):
        lines.append(f"  skipped {count}: {why}")
    if result.suggestions:
        topics: dict[str, int] = {}
        for s in result.suggestions:
            topics[s.prediction.topics[0]] = topics.get(s.prediction.topics[0], 0) + 1
        shares = ", ".join(f"{t} {c}" for t, c in sorted(topics.items()))
        lines.append(f"prefilled topics (correct them, then train with the file): {shares}")
    return lines
