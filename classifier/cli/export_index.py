"""``headline-topics export-index DATA``: give a saved model the neighbour index explanations show.

headline-topics export-index data/headlines.csv                  # the current model
headline-topics export-index data/headlines.csv --model VERSION --force

For versions saved before training wrote the index. DATA must be the file the model was trained
on (its rows are checked against the manifest's data fingerprint); the model's answers do not
change. The work is :func:`classifier.topics.reindex.index_from_file` and
:meth:`~classifier.topics.store.ModelStore.add_neighbours`.
"""

from __future__ import annotations

import argparse

from classifier.cli import _util


def cmd_export_index(args: argparse.Namespace) -> int:
    from classifier.topics.reindex import index_from_file
    from classifier.topics.store import NEIGHBOURS_FILE

    store = _util.store_from(args)
    store.check_writable()  # before the encoding a read-only store would waste
    name = store.resolve(args.model)
    manifest = store.read_manifest(name)
    if NEIGHBOURS_FILE in manifest.get("files", {}) and not args.force:
        raise FileExistsError(
            f"model {name!r} has a neighbour index already; pass --force to build it again"
        )
    encoder = _util.EncodingProgress(
        _util.model_encoder(manifest, args, store.root), args.progress, desc="encoding"
    )
    reading = _util.labelled_reading(args)
    reading["encoding"] = reading["encoding"] or "utf-8-sig"
    name, index = index_from_file(args.data, store, name, embedder=encoder, **reading)
    store.add_neighbours(name, index, force=args.force)
    size_mb = (store.path_of(name) / NEIGHBOURS_FILE).stat().st_size / 1e6
    _util.emit(
        f"model {name}: neighbour index of {len(index)} training headlines written "
        f"({NEIGHBOURS_FILE}, {size_mb:.1f} MB); its answers are unchanged"
    )
    return 0


def register(add: _util.AddCommand) -> None:
    command = add(
        "export-index",
        cmd_export_index,
        "add the neighbour index (for explanations) to a model saved without one",
        backend_help=None,
    )
    command.add_argument("data", help="the CSV or JSONL file the model was trained on")
    command.add_argument("--model", help="version (default: current)")
    command.add_argument(
        "--force", action="store_true", help="build the index again when the model has one"
    )
    _util.add_labelled_columns(command)
    _util.add_input_options(command, what="DATA", encoding_default="utf-8-sig")
    _util.add_progress_option(command)
