"""``headline-topics train``: fit a new model version on labelled headlines, and say if it is current.

The work is :func:`classifier.topics.training.train_from_file`, which Python callers use too;
this module maps the options onto it and prints what it returns.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from classifier import config
from classifier.cli import _util

if TYPE_CHECKING:
    from classifier.topics.training import TrainResult

SHOWN_PROBLEMS = 20  # skipped rows listed one by one; the rest are counted


def register(add: _util.AddCommand) -> None:
    train = add(
        "train",
        cmd_train,
        "train a new model version from labelled headlines (CSV/JSONL)",
        backend_help="encoder backend the head is trained on, and later served with "
        f"(default: $HEADLINE_TOPICS_ENCODER_BACKEND, else {config.DEFAULT_BACKEND})",
    )
    train.add_argument("data", help="CSV or JSONL with 'headline' and 'topic'")
    train.add_argument(
        "--priors",
        default="training",
        help="'training' (keep the data's balance; default), 'news' (shares of a news stream, for "
        "the default topics) or 'label=share,...'",
    )
    train.add_argument(
        "--C",
        type=_util.positive_number,
        help=f"inverse regularisation of the head, a finite number above 0 (default {config.DEFAULT_C:g})",
    )
    _util.add_labelled_columns(train)
    _util.add_input_options(train, what="DATA", encoding_default="utf-8-sig")
    _util.add_progress_option(train)
    group = train.add_mutually_exclusive_group()
    group.add_argument(
        "--no-promote", action="store_true", help="write the version but keep the current one"
    )
    group.add_argument(
        "--force-promote", action="store_true", help="make it current even if it scores worse"
    )


def cmd_train(args: argparse.Namespace) -> int:
    from classifier.topics.training import train_from_file

    promote = "always" if args.force_promote else "never" if args.no_promote else "if-better"
    reading = _util.labelled_reading(args)  # bad values fail before the encoder loads
    store = _util.store_from(args)
    result, problems = train_from_file(
        args.data,
        store,
        _util.EncodingProgress(_util.new_encoder(args), args.progress, desc="embedding"),
        priors=args.priors,
        promote=promote,
        head_params={"C": args.C} if args.C is not None else None,
        **reading,
    )
    _util.emit_lines(training_report(result, problems, store.path_of(result.version)))
    return 0


def training_report(result: TrainResult, problems: list, folder: Path) -> list[str]:
    """Where the version went, which rows were used, its cross-validated scores, the promotion."""
    metrics = result.manifest["metrics"]
    data = result.manifest["data"]
    lines = [
        f"model {result.version} written to {folder}",
        f"rows: {data['rows_read']} read, {data['rows_used']} used, {data['rows_skipped']} skipped",
    ]
    lines += [f"  skipped {problem}" for problem in problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        lines.append(f"  ... and {len(problems) - SHOWN_PROBLEMS} more")
    if "macro_f1" in metrics:
        lines.append(
            f"cross-validated macro-F1 {metrics['macro_f1']:.4f}, accuracy {metrics['accuracy']:.4f}, "
            f"ECE {metrics['ece']:.4f} ({metrics['method']})"
        )
        lines.append(_util.per_class_table(metrics["per_class"]))
    lines.append(("promoted: " if result.promoted else "NOT promoted: ") + result.reason)
    return lines
