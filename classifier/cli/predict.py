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
from classifier.config import DEFAULT_MAX_HEADLINE_CHARS, UNCERTAIN_BELOW
from classifier.readers.decoding import clean_text
from classifier.readers.records import LongLine, bounded_lines
from classifier.text import PROBLEM_WORDS, headline_problem, spreadsheet_safe, too_long

if TYPE_CHECKING:
    from classifier.topics.model import TopicModel

UNUSABLE = "empty or whitespace-only headline"
FORMATS = ("jsonl", "table", "csv")
CSV_COLUMNS = ("line", "headline", "topic", "confidence", "topics", "uncertain", "model", "error")
TABLE_HEADLINE = 60  # characters of a headline the table shows; the rest is cut, for display only


def _refusal(i: int, text: str | LongLine, max_chars: int) -> dict[str, Any]:
    """The answer for a line that cannot be classified. An over-long one shows its first
    ``max_chars`` characters and an ellipsis: echoing megabytes would help nobody."""
    if isinstance(text, LongLine) or headline_problem(text, max_chars) == "too long":
        start, length = (
            (text.start, text.length) if isinstance(text, LongLine) else (text, len(text))
        )
        error = f"the headline is too long: {too_long(length, max_chars)}"
        return {"headline": clean_text(start[:max_chars]) + "…", "line": i, "error": error}
    problem = headline_problem(text)
    error = UNUSABLE if problem == "empty" else f"the headline {PROBLEM_WORDS[str(problem)]}"
    return {"headline": clean_text(text), "line": i, "error": error}


def predict_lines(
    model: TopicModel,
    texts: Iterable[str | LongLine],
    *,
    batch_size: int,
    max_chars: int = DEFAULT_MAX_HEADLINE_CHARS,
    uncertain_below: float = UNCERTAIN_BELOW,
    explain: bool = False,
) -> Iterator[tuple[dict[str, Any], bool]]:
    """``(answer, ok)`` for each text in order, predicting ``batch_size`` texts at a time; a
    text over ``max_chars`` characters is answered with why, never tokenised. ``explain`` adds
    each answer's ``explanation`` (:mod:`classifier.topics.explain`)."""
    from classifier.topics.explain import explain as explain_headlines

    batch: list[tuple[int, str | LongLine]] = []

    def flush() -> Iterator[tuple[dict[str, Any], bool]]:
        good = [
            (i, t)
            for i, t in batch
            if isinstance(t, str) and headline_problem(t, max_chars) is None
        ]
        texts = [t for _, t in good]
        predictions = model.predict(texts, uncertain_below=uncertain_below) if good else []
        by_index = dict(zip((i for i, _ in good), predictions, strict=True))
        if explain and good:
            why = dict(zip(by_index, explain_headlines(model, texts), strict=True))
        for i, text in batch:
            if i in by_index:
                answer = {"headline": text, **by_index[i].to_dict()}
                if explain:
                    answer["explanation"] = why[i].to_dict()
                yield answer, True
            else:
                yield _refusal(i, text, max_chars), False
        batch.clear()

    for i, text in enumerate(texts, start=1):
        batch.append((i, text))
        if len(batch) >= batch_size:
            yield from flush()
    yield from flush()


def _stdin_lines(max_chars: int) -> Iterator[str | LongLine]:
    """Lines of stdin as UTF-8; a line with undecodable bytes is kept (and answered with why),
    not allowed to end the stream with a traceback; an over-long one is read in bounded pieces,
    so a 50 MB line costs no more memory than a headline."""
    binary = getattr(sys.stdin, "buffer", None)  # None when stdin was replaced by a text stream
    if binary is not None:
        yield from bounded_lines(binary, max_chars)
        return
    for line in sys.stdin:
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
    """The answers as CSV: a header, then one row per input line (``error`` set on a bad one).

    Every cell passes through :func:`~classifier.text.spreadsheet_safe`, as in every CSV we
    write: a headline like ``=HYPERLINK(...)`` must not run when the file is opened.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def row(values: dict[str, Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        cells = (values.get(column) for column in CSV_COLUMNS)
        writer.writerow([spreadsheet_safe("" if c is None else str(c)) for c in cells])
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
    if args.explain and args.format != "jsonl":
        raise ValueError(f"--explain writes JSON lines; it cannot go with --format {args.format}")
    max_chars = _util.max_headline_chars(args)
    model = _util.load_model(args)
    # a lone "-" is stdin, as for most commands that read lines; no headline is just a dash
    from_stdin = not args.headlines or args.headlines == ["-"]
    texts: Iterable[str | LongLine] = _stdin_lines(max_chars) if from_stdin else args.headlines
    failed = 0

    def counted() -> Iterator[tuple[dict[str, Any], bool]]:
        nonlocal failed
        for answer, ok in predict_lines(
            model,
            texts,
            batch_size=args.batch_size,
            max_chars=max_chars,
            uncertain_below=args.uncertain_below,
            explain=args.explain,
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
        "headlines",
        nargs="*",
        help="headlines to label (default, or '-': one per line from stdin)",
    )
    predict.add_argument("--model", help="version (default: current)")
    _util.add_uncertain_below(predict)
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
    predict.add_argument(
        "--explain",
        action="store_true",
        help="add to each answer an 'explanation': the 3 nearest labelled training headlines "
        "and the words that raised its top topic most (about 10x the time; JSON lines only)",
    )
    _util.add_max_headline_chars(predict)
