"""``headline-topics predict``: label headlines given as arguments or as lines on stdin.

One JSON object per input line, in input order, as soon as its batch is done, so the command
works as a filter on an endless stream. A line that cannot be classified gets an object with its
line number and the reason instead, and the exit code is 1, so a pipeline notices.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from classifier.cli import _util
from classifier.config import DEFAULT_MAX_HEADLINE_CHARS
from classifier.readers.decoding import clean_text
from classifier.readers.records import LongLine, bounded_lines
from classifier.text import PROBLEM_WORDS, headline_problem, too_long

if TYPE_CHECKING:
    from classifier.topics.model import TopicModel

UNUSABLE = "empty or whitespace-only headline"


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
) -> Iterator[tuple[dict[str, Any], bool]]:
    """``(answer, ok)`` for each text in order, predicting ``batch_size`` texts at a time; a
    text over ``max_chars`` characters is answered with why, never tokenised."""
    batch: list[tuple[int, str | LongLine]] = []

    def flush() -> Iterator[tuple[dict[str, Any], bool]]:
        good = [
            (i, t)
            for i, t in batch
            if isinstance(t, str) and headline_problem(t, max_chars) is None
        ]
        predictions = model.predict([t for _, t in good]) if good else []
        by_index = dict(zip((i for i, _ in good), predictions, strict=True))
        for i, text in batch:
            if i in by_index:
                yield {"headline": text, **by_index[i].to_dict()}, True
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


def cmd_predict(args: argparse.Namespace) -> int:
    _util.require_at_least_one(args, "batch_size", show_value=True)
    max_chars = _util.max_headline_chars(args)
    model = _util.load_model(args)
    texts: Iterable[str | LongLine] = args.headlines or _stdin_lines(max_chars)
    failed = 0
    for answer, ok in predict_lines(model, texts, batch_size=args.batch_size, max_chars=max_chars):
        # answers keep their text as typed; error lines stay ASCII, as they always were
        _util.emit_json(answer, ensure_ascii=not ok)
        failed += not ok
    if failed:
        _util.logger.warning("%d headline(s) could not be classified", failed)
    return 1 if failed else 0


def register(add: _util.AddCommand) -> None:
    predict = add("predict", cmd_predict, "label headlines given as arguments or lines on stdin")
    predict.add_argument("headlines", nargs="*")
    predict.add_argument("--model", help="version (default: current)")
    predict.add_argument(
        "--batch-size", type=int, default=64, help="headlines encoded at a time (default 64)"
    )
    _util.add_max_headline_chars(predict)
