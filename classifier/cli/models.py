"""``headline-topics models`` and ``promote``: list the store's versions, choose the current one.

Promotion is also the rollback: the old version is still on disk, so making it current again is
one command. :func:`model_rows` is the listing as data (``--json`` prints it as it is).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from classifier.cli import _util

if TYPE_CHECKING:
    from classifier.topics.store import ModelStore


def model_rows(store: ModelStore) -> list[dict[str, Any]]:
    """One row per version with its scores; a version that cannot be read says why, not fails."""
    from classifier.topics.store import ModelError

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
                    # the promotion gate's figures on its fixed file (train --eval-file)
                    "eval_file": manifest.get("evaluation", {}).get("file"),
                    "eval_macro_f1": manifest.get("evaluation", {}).get("macro_f1"),
                }
            )
        except ModelError as exc:
            rows.append({"version": name, "current": name == current, "error": str(exc)})
    return rows


def models_table(rows: list[dict[str, Any]]) -> list[str]:
    """The rows as a table; the current version is starred."""
    lines = [
        f"{'':2}{'version':<30} {'created':<26} {'macro-F1':>8} {'acc':>7} {'ECE':>7} {'rows':>6}  "
        f"{'backend':<10} data"
    ]
    for row in rows:
        mark = "* " if row["current"] else "  "
        if "error" in row:
            lines.append(f"{mark}{row['version']:<30} BROKEN: {row['error']}")
            continue
        lines.append(
            f"{mark}{row['version']:<30} {row['created']:<26} {_number(row['macro_f1']):>8} "
            f"{_number(row['accuracy']):>7} {_number(row['ece']):>7} {row['rows'] or '':>6}  "
            f"{row['backend']:<10} {row['data']}"
        )
    return lines


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def cmd_models(args: argparse.Namespace) -> int:
    store = _util.store_from(args)
    rows = model_rows(store)
    if args.json:
        _util.emit_json(rows, indent=2)
    elif not rows:
        _util.emit(f"no models in {store.root}")
    else:
        _util.emit_lines(models_table(rows))
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    # a tab-completed version folder ends in a slash: the name is the same
    name = _util.store_from(args).promote(args.version.rstrip("/"))
    _util.emit(f"current model is now {name}")
    return 0


def register(add: _util.AddCommand) -> None:
    models = add("models", cmd_models, "list model versions with their metrics", backend_help=None)
    models.add_argument("--json", action="store_true", help="print the list as JSON")

    promote = add(
        "promote",
        cmd_promote,
        "make a model version current (also for rollback)",
        backend_help=None,
    )
    promote.add_argument("version", help="the version to make current (see 'models')")
