"""Give a saved model the neighbour index it was saved without, from the data it was trained on.

Training saves the index with every new version (:mod:`classifier.topics.training`). A version
saved before that (such as the first shipped one) can get it afterwards without retraining, and
so without any change to its answers: the training file is read as training read it, checked to
be the very rows the model was fitted on (the manifest's data fingerprint), encoded by the encoder
the model was trained with, and added as a new part (:meth:`ModelStore.add_neighbours`).
``headline-topics export-index DATA`` is the command.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from classifier.encoders import Encoder, embedder_for
from classifier.errors import ModelError
from classifier.topics.data import read_labelled
from classifier.topics.neighbours import NeighbourIndex
from classifier.topics.store import ModelStore
from classifier.topics.training import data_fingerprint

logger = logging.getLogger(__name__)


def index_from_file(
    path: str | os.PathLike[str],
    store: ModelStore,
    version: str | None = None,
    *,
    embedder: Encoder | None = None,
    encoding: str = "utf-8-sig",
    **read: Any,
) -> tuple[str, NeighbourIndex]:
    """The version's name and its neighbour index, built from ``path``.

    Refuses (ModelError) a file whose rows are not the ones the version was trained on, and an
    encoder other than the one it was trained with: the index must hold the vectors the model's
    own encoder gives, or its similarities would mean little. ``read`` (columns, ``header``,
    ``max_chars``) goes to :func:`~classifier.topics.data.read_labelled`, as for training.
    """
    name = store.resolve(version)
    manifest = store.read_manifest(name)
    data = read_labelled(path, encoding=encoding, **read)
    recorded = manifest.get("data", {}).get("fingerprint")
    topics = data.topics or [[label] for label in data.labels]
    candidates = {
        data_fingerprint(data.texts, [";".join(row) for row in topics]),
        data_fingerprint(data.texts, data.labels),  # a model trained without a topics list
    }
    if recorded not in candidates:
        raise ModelError(
            f"{os.fspath(path)} is not the data model {name!r} was trained on: its "
            f"{len(data.texts)} usable rows do not give the manifest's data fingerprint "
            f"{str(recorded)[:12]} (the model was trained on {manifest.get('data', {}).get('source')!r}, "
            f"{manifest.get('data', {}).get('rows_used')} rows)"
        )
    embedder = embedder or embedder_for(manifest, models_dir=store.root)
    match = embedder.info().compare(manifest.get("embedding", {}))
    if match != "same":
        info = embedder.info()
        raise ModelError(
            f"model {name!r} was trained with the {manifest['embedding'].get('backend') or 'torch'} "
            f"encoder; its index must be built with that one, not {info.backend} "
            f"(fingerprint {info.fingerprint[:12]}): leave out --backend and --encoder"
        )
    logger.info("encoding the %d training headlines of %s", len(data.texts), name)
    embeddings = embedder.encode(data.texts)
    return name, NeighbourIndex(embeddings, data.texts, topics)
