"""The worker side of the Dask engine: one model and one tagger per worker process.

Loading a model takes seconds and hundreds of megabytes, so a worker must not load it for every
partition. :class:`ModelSpec` says what to load and is hashable, so it keys a per-process cache;
a worker plugin fills the cache as each worker starts, and :func:`tag_part` (the task that
runs on every partition) takes its tagger from there. A task formats its rows with the local
engine's own formatters, so the client only appends bytes in input order.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from classifier.config import DEFAULT_MAX_HEADLINE_CHARS, UNCERTAIN_BELOW
from classifier.encoders import embedder_for
from classifier.errors import DataError, HeadlineTopicsError
from classifier.readers.formats import FileFormat
from classifier.tagging.dask.folder_parts import write_part
from classifier.tagging.dask.partitions import Part, Plan, read_part
from classifier.tagging.defaults import DEFAULT_MEMO_SIZE
from classifier.tagging.results import TagResult
from classifier.tagging.run import Counters
from classifier.tagging.tagger import Tagger, open_cache
from classifier.tagging.writers import arrow_table, formatter_for
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
    uncertain_below: float = UNCERTAIN_BELOW  # rows under this confidence are marked uncertain
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
                uncertain_below=spec.uncertain_below,
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


@dataclass(frozen=True)
class PartOutput:
    """What a task makes of its partition: ``csv``/``jsonl`` bytes, a ``table``, or a ``folder``
    part that the worker writes itself (into ``folder``)."""

    kind: str
    columns: tuple[str, ...]
    delimiter: str = ","
    folder: str | None = None


def worker_address() -> str:
    """This worker's address, for messages that must say where something went wrong."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"process {os.getpid()}"


def tag_part(
    part: Part, plan: Plan, spec: ModelSpec, out: PartOutput, index: int, chunk_size: int
) -> tuple[Any, int, dict[str, Any]]:
    """Read and tag one partition on a worker, chunk by chunk, as the local engine does.

    Returns the formatted rows (bytes, a table, or None when the worker wrote a folder part),
    the number of rows and the counters. Errors name the worker: the file that is missing is
    missing *there*.
    """
    try:
        return _tag_part(part, plan, spec, out, index, chunk_size)
    except (OSError, HeadlineTopicsError) as exc:
        raise DataError(f"worker {worker_address()}: {exc}") from exc


def _tag_part(
    part: Part, plan: Plan, spec: ModelSpec, out: PartOutput, index: int, chunk_size: int
) -> tuple[Any, int, dict[str, Any]]:
    tagger, lock = worker_tagger(spec)
    columns = list(out.columns)
    formatter = None
    if out.kind in ("csv", "jsonl"):
        formatter = formatter_for(
            FileFormat(out.kind, delimiter=out.delimiter), columns, clusters=False
        )
    counters, rows, pieces = Counters(), 0, []
    for chunk in read_part(part, plan, chunk_size):
        with lock:  # a tagger's memo is not thread-safe; the encoder uses every core anyway
            result = tagger.tag(chunk)
        counters.add(result)
        rows += len(chunk)
        if formatter is not None:
            pieces.append(formatter.format(chunk, result))
        else:
            pieces.append(arrow_table(chunk, result, columns, clusters=False))
    if rows != part.rows:
        raise DataError(
            f"{part.path} changed while it was being tagged: {rows} rows where the plan found "
            f"{part.rows}; start over with --force"
        )
    if formatter is not None:
        return b"".join(pieces), rows, counters.to_dict()
    if not pieces:
        empty = TagResult([], [], [], [], spec.version)
        pieces.append(arrow_table(plan.empty_chunk(part.path), empty, columns, clusters=False))
    table = pa.concat_tables(pieces)
    if out.kind == "folder":
        assert out.folder is not None
        write_part(table, counters, out.folder, index)
        return None, rows, counters.to_dict()
    return table, rows, counters.to_dict()


def missing_paths(paths: list[tuple[str, str]]) -> list[str]:
    """Which of ``(what, path)`` this process cannot see, as "what path" lines (run on workers)."""
    return [f"{what} {path}" for what, path in paths if not os.path.exists(path)]
