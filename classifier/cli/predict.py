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
from classifier.readers.decoding import clean_text
from classifier.text import PROBLEM_WORDS, headline_problem

if TYPE_CHECKING:
    from classifier.topics.model import TopicModel

UNUSABLE = "empty or whitespace-only headline"


def _reason(text: str) -> str:
    problem = headline_problem(text)
    return UNUSABLE if problem == "empty" else f"the headline {PROBLEM_WORDS[str(problem)]}"


def predict_lines(
    model: TopicModel, texts: Iterable[str], *, batch_size: int
) -> Iterator[tuple[dict[str, Any], bool]]:
    """``(answer, ok)`` for each text in order, predicting ``batch_size`` texts at a time."""
    batch: list[tuple[int, str]] = []

    def flush() -> Iterator[tuple[dict[str, Any], bool]]:
        good = [(i, t) for i, t in batch if headline_problem(t) is None]
        predictions = model.predict([t for _, t in good]) if good else []
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


def cmd_predict(args: argparse.Namespace) -> int:
    _util.require_at_least_one(args, "batch_size", show_value=True)
    model = _util.load_model(args)
    texts: Iterable[str] = args.headlines if args.headlines else _stdin_lines()
    failed = 0
    for answer, ok in predict_lines(model, texts, batch_size=args.batch_size):
        # answers keep their text as typed; error lines stay ASCII, as they always were
        _util.emit_json(answer, ensure_ascii=not ok)
        failed += not ok
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
        "--batch-size", type=int, default=64, help="headlines encoded at a time (default 64)"
    )
