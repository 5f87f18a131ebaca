"""``headline-topics evaluate``: score a saved model on a labelled file.

The scores come from :func:`classifier.topics.evaluation.evaluate_file` as one dict (``--json``
prints it whole); rows whose label the model does not know are counted apart, not scored wrong.
"""

from __future__ import annotations

import argparse
from typing import Any

from classifier.cli import _util


def cmd_evaluate(args: argparse.Namespace) -> int:
    from classifier.topics.evaluation import evaluate_file

    reading = _util.labelled_reading(args)  # bad values fail before the model loads
    model = _util.load_model(args)
    model.embedder = _util.EncodingProgress(model.embedder, args.progress, desc="evaluating")
    result = evaluate_file(model, args.data, **reading)
    if args.json:
        _util.emit_json(result)
    else:
        _util.emit_lines(evaluation_report(result))
    return 0


def evaluation_report(result: dict[str, Any]) -> list[str]:
    """The scores, the per-topic table and the confusion matrix, as people read them."""
    lines = [f"model {result['model']} on {result['file']}: {result['n']} rows scored"]
    if result["unknown_labels"]["rows"]:
        lines.append(
            f"not scored, label unknown to the model: {result['unknown_labels']['labels']}"
        )
    if result["rows_skipped"]:
        lines.append(
            f"skipped {len(result['rows_skipped'])} unusable rows, e.g. {result['rows_skipped'][0]}"
        )
    lines.append(
        f"macro-F1 {result['macro_f1']:.4f}  accuracy {result['accuracy']:.4f}  "
        f"calibration error (ECE) {result['ece']:.4f}"
    )
    lines.append(_util.per_class_table(result["per_class"]))
    if "multi_topic" in result:
        lines.extend(multi_topic_report(result["multi_topic"]))
    labels = result["confusion_matrix"]["labels"]
    width = max(len(label) for label in labels) + 2
    lines.append("confusion matrix (rows: true, columns: predicted)")
    lines.append(" " * width + "".join(f"{label[:10]:>12}" for label in labels))
    for label, row in zip(labels, result["confusion_matrix"]["matrix"], strict=True):
        lines.append(f"{label:<{width}}" + "".join(f"{v:>12}" for v in row))
    return lines


def multi_topic_report(multi: dict[str, Any]) -> list[str]:
    """Scores of the whole ``topics`` lists, for files with several topics on a row."""
    second = multi["second_topics"]

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.4f}"

    lines = [
        f"topics lists ({multi['rows_with_several_topics']} of {multi['n']} rows have several "
        f"topics): example-based F1 {multi['example_f1']:.4f}  exact set {multi['exact_set']:.4f}",
        f"second topics: recall {share(second['recall'])} of {second['true']}, precision "
        f"{share(second['precision'])} of {second['listed']} listed; single-topic rows kept "
        f"single {share(multi['single_topic_kept_single'])}",
        "per topic, does it apply:",
        f"{'topic':<14}{'precision':>10}{'recall':>10}{'f1':>10}{'ECE':>10}{'support':>10}",
    ]
    for label, row in multi["per_topic"].items():
        lines.append(
            f"{label:<14}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}"
            f"{share(row.get('ece')):>10}{row['support']:>10}"
        )
    return lines


def register(add: _util.AddCommand) -> None:
    evaluate = add("evaluate", cmd_evaluate, "score a model on a labelled file")
    evaluate.add_argument("data", help="CSV or JSONL with 'headline' and 'topic' (as for train)")
    evaluate.add_argument("--model", help="version (default: current)")
    evaluate.add_argument("--json", action="store_true", help="one JSON object")
    _util.add_labelled_columns(evaluate)
    _util.add_input_options(evaluate, what="DATA", encoding_default="utf-8-sig")
    _util.add_progress_option(evaluate)
