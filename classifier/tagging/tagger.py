"""Tag whole archives of headlines offline: stream in chunks, embed each distinct headline once.

``tag_file`` is the local engine: one process reads the input chunk by chunk, tags each chunk
with a ``Tagger`` and appends it to a checkpointed temporary output (see ``tag_output``), so
memory stays flat whatever the archive's size and an interrupted run can be resumed. The Dask
engine (``tag_dask``) runs the same ``Tagger`` on each partition of a cluster.

Work is never done twice within a run: headlines are compared after normalising whitespace and
case (the bundled encoder is uncased, so this changes no embedding), and each distinct one is
embedded once; an optional ``EmbeddingCache`` carries embeddings across runs and model versions.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from classifier.encoders.cache import EmbeddingCache, text_key
from classifier.tagging.io import (
    MISSING,
    Chunk,
    TagResult,
    detect_format,
    is_clean_text,
    open_reader,
    output_columns,
)
from classifier.tagging.output import Counters, OutputTarget
from classifier.topics.data import DataError
from classifier.topics.model import TopicModel

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 2048
DEFAULT_MEMO_SIZE = 1_000_000  # distinct headlines remembered per run (~120 bytes each)
DEFAULT_CLUSTER_SAMPLE = 5000  # distinct headlines a --clusters run fits its clusterer on


class ClusterAssigner(Protocol):
    """A fitted clusterer: nearest-cluster id for each embedding row."""

    def assign(self, embeddings: np.ndarray) -> np.ndarray: ...


def normalise_headline(text: str) -> str:
    """The form in which headlines are compared and embedded: single spaces, lower case."""
    return " ".join(text.split()).lower()


def check_text(value: Any, column: str) -> tuple[str | None, str | None]:
    """(normalised headline, None) for a usable value, else (None, reason)."""
    if value is MISSING:
        return None, f"no {column}"
    if value is None:
        return None, f"empty {column}"
    if not isinstance(value, str):
        return None, f"{column} is not text: {type(value).__name__}"
    if not is_clean_text(value):
        return None, f"{column} is not valid UTF-8"
    normalised = normalise_headline(value)
    if not normalised:
        return None, f"empty {column}"
    return normalised, None


@dataclass
class TaggerStats:
    rows: int = 0
    distinct: int = 0  # distinct headlines labelled (each embedded or read from the cache once)
    encoded: int = 0
    cache_hits: int = 0
    reused: int = 0  # rows answered from an earlier identical headline
    cluster_sample: int = 0  # distinct headlines the clusterer was fitted on
    clusters: int = 0  # clusters it found

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class Tagger:
    """Labels chunks of rows with a topic model, remembering every distinct headline it has seen.

    The memo keeps, for up to ``memo_size`` distinct headlines, the finished label (not the
    embedding) packed into one integer, about 120 bytes a headline with its key, so a duplicate
    costs a dictionary look-up. It has two generations: when the young one is full the old one
    is dropped, so the headlines seen least recently are forgotten first; with an on-disk cache
    a forgotten headline is still not re-embedded.
    """

    def __init__(
        self,
        model: TopicModel,
        *,
        text_column: str = "headline",
        cache: EmbeddingCache | None = None,
        assigner: ClusterAssigner | None = None,
        memo_size: int = DEFAULT_MEMO_SIZE,
        encode_batch_size: int | None = None,
    ) -> None:
        self.model = model
        self.text_column = text_column
        self.cache = cache
        self.assigner = assigner
        self.memo_size = memo_size
        self.encode_batch_size = encode_batch_size
        self.stats = TaggerStats()
        self._young: dict[bytes, int] = {}
        self._old: dict[bytes, int] = {}
        self._labels = list(model.labels)
        self._label_index = {label: i for i, label in enumerate(self._labels)}
        self._bits = max(1, len(self._labels).bit_length())  # width of the topic-index field
        self._topic_lists: list[list[str]] = []
        self._topic_list_index: dict[tuple[str, ...], int] = {}
        self._primed: set[bytes] = set()  # labelled ahead of their rows (the cluster sample)

    @property
    def version(self) -> str:
        return self.model.version or "unversioned"

    # a label packed into one int: topic index | confidence x 10^4 | topic-list id | cluster + 2
    def _pack(self, topic: str, confidence: float, topics: list[str], cluster: int | None) -> int:
        names = tuple(topics)
        list_id = self._topic_list_index.get(names)
        if list_id is None:
            list_id = self._topic_list_index[names] = len(self._topic_lists)
            self._topic_lists.append(list(names))
        cluster_field = 0 if cluster is None else int(cluster) + 2  # -1 (no cluster) is 1
        if cluster is not None and cluster_field < 1:
            raise ValueError(f"cluster ids must be >= -1, got {cluster}")
        if list_id >= 1 << 24:
            raise ValueError("too many distinct topic lists to remember")
        bits = self._bits
        return (
            (cluster_field << (bits + 40))
            | (list_id << (bits + 16))
            | (round(confidence * 10_000) << bits)
            | self._label_index[topic]
        )

    def _unpack(self, packed: int) -> tuple[str, float, list[str], int | None]:
        bits = self._bits
        cluster_field = packed >> (bits + 40)
        return (
            self._labels[packed & ((1 << bits) - 1)],
            ((packed >> bits) & 0xFFFF) / 10_000,
            self._topic_lists[(packed >> (bits + 16)) & 0xFFFFFF],
            None if cluster_field == 0 else cluster_field - 2,
        )

    def _remember(self, key: bytes, packed: int) -> None:
        self._young[key] = packed
        if len(self._young) >= max(1, self.memo_size // 2):
            self._old, self._young = self._young, {}

    def _recall(self, key: bytes) -> int | None:
        packed = self._young.get(key)
        if packed is None:
            packed = self._old.get(key)
            if packed is not None:
                self._remember(key, packed)
        return packed

    def tag(self, chunk: Chunk) -> TagResult:
        n = len(chunk)
        errors = [""] * n
        packed: list[int | None] = [None] * n
        keys: list[bytes | None] = [None] * n
        pending: dict[bytes, str] = {}
        for i, (value, issue) in enumerate(zip(chunk.texts, chunk.issues, strict=True)):
            if issue:
                errors[i] = issue
                continue
            text, error = check_text(value, self.text_column)
            if error:
                errors[i] = error
                continue
            key = text_key(text)
            keys[i] = key
            known = self._recall(key)
            if known is not None:
                packed[i] = known
                if key in self._primed:  # the first row of a sampled headline is no repeat
                    self._primed.discard(key)
                else:
                    self.stats.reused += 1
            elif key in pending:
                self.stats.reused += 1
            else:
                pending[key] = text
        fresh = self._label(pending) if pending else {}
        topic: list[str | None] = [None] * n
        confidence: list[float | None] = [None] * n
        topics: list[list[str]] = [[] for _ in range(n)]
        cluster: list[int | None] | None = [None] * n if self.assigner is not None else None
        for i in range(n):
            value = packed[i]
            if value is None and keys[i] is not None:
                value = fresh[keys[i]]
            if value is None:
                continue
            topic[i], confidence[i], topics[i], cluster_id = self._unpack(value)
            if cluster is not None:
                cluster[i] = cluster_id
        self.stats.rows += n
        return TagResult(topic, confidence, topics, errors, self.version, cluster)

    def prime(self, keys: list[bytes], texts: list[str], vectors: np.ndarray) -> None:
        """Label headlines whose embeddings are already at hand (the clustering sample)."""
        self._label(dict(zip(keys, texts, strict=True)), vectors)
        self._primed.update(keys)

    def _label(
        self, pending: dict[bytes, str], vectors: np.ndarray | None = None
    ) -> dict[bytes, int]:
        """Embed (or fetch) and classify the distinct new headlines of a chunk, and memoise them."""
        keys = list(pending)
        texts = list(pending.values())
        if vectors is None:
            vectors = self._embeddings(keys, texts)
        predictions = self.model.describe(self.model.predict_proba(texts, embeddings=vectors))
        clusters = (
            np.asarray(self.assigner.assign(vectors)).astype(int).tolist()
            if self.assigner is not None
            else [None] * len(keys)
        )
        fresh = {}
        for key, prediction, cluster_id in zip(keys, predictions, clusters, strict=True):
            value = self._pack(
                prediction.topic, prediction.confidence, prediction.topics, cluster_id
            )
            fresh[key] = value
            self._remember(key, value)
        self.stats.distinct += len(keys)
        return fresh

    def embeddings(self, keys: list[bytes], texts: list[str]) -> np.ndarray:
        """Vectors for distinct headlines: from the cache where present, else the encoder."""
        return self._embeddings(keys, texts)

    def _embeddings(self, keys: list[bytes], texts: list[str]) -> np.ndarray:
        found = self.cache.get_many(keys) if self.cache is not None else {}
        self.stats.cache_hits += len(found)
        if not found:
            vectors = self._encode(texts)
            if self.cache is not None:
                self.cache.put_many(keys, vectors)
            return vectors
        missing = [j for j, key in enumerate(keys) if key not in found]
        vectors = np.empty((len(keys), self.cache.dimension), dtype=np.float32)
        for j, key in enumerate(keys):
            if key in found:
                vectors[j] = found[key]
        if missing:
            encoded = self._encode([texts[j] for j in missing])
            vectors[missing] = encoded
            self.cache.put_many([keys[j] for j in missing], encoded)
        return vectors

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.stats.encoded += len(texts)
        return np.asarray(
            self.model.embedder.encode(texts, batch_size=self.encode_batch_size), dtype=np.float32
        )


def open_cache(
    directory: str | os.PathLike[str] | None, model: TopicModel
) -> EmbeddingCache | None:
    """The embedding cache for ``model``'s encoder in ``directory`` (None: no cache)."""
    if directory is None:
        return None
    info = model.embedder.info()
    fingerprint = info.fingerprint
    backend = getattr(info, "backend", "torch")
    if backend != "torch":  # the same weights run another way give (slightly) other vectors
        fingerprint = hashlib.sha256(f"{fingerprint}:{backend}".encode()).hexdigest()
    return EmbeddingCache(directory, fingerprint, info.dimension)


def encoder_id(model: TopicModel) -> str:
    """``backend:fingerprint`` of the encoder, so a resumed run can refuse a different one."""
    info = model.embedder.info()
    return f"{getattr(info, 'backend', 'torch')}:{info.fingerprint[:16]}"


# -- summaries -------------------------------------------------------------------------------------
@dataclass
class TagSummary:
    """What a run did, for people (``lines``) and for machines (``to_dict``)."""

    input: str
    output: str
    model: str
    engine: str
    counters: Counters
    elapsed: float
    rows_this_run: int
    resumed_after: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows_this_run / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        c = self.counters
        return {
            "input": self.input,
            "output": self.output,
            "model": self.model,
            "engine": self.engine,
            "rows_in": c.rows,
            "rows_tagged": c.tagged,
            "rows_skipped": c.skipped,
            "skipped_reasons": dict(c.reasons.most_common()),
            "topics": dict(c.topics.most_common()),
            "unclustered": c.unclustered,
            "resumed_after": self.resumed_after,
            "rows_this_run": self.rows_this_run,
            "elapsed_seconds": round(self.elapsed, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            **self.stats,
        }

    def lines(self) -> list[str]:
        c = self.counters
        out = [f"tagged {self.input} -> {self.output} with model {self.model} ({self.engine})"]
        resumed = f" (resumed after {self.resumed_after:,})" if self.resumed_after else ""
        out.append(f"rows in: {c.rows:,}{resumed}  tagged: {c.tagged:,}  skipped: {c.skipped:,}")
        for reason, count in c.reasons.most_common():
            out.append(f"  skipped {count:,}: {reason}")
        width = max((len(t) for t in c.topics), default=5)
        for topic, count in c.topics.most_common():
            share = count / c.tagged if c.tagged else 0.0
            out.append(f"  {topic:<{width}} {count:>10,}  {share:6.1%}")
        if self.stats:
            s = self.stats
            out.append(
                f"distinct headlines: {s.get('distinct', 0):,}  embedded: {s.get('encoded', 0):,}  "
                f"from cache: {s.get('cache_hits', 0):,}  duplicates reused: {s.get('reused', 0):,}"
            )
        if self.stats.get("cluster_sample"):
            s = self.stats
            out.append(
                f"clusters: {s['clusters']:,} fitted on {s['cluster_sample']:,} sampled headlines; "
                f"rows in no cluster: {c.unclustered:,}"
            )
        out.append(
            f"elapsed: {self.elapsed:.1f} s for {self.rows_this_run:,} rows "
            f"({self.rows_per_second:,.0f} rows/s)"
        )
        return out


ProgressCallback = Callable[[int, int | None], None]


def input_identity(path: Path) -> dict[str, Any]:
    """What must not change between an interrupted run and its resumption."""
    stat = path.stat()
    return {"input": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def check_paths(input_path: Path, output_path: Path) -> None:
    if not input_path.exists():
        raise DataError(f"{input_path}: no such file")
    if output_path.exists() and output_path.resolve() == input_path.resolve():
        raise DataError("the output would overwrite the input; choose another output file")


# -- clusters --------------------------------------------------------------------------------------
class _NoClusters:
    """What a clusterer answers when the archive has too few headlines to fit one."""

    def assign(self, embeddings: np.ndarray) -> np.ndarray:
        return np.full(len(embeddings), -1, dtype=np.int64)


def sample_headlines(input_path: str | os.PathLike[str], text_column: str, size: int) -> list[str]:
    """Up to ``size`` distinct normalised headlines, the ones with the smallest hashes.

    One streaming pass with a bounded heap: the sample does not depend on the order or the
    number of repeats of the rows, so a resumed run fits the same clusters.
    """
    if size < 1:
        raise ValueError("the cluster sample must hold at least one headline")
    kept: dict[str, int] = {}
    heap: list[tuple[int, str]] = []  # (-hash, text): the largest kept hash on top
    with open_reader(input_path, text_column=text_column, reserved=set()) as reader:
        for chunk in reader.chunks(8192):
            for value, issue in zip(chunk.texts, chunk.issues, strict=True):
                if issue:
                    continue
                text, error = check_text(value, text_column)
                if error or text in kept:
                    continue
                digest = int.from_bytes(text_key(text)[:8], "big")
                if len(heap) < size:
                    heapq.heappush(heap, (-digest, text))
                    kept[text] = digest
                elif digest < -heap[0][0]:
                    _, dropped = heapq.heapreplace(heap, (-digest, text))
                    del kept[dropped]
                    kept[text] = digest
    return sorted(kept, key=lambda t: (kept[t], t))


def fit_clusters(
    tagger: Tagger, input_path: Path, text_column: str, *, level: str, size: int
) -> None:
    """Fit a clusterer on a sample of the archive and make ``tagger`` assign every row with it.

    The sample's embeddings are labelled at once, so those headlines are not embedded again.
    """
    from classifier.clustering.cluster import HeadlineClusterer

    started = time.monotonic()
    sample = sample_headlines(input_path, text_column, size)
    if len(sample) < 2:
        tagger.assigner = _NoClusters()
        return
    keys = [text_key(t) for t in sample]
    vectors = tagger.embeddings(keys, sample)
    clusterer = HeadlineClusterer(level=level, sample_size=len(sample)).fit(vectors, sample)
    tagger.assigner = clusterer
    tagger.prime(keys, sample, vectors)
    tagger.stats.cluster_sample = len(sample)
    tagger.stats.clusters = int(clusterer.n_clusters_)
    logger.info(
        "fitted %d %s on %d sampled headlines in %.1fs",
        clusterer.n_clusters_,
        level,
        len(sample),
        time.monotonic() - started,
    )


# -- the local engine ------------------------------------------------------------------------------
def tag_file(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    model: TopicModel,
    *,
    text_column: str = "headline",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    cache: EmbeddingCache | None = None,
    clusters: str | None = None,
    cluster_sample: int = DEFAULT_CLUSTER_SAMPLE,
    assigner: ClusterAssigner | None = None,
    assigner_id: str | None = None,
    resume: bool = False,
    force: bool = False,
    checkpoint_seconds: float = 1.0,
    memo_size: int = DEFAULT_MEMO_SIZE,
    encode_batch_size: int | None = None,
    progress: ProgressCallback | None = None,
) -> TagSummary:
    """Tag every row of ``input_path`` into ``output_path`` (format from its extension).

    Rows come out in input order, once each, with their original columns plus ``topic``,
    ``confidence``, ``topics``, ``model`` and ``tag_error``. With ``clusters`` (``"stories"`` or
    ``"themes"``) a clusterer is fitted on ``cluster_sample`` distinct headlines of the archive
    and every row gets the id it assigns (``-1``: none) in a ``cluster`` column; a pre-fitted
    ``assigner`` (with an ``assigner_id`` naming it for ``resume``) may be given instead.
    """
    if chunk_size < 1:
        raise ValueError("chunk size must be at least 1")
    if clusters is not None and assigner is not None:
        raise ValueError("pass clusters= or a fitted assigner=, not both")
    input_path, output_path = Path(input_path), Path(output_path)
    check_paths(input_path, output_path)
    out_fmt = detect_format(output_path)
    if clusters is not None:
        assigner_id = f"{clusters}, fitted on {cluster_sample} distinct headlines"
    with_clusters = assigner is not None or clusters is not None
    reserved = set(output_columns(with_clusters))
    tagger = Tagger(
        model,
        text_column=text_column,
        cache=cache,
        assigner=assigner,
        memo_size=memo_size,
        encode_batch_size=encode_batch_size,
    )
    job = {
        **input_identity(input_path),
        "text_column": text_column,
        "model": tagger.version,
        "encoder": encoder_id(model),
        "clusters": assigner_id if with_clusters else None,
        "output_format": f"{out_fmt.kind}{'.gz' if out_fmt.gzip else ''}",
        "engine": "local",
    }
    started = time.monotonic()
    with open_reader(input_path, text_column=text_column, reserved=reserved) as reader:
        target = OutputTarget(
            output_path,
            out_fmt,
            job,
            columns=reader.columns,
            clusters=with_clusters,
            resume=resume,
            force=force,
            checkpoint_seconds=checkpoint_seconds,
        )
        target.begin()
        try:
            if clusters is not None and not target.finished:
                fit_clusters(tagger, input_path, text_column, level=clusters, size=cluster_sample)
            if not target.finished:
                for chunk in reader.chunks(chunk_size, skip=target.rows_done):
                    target.write(chunk, tagger.tag(chunk))
                    if progress is not None:
                        progress(target.rows_done, _estimate_total(reader, target.rows_done))
            empty = _empty_chunk(reader)
            target.finish(empty, tagger.tag(empty))
        finally:
            target.close()
    return TagSummary(
        input=str(input_path),
        output=str(output_path),
        model=tagger.version,
        engine="local",
        counters=target.counters,
        elapsed=time.monotonic() - started,
        rows_this_run=target.rows_done - target.resumed_rows,
        resumed_after=target.resumed_rows,
        stats=tagger.stats.to_dict(),
    )


def _estimate_total(reader, rows_done: int) -> int | None:
    if reader.total_rows is not None:
        return reader.total_rows
    fraction = reader.fraction_done()
    if not fraction or rows_done == 0:
        return None
    return max(rows_done, int(round(rows_done / fraction)))


def _empty_chunk(reader) -> Chunk:
    """A chunk with no rows but the input's columns, for writing an empty output's schema."""
    if reader.fmt.kind == "parquet":
        schema = reader._file.schema_arrow
        table = schema.empty_table().rename_columns(reader.columns)
        return Chunk(0, [], [], table=table)
    return Chunk(0, [], [], records=[])
