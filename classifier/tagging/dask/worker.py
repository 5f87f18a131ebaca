"""The worker side of the Dask engine: one model and one tagger per worker process.

Loading a model takes seconds and hundreds of megabytes, so a worker must not load it for every
partition. :class:`ModelSpec` says what to load and is hashable, so it keys a per-process cache;
a worker plugin fills the cache as each worker starts, and :func:`tagged_frame` (the task that
runs on every partition) takes its tagger from there.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from classifier.config import DEFAULT_MAX_HEADLINE_CHARS
from classifier.encoders import embedder_for
from classifier.tagging.dask.partitions import Part, Plan, read_part
from classifier.tagging.defaults import DEFAULT_MEMO_SIZE
from classifier.tagging.tagger import Tagger, open_cache
from classifier.tagging.writers import arrow_table
from classifier.topics.model import TopicModel
from classifier.topics.store import ModelStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    """Everything a worker needs to load the model and tagger; hashable, so it keys the cache."""

    models_dir: str
    version: str
    encoder: str | None = None
    backend: str | None = None  # None: the one the model was trained on
    threads: int | None = None  # encoder threads per worker process (None: every core)
    text_column: str = "headline"
    cache_dir: str | None = None
    memo_size: int = DEFAULT_MEMO_SIZE
    encode_batch_size: int | None = None
    max_chars: int = DEFAULT_MAX_HEADLINE_CHARS  # longer headlines are skipped rows
    embedder_factory: Callable[[], Any] | None = None  # tests inject a fake encoder


_TAGGERS: dict[ModelSpec, Tagger] = {}
_TAGGER_LOCKS: dict[ModelSpec, threading.Lock] = {}
_LOAD_LOCK = threading.Lock()
LOADS: Counter = Counter()  # model loads in this process, per spec (checked by the tests)


def load_model(spec: ModelSpec) -> TopicModel:
    """The model of ``spec`` with the encoder it asks for (by default the model's own)."""
    store = ModelStore(spec.models_dir)
    if spec.embedder_factory is not None:
        embedder = spec.embedder_factory()
    else:
        embedder = embedder_for(
            store.read_manifest(spec.version),
            encoder=spec.encoder,
            backend=spec.backend,
            models_dir=spec.models_dir,
            threads=spec.threads,
        )
    return store.load(spec.version, embedder=embedder)


def worker_tagger(spec: ModelSpec) -> tuple[Tagger, threading.Lock]:
    """This process's tagger for ``spec``, loading the model the first time only."""
    with _LOAD_LOCK:
        if spec not in _TAGGERS:
            model = load_model(spec)
            _TAGGERS[spec] = Tagger(
                model,
                text_column=spec.text_column,
                cache=open_cache(spec.cache_dir, model),
                memo_size=spec.memo_size,
                encode_batch_size=spec.encode_batch_size,
                max_chars=spec.max_chars,
            )
            _TAGGER_LOCKS[spec] = threading.Lock()
            LOADS[spec] += 1
            logger.info("worker process %d loaded model %s", os.getpid(), spec.version)
        return _TAGGERS[spec], _TAGGER_LOCKS[spec]


def preload_plugin(spec: ModelSpec) -> Any:
    """A worker plugin that loads the model as each worker starts (or joins) the cluster."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class PreloadModel(WorkerPlugin):
        name = f"headline-topics-model-{spec.version}"

        def __init__(self, spec: ModelSpec) -> None:
            self.spec = spec

        def setup(self, worker) -> None:
            worker_tagger(self.spec)

    return PreloadModel(spec)


def tagged_frame(part: Part, plan: Plan, spec: ModelSpec) -> pd.DataFrame:
    """Read and tag one partition on a worker; the result is a pandas frame with Arrow types."""
    chunk = read_part(part, plan)
    tagger, lock = worker_tagger(spec)
    with lock:  # a tagger's memo is not thread-safe; the encoder uses every core anyway
        result = tagger.tag(chunk)
    table = arrow_table(chunk, result, list(plan.columns), clusters=False)
    return table.to_pandas(types_mapper=pd.ArrowDtype)
