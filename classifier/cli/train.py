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
    teach = train.add_argument_group(
        "corrections",
        "people's corrections, trained on with DATA: each replaces DATA's rows of the same "
        "headline (case and spacing aside); later sources win: the --add files in order, then "
        "the feedback store (docs/teach.md)",
    )
    teach.add_argument(
        "--add",
        action="append",
        metavar="FILE",
        help="a CSV/JSONL of corrections with 'headline' and 'topic' or 'topics', like DATA (an "
        "export of GET /v1/feedback is one); may be given several times",
    )
    teach.add_argument(
        "--feedback",
        action="store_true",
        help="add the newest correction of every headline in the feedback store",
    )
    teach.add_argument(
        "--feedback-db",
        metavar="FILE",
        help="the feedback store --feedback reads (default: $HEADLINE_TOPICS_FEEDBACK_DB, else "
        "feedback.sqlite3 in the model store)",
    )
    teach.add_argument(
        "--fit",
        choices=config.FIT_MODES,
        default="auto",
        help="'full' cross-validates the heads (minutes); 'quick' refits them from the current "
        "model, keeping its calibration (seconds), and fails where that is unsound; 'auto' "
        "(default) is quick when there are corrections, the current model was trained on DATA "
        "itself with this encoder, topics and --C, and the corrections are at most "
        f"{config.QUICK_MAX_SHARE:.0%}% of the rows, else full (docs/teach.md#quick-and-full-retrains---fit)",
    )
    cache = train.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="DIR",
        help="embedding cache, so a retrain embeds only new headlines (default: embeddings/ in "
        "the encoder cache, docs/tagging.md)",
    )
    cache.add_argument("--no-cache", action="store_true", help="embed every headline afresh")
    _util.add_input_options(train, what="DATA", encoding_default="utf-8-sig")
    _util.add_progress_option(train)
    _util.add_new_topic_options(train)
    gate = train.add_argument_group(
        "promotion",
        "the new version is always written; it becomes current only if the gate lets it: DATA "
        f"has {config.MIN_PER_TOPIC} examples of each topic and {config.MIN_ROWS} rows, and the "
        "new model is not worse than the current one on FILE (docs/models.md#promotion)",
    )
    gate.add_argument(
        "--eval-file",
        metavar="FILE",
        help="labelled headlines (headline, topic) never trained on, that both the new and the "
        f"current model are scored on (default: the bundled {config.EVAL_FILE}; where it is not "
        "installed, a model trained on other data than the current one is not promoted)",
    )
    gate.add_argument(
        "--f1-tolerance",
        type=_util.non_negative_number,
        metavar="X",
        default=config.F1_TOLERANCE,
        help="rule 1: the new macro-F1 on FILE may be at most this much below the current "
        f"model's (default {config.F1_TOLERANCE:g})",
    )
    gate.add_argument(
        "--max-topic-drop",
        type=_util.non_negative_number,
        metavar="X",
        default=config.MAX_TOPIC_DROP,
        help="rule 2: no topic's F1 on FILE may drop by more than this "
        f"(default {config.MAX_TOPIC_DROP:g})",
    )
    group = gate.add_mutually_exclusive_group()
    group.add_argument(
        "--no-promote", action="store_true", help="write the version but keep the current one"
    )
    group.add_argument(
        "--force-promote",
        action="store_true",
        help="make it current even if the gate refuses it (as 'promote VERSION' does)",
    )


def cmd_train(args: argparse.Namespace) -> int:
    from classifier.topics.gate import PromotionGate
    from classifier.topics.training import train_from_file

    promote = "always" if args.force_promote else "never" if args.no_promote else "if-better"
    reading = _util.labelled_reading(args)  # bad values fail before the encoder loads
    described = _util.new_topics(args)
    gate = PromotionGate(
        eval_file=args.eval_file,
        f1_tolerance=args.f1_tolerance,
        max_topic_drop=args.max_topic_drop,
    )
    store = _util.store_from(args)
    store.check_writable()  # before loading an encoder for work that could not be saved
    corrections = _corrections(args, store.root, reading)  # bad files fail before the encoder
    encoder = _util.EncodingProgress(_util.new_encoder(args), args.progress, desc="embedding")
    result, problems = train_from_file(
        args.data,
        store,
        _cached(encoder, args),
        priors=args.priors,
        promote=promote,
        head_params={"C": args.C} if args.C is not None else None,
        gate=gate,
        corrections=corrections,
        zero_shot=described,
        fit=args.fit,
        **reading,
    )
    _util.emit_lines(training_report(result, problems, store.path_of(result.version)))
    return 0


def _corrections(args: argparse.Namespace, models_dir: Path, reading: dict):
    """The corrections of --add and --feedback, or None when neither is given."""
    if args.feedback_db and not args.feedback:
        raise ValueError("--feedback-db names the store --feedback reads; add --feedback")
    if not (args.add or args.feedback):
        return None
    from classifier.feedback.store import path_from_env
    from classifier.topics.corrections import gather

    db = None
    if args.feedback:
        db = Path(args.feedback_db) if args.feedback_db else path_from_env(models_dir)
    return gather(
        files=args.add or (),
        feedback_db=db,
        encoding=reading["encoding"],
        max_chars=reading["max_chars"],
    )


def _cached(encoder, args: argparse.Namespace):
    """``encoder`` behind the embedding cache (--cache, else the default folder), unless
    --no-cache."""
    if args.no_cache:
        return encoder
    from classifier.encoders.cache import EmbeddingCache
    from classifier.encoders.cached import CachedEncoder

    folder = args.cache or config.encoder_cache_dir(args.models_dir) / "embeddings"
    return CachedEncoder(encoder, EmbeddingCache.for_encoder(folder, encoder.info()))


def training_report(result: TrainResult, problems: list, folder: Path) -> list[str]:
    """Where the version went, which rows were used, its cross-validated scores, the promotion."""
    metrics = result.manifest["metrics"]
    data = result.manifest["data"]
    lines = [
        f"model {result.version} written to {folder}",
        f"rows: {data['rows_read']} read, {data['rows_used']} used, {data['rows_skipped']} skipped",
    ]
    lines += [f"  skipped {problem}" for problem in problems[:SHOWN_PROBLEMS]]
    corrected = result.manifest.get("corrections")
    if corrected is not None:
        lines.append(
            f"corrections: {corrected['rows']} trained on, replacing {corrected['replaced']} "
            f"row(s) of {data['source']}; {corrected['skipped']} skipped"
        )
    if len(problems) > SHOWN_PROBLEMS:
        lines.append(f"  ... and {len(problems) - SHOWN_PROBLEMS} more")
    fit = result.manifest.get("fit", {})
    if fit.get("mode") == "quick":
        lines.append(
            f"quick retrain from {fit['from']}: its calibration (from {fit['calibrated_by']}) "
            "and cross-validated scores carried over; --fit full re-calibrates"
        )
    elif fit.get("reason") and corrected is not None:  # a quick one could have been expected
        lines.append(f"full retrain: {fit['reason']}")
    if "macro_f1" in metrics:
        lines.append(
            f"cross-validated macro-F1 {metrics['macro_f1']:.4f}, accuracy {metrics['accuracy']:.4f}, "
            f"ECE {metrics['ece']:.4f} ({metrics['method']})"
        )
        lines.append(_util.per_class_table(metrics["per_class"]))
    evaluation = result.manifest.get("evaluation") or {}
    if "macro_f1" in evaluation:
        lines.append(
            f"on {evaluation['file']} ({evaluation['rows']} headlines never trained on): "
            + (
                f"topic lists: macro-F1 of 'applies' {evaluation['macro_f1']:.4f}, "
                f"example-based F1 {evaluation['example_f1']:.4f}, "
                if evaluation.get("measure") == "topic lists"
                else f"macro-F1 {evaluation['macro_f1']:.4f}, "
            )
            + f"top-topic accuracy {evaluation['accuracy']:.4f}"
        )
    elif evaluation.get("skipped"):
        lines.append(f"not scored on an evaluation file: {evaluation['skipped']}")
    for name, entry in (result.manifest.get("zero_shot") or {}).items():
        lines.append(
            f"zero-shot topic {name}: no labelled examples, scored by similarity to its "
            f"description and {len(entry['seeds'])} seed phrase(s) (bar {entry['similarity_bar']:.3f}); "
            "every answer marks it, until DATA has examples of it"
        )
    lines += _few_examples(data)
    lines.append(("promoted: " if result.promoted else "NOT promoted: ") + result.reason)
    return lines


def _few_examples(data: dict) -> list[str]:
    """A hint for each topic with few rows beside much bigger ones (a new topic joining data
    that predates it): such data often holds headlines about it under another label, and they
    outvote a few dozen examples. A small file where every topic is small gets no hint."""
    from statistics import median

    from classifier.teach.lookalike import FEW_EXAMPLES, MINORITY
    from classifier.topics.multi import NONE_LABEL

    counts = data.get("topic_counts") or data.get("counts") or {}
    lines = []
    for topic, count in sorted(counts.items()):
        others = [c for t, c in counts.items() if t not in (topic, NONE_LABEL)]
        if topic == NONE_LABEL or count >= FEW_EXAMPLES or not others:
            continue
        if count < MINORITY * median(others):
            lines.append(
                f"topic {topic} has only {count} row(s): `headline-topics suggest "
                f"{data['source']} --like {topic} --out relabel.csv` lists rows labelled "
                "otherwise that look like it"
            )
    return lines
