"""``headline-topics predict``: label headlines given as arguments or as lines on stdin.

One answer per input line, in input order, as soon as its batch is done, so the command works as
a filter on an endless stream: a JSON object (the default, for programs), a row of an aligned
table or a CSV row (``--format``, for people and spreadsheets). A line that cannot be classified
gets its line number and the reason in its place, in every format, and the exit code is 1, so a
pipeline notices.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from classifier.cli import _util
from classifier.config import UNCERTAIN_BELOW
from classifier.readers.decoding import clean_text
from classifier.text import PROBLEM_WORDS, headline_problem

if TYPE_CHECKING:
    from classifier.topics.model import TopicModel

UNUSABLE = "empty or whitespace-only headline"
FORMATS = ("jsonl", "table", "csv")
CSV_COLUMNS = ("line", "headline", "topic", "confidence", "topics", "uncertain", "model", "error")
TABLE_HEADLINE = 60  # characters of a headline the table shows; the rest is cut, for display only


def _reason(text: str) -> str:
    problem = headline_problem(text)
    return UNUSABLE if problem == "empty" else f"the headline {PROBLEM_WORDS[str(problem)]}"


def predict_lines(
    model: TopicModel,
    texts: Iterable[str],
    *,
    batch_size: int,
    uncertain_below: float = UNCERTAIN_BELOW,
) -> Iterator[tuple[dict[str, Any], bool]]:
    """``(answer, ok)`` for each text in order, predicting ``batch_size`` texts at a time."""
    batch: list[tuple[int, str]] = []

    def flush() -> Iterator[tuple[dict[str, Any], bool]]:
        good = [(i, t) for i, t in batch if headline_problem(t) is None]
        texts = [t for _, t in good]
        predictions = model.predict(texts, uncertain_below=uncertain_below) if good else []
        by_index = dict(zip((i for i, _ in good), predictions, strict=True))
        for i, text in batch:
            if i in by_index:
                yield {"headline": text, **by_index[i].to_dict()}, True
            else:
                yield {"headline": clean_text(text), "line": i, "error": _reason(text)}, False
        batch.clear()

    for i, text in enumerate(texts, start=1):
        batch.append((i, text))
        if len(batch) >= batch_size:
            yield from flush()
    yield from flush()


def _stdin_lines() -> Iterator[str]:
    """Lines of stdin as UTF-8; a line with undecodable bytes is kept (and answered with why),
    not allowed to end the stream with a traceback."""
    binary = getattr(sys.stdin, "buffer", None)  # None when stdin was replaced by a text stream
    for line in binary if binary is not None else sys.stdin:
        if isinstance(line, bytes):
            line = line.decode("utf-8", "surrogateescape")
        yield line.rstrip("\r\n")


def _shown(text: str, width: int) -> str:
    """A headline on one table line: whitespace runs as one space, cut to ``width`` with '...'."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def table_lines(answers: Iterable[tuple[dict[str, Any], bool]], labels: list[str]) -> Iterator[str]:
    """The answers as an aligned table: headline, topic, confidence; an error row says why."""
    topic_width = max(len("topic"), *(len(label) for label in labels))
    yield f"{'headline':<{TABLE_HEADLINE}}  {'topic':<{topic_width}}  confidence"
    for answer, ok in answers:
        headline = f"{_shown(answer['headline'], TABLE_HEADLINE):<{TABLE_HEADLINE}}"
        if ok:
            yield f"{headline}  {answer['topic']:<{topic_width}}  {answer['confidence']:>10.2f}"
        else:
            yield f"{headline}  error (line {answer['line']}): {answer['error']}"


def csv_lines(answers: Iterable[tuple[dict[str, Any], bool]]) -> Iterator[str]:
    """The answers as CSV: a header, then one row per input line (``error`` set on a bad one)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")

    def row(values: dict[str, Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue().rstrip("\r\n")

    yield row(dict(zip(CSV_COLUMNS, CSV_COLUMNS, strict=True)))
    for number, (answer, ok) in enumerate(answers, start=1):
        values = {**answer, "line": number}
        if ok:
            values["topics"] = ";".join(answer["topics"])
        yield row(values)


def jsonl_lines(answers: Iterable[tuple[dict[str, Any], bool]]) -> Iterator[str]:
    import json

    for answer, ok in answers:
        # answers keep their text as typed; error lines stay ASCII, as they always were
        yield json.dumps(answer, ensure_ascii=not ok)


def cmd_predict(args: argparse.Namespace) -> int:
    _util.require_at_least_one(args, "batch_size", show_value=True)
    model = _util.load_model(args)
    texts: Iterable[str] = args.headlines if args.headlines else _stdin_lines()
    failed = 0

    def counted() -> Iterator[tuple[dict[str, Any], bool]]:
        nonlocal failed
        for answer, ok in predict_lines(
            model, texts, batch_size=args.batch_size, uncertain_below=args.uncertain_below
        ):
            failed += not ok
            yield answer, ok

    if args.format == "table":
        lines = table_lines(counted(), list(model.labels))
    elif args.format == "csv":
        lines = csv_lines(counted())
    else:
        lines = jsonl_lines(counted())
    _util.emit_lines(lines)
    if failed:
        _util.logger.warning("%d headline(s) could not be classified", failed)
    return 1 if failed else 0


def register(add: _util.AddCommand) -> None:
    predict = add("predict", cmd_predict, "label headlines given as arguments or lines on stdin")
    predict.add_argument(
        "headlines", nargs="*", help="headlines to label (default: one per line from stdin)"
    )
    predict.add_argument("--model", help="version (default: current)")
    predict.add_argument(
        "--uncertain-below",
        type=_util.number_between(0, 1),
        default=UNCERTAIN_BELOW,
        help="mark answers with a confidence under this as uncertain "
        f"(default {UNCERTAIN_BELOW:g})",
    )
    predict.add_argument(
        "--batch-size", type=int, default=64, help="headlines encoded at a time (default 64)"
    )
    predict.add_argument(
        "--format",
        choices=FORMATS,
        default="jsonl",
        help="jsonl: one JSON object a line, for programs; table: aligned columns, for people; "
        "csv: a header and one row a line (default jsonl)",
    )
