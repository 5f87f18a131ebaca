"""The ``headline-topics`` command: thin sub-commands over the package's plain functions.

Output meant for people or pipes goes to stdout; logging goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterable, Sequence

from classifier import config
from classifier.encoders.embedding import BACKENDS, EncoderError, embedder_for, make_embedder
from classifier.topics.data import DataError
from classifier.topics.model import InputError
from classifier.topics.store import ModelError, ModelStore

logger = logging.getLogger("headline_topics")

BACKEND_HELP = (
    "encoder backend: torch, onnx or onnx-int8 (default: $HEADLINE_TOPICS_ENCODER_BACKEND, "
    "else the one the model was trained on)"
)
EXPECTED_ERRORS = (DataError, ModelError, EncoderError, InputError, ValueError, OSError)


def _store(args: argparse.Namespace) -> ModelStore:
    return ModelStore(args.models_dir or config.models_dir())


def _embedder(args: argparse.Namespace):
    """The encoder for new work (training, clustering without a model): --backend or the default."""
    backend = getattr(args, "backend", None) or config.encoder_backend() or config.DEFAULT_BACKEND
    return make_embedder(
        args.encoder or config.encoder_path(),
        backend=backend,
        cache_dir=config.encoder_cache_dir(args.models_dir),
    )


def _load_model(args: argparse.Namespace):
    """A saved model with the encoder it was trained on (or the one --backend names)."""
    store = _store(args)
    name = store.resolve(getattr(args, "model", None))
    embedder = embedder_for(
        store.read_manifest(name),
        encoder=args.encoder,
        backend=getattr(args, "backend", None),
        models_dir=store.root,
    )
    return store.load(name, embedder=embedder)


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")


# -- train ---------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from classifier.topics.training import train_from_file

    promote = "always" if args.force_promote else "never" if args.no_promote else "if-better"
    result, problems = train_from_file(
        args.data,
        _store(args),
        _embedder(args),
        priors=args.priors,
        promote=promote,
        encoding=args.encoding,
        head_params={"C": args.C} if args.C else None,
    )
    metrics = result.manifest["metrics"]
    data = result.manifest["data"]
    _emit(f"model {result.version} written to {_store(args).path_of(result.version)}")
    _emit(
        f"rows: {data['rows_read']} read, {data['rows_used']} used, {data['rows_skipped']} skipped"
    )
    for problem in problems[:20]:
        _emit(f"  skipped {problem}")
    if len(problems) > 20:
        _emit(f"  ... and {len(problems) - 20} more")
    if "macro_f1" in metrics:
        _emit(
            f"cross-validated macro-F1 {metrics['macro_f1']:.4f}, accuracy {metrics['accuracy']:.4f}, "
            f"ECE {metrics['ece']:.4f} ({metrics['method']})"
        )
        _emit(_per_class_table(metrics["per_class"]))
    _emit(("promoted: " if result.promoted else "NOT promoted: ") + result.reason)
    return 0


# -- models / promote ----------------------------------------------------------------------------
def cmd_models(args: argparse.Namespace) -> int:
    store = _store(args)
    current = store.current_version()
    rows = []
    for name in store.versions():
        try:
            manifest = store.read_manifest(name)
            metrics = manifest.get("metrics", {})
            rows.append(
                {
                    "version": name,
                    "current": name == current,
                    "created": manifest.get("created"),
                    "labels": manifest.get("labels"),
                    "macro_f1": metrics.get("macro_f1"),
                    "accuracy": metrics.get("accuracy"),
                    "ece": metrics.get("ece"),
                    "rows": manifest.get("data", {}).get("rows_used"),
                    "backend": manifest.get("embedding", {}).get("backend") or "torch",
                    "data": manifest.get("data", {}).get("source"),
                }
            )
        except ModelError as exc:
            rows.append({"version": name, "current": name == current, "error": str(exc)})
    if args.json:
        _emit(json.dumps(rows, indent=2))
        return 0
    if not rows:
        _emit(f"no models in {store.root}")
        return 0
    _emit(
        f"{'':2}{'version':<30} {'created':<26} {'macro-F1':>8} {'acc':>7} {'ECE':>7} {'rows':>6}  "
        f"{'backend':<10} data"
    )
    for row in rows:
        mark = "* " if row["current"] else "  "
        if "error" in row:
            _emit(f"{mark}{row['version']:<30} BROKEN: {row['error']}")
            continue
        _emit(
            f"{mark}{row['version']:<30} {row['created']:<26} {_num(row['macro_f1']):>8} "
            f"{_num(row['accuracy']):>7} {_num(row['ece']):>7} {row['rows'] or '':>6}  "
            f"{row['backend']:<10} {row['data']}"
        )
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    name = _store(args).promote(args.version)
    _emit(f"current model is now {name}")
    return 0


# -- evaluate ------------------------------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    from classifier.topics.evaluation import evaluate_file

    result = evaluate_file(_load_model(args), args.data, encoding=args.encoding)
    if args.json:
        _emit(json.dumps(result))
        return 0
    _emit(f"model {result['model']} on {result['file']}: {result['n']} rows scored")
    if result["unknown_labels"]["rows"]:
        _emit(f"not scored, label unknown to the model: {result['unknown_labels']['labels']}")
    if result["rows_skipped"]:
        _emit(
            f"skipped {len(result['rows_skipped'])} unusable rows, e.g. {result['rows_skipped'][0]}"
        )
    _emit(
        f"macro-F1 {result['macro_f1']:.4f}  accuracy {result['accuracy']:.4f}  "
        f"calibration error (ECE) {result['ece']:.4f}"
    )
    _emit(_per_class_table(result["per_class"]))
    labels = result["confusion_matrix"]["labels"]
    width = max(len(label) for label in labels) + 2
    _emit("confusion matrix (rows: true, columns: predicted)")
    _emit(" " * width + "".join(f"{label[:10]:>12}" for label in labels))
    for label, row in zip(labels, result["confusion_matrix"]["matrix"], strict=True):
        _emit(f"{label:<{width}}" + "".join(f"{v:>12}" for v in row))
    return 0


# -- predict -------------------------------------------------------------------------------------
def _stdin_lines() -> Iterable[str]:
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def cmd_predict(args: argparse.Namespace) -> int:
    model = _load_model(args)
    texts: Iterable[str] = args.headlines if args.headlines else _stdin_lines()
    failed = 0
    batch: list[tuple[int, str]] = []

    def flush() -> None:
        nonlocal failed
        good = [(i, t) for i, t in batch if t.strip()]
        predictions = model.predict([t for _, t in good]) if good else []
        by_index = dict(zip((i for i, _ in good), predictions, strict=True))
        for i, text in batch:
            if i in by_index:
                _emit(json.dumps({"headline": text, **by_index[i].to_dict()}, ensure_ascii=False))
            else:
                failed += 1
                _emit(
                    json.dumps(
                        {"headline": text, "line": i, "error": "empty or whitespace-only headline"}
                    )
                )
        batch.clear()

    for i, text in enumerate(texts, start=1):
        batch.append((i, text))
        if len(batch) >= args.batch_size:
            flush()
    flush()
    if failed:
        logger.warning("%d headline(s) could not be classified", failed)
    return 1 if failed else 0


# -- helpers -------------------------------------------------------------------------------------
def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _per_class_table(per_class: dict[str, dict]) -> str:
    lines = [f"{'topic':<14}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for label, row in per_class.items():
        lines.append(
            f"{label:<14}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}"
            f"{row['support']:>10}"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headline-topics", description="Tell what news headlines are about."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str,
        handler: Callable[[argparse.Namespace], int],
        help_text: str,
        *,
        backend_help: str | None = BACKEND_HELP,
    ):
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        command.add_argument(
            "--models-dir", help="model store (default: $HEADLINE_TOPICS_MODELS or ./models)"
        )
        command.add_argument(
            "--encoder", help="local sentence-transformers folder (default: bundled MiniLM)"
        )
        if backend_help:
            command.add_argument("--backend", choices=BACKENDS, help=backend_help)
        return command

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
    train.add_argument("--C", type=float, help="inverse regularisation of the head (default 16)")
    train.add_argument(
        "--encoding", default="utf-8-sig", help="text encoding of DATA (default UTF-8)"
    )
    group = train.add_mutually_exclusive_group()
    group.add_argument(
        "--no-promote", action="store_true", help="write the version but keep the current one"
    )
    group.add_argument(
        "--force-promote", action="store_true", help="make it current even if it scores worse"
    )

    models = add("models", cmd_models, "list model versions with their metrics", backend_help=None)
    models.add_argument("--json", action="store_true")

    promote = add(
        "promote",
        cmd_promote,
        "make a model version current (also for rollback)",
        backend_help=None,
    )
    promote.add_argument("version")

    evaluate = add("evaluate", cmd_evaluate, "score a model on a labelled file")
    evaluate.add_argument("data")
    evaluate.add_argument("--model", help="version (default: current)")
    evaluate.add_argument("--json", action="store_true", help="one JSON object")
    evaluate.add_argument("--encoding", default="utf-8-sig")

    predict = add("predict", cmd_predict, "label headlines given as arguments or lines on stdin")
    predict.add_argument("headlines", nargs="*")
    predict.add_argument("--model", help="version (default: current)")
    predict.add_argument("--batch-size", type=int, default=64)

    for extend in _extensions():
        extend(add)
    return parser


def _extensions() -> list[Callable]:
    """Sub-commands that live in their own modules (service, clustering, tagging, export)."""
    from classifier.cli import cluster as cluster_cli
    from classifier.cli import export as export_cli
    from classifier.cli import serve as serve_cli
    from classifier.cli import tag as tag_cli

    return [serve_cli.register, cluster_cli.register, tag_cli.register, export_cli.register]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.handler(args)
    except EXPECTED_ERRORS as exc:
        sys.stderr.write(f"headline-topics {args.command}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
