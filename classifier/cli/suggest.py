"""``headline-topics suggest ARCHIVE --n 200 --out to_label.csv``: what to label next.

The pick is :func:`classifier.teach.suggest.suggest_file`; this module checks the options before
the model loads, writes the picks as a train file (``headline``, ``topic``, ``topics``
prefilled with the model's answer, then why each was picked) and prints a summary.

``suggest DATA --like TOPIC`` reads a labelled file instead and lists its rows that look like
TOPIC without being labelled with it (:mod:`classifier.teach.lookalike`): what to relabel when a
new topic joins data that already holds headlines about it.
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
    from classifier.teach.lookalike import LookAlikes
    from classifier.teach.suggest import SuggestResult
    from classifier.topics.model import TopicModel

#: The columns of the file ``suggest --like`` writes: a train file with the current labels.
LIKE_COLUMNS = ("headline", "topic", "topics", "similarity", "nearest")

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
    suggest.add_argument(
        "--like",
        metavar="TOPIC",
        help="ARCHIVE is a labelled file (topic/topics columns): list its rows that look like "
        "TOPIC but are not labelled with it, the ones to relabel when TOPIC is new",
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
    if args.like is not None and args.no_header:
        raise ValueError("--like reads a labelled file with a header row (topic or topics)")
    model = _util.load_model(args)
    if args.like is not None:
        return _like(args, model, max_chars)
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


def _like(args: argparse.Namespace, model: TopicModel, max_chars: int | None) -> int:
    from classifier.teach.lookalike import look_alikes
    from classifier.topics.data import read_labelled

    data = read_labelled(
        args.archive, text_column=args.text_column, encoding=args.encoding, max_chars=max_chars
    )
    found = look_alikes(
        data.texts, data.topics, model.embedder.encode(data.texts), args.like, n=args.n
    )
    write_atomic(Path(args.out), like_csv(found).encode("utf-8"))
    typical = "-" if found.typical is None else f"{found.typical:.3f}"
    lines = [
        f"{len(found.rows)} rows not labelled {found.topic} that look like its "
        f"{found.examples} rows -> {args.out} (model {model.version})",
        f"rows read: {data.rows_read}  usable: {len(data.texts)}  similarity of {found.topic}'s "
        f"own rows to each other (median): {typical}",
    ]
    if data.problems:
        lines.append(f"skipped {len(data.problems)} row(s), the first: {data.problems[0]}")
    lines += [f"  {r.similarity:.3f}  [{';'.join(r.topics)}]  {r.headline}" for r in found.rows[:5]]
    lines.append(f"relabel the rows about {found.topic} in the file, then train on it")
    _util.emit_lines(lines)
    return 0


def like_csv(found: LookAlikes) -> str:
    """The look-alikes as a train file: ``topic``/``topics`` are the file's labels, to correct."""
    stream = io.StringIO(newline="")
    writer = csv.writer(stream)
    writer.writerow(LIKE_COLUMNS)
    for r in found.rows:
        cells = [r.headline, r.topics[0], ";".join(r.topics), f"{r.similarity:.4f}", r.nearest]
        writer.writerow([spreadsheet_safe(str(c)) for c in cells])
    return stream.getvalue()


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
