"""The ``Tagger``: labels chunks of rows with a topic model, embedding each distinct headline once.

Both engines use it: the local one (:mod:`classifier.tagging.local`) on every chunk of the
archive, the Dask one (:mod:`classifier.tagging.dask`) on every partition, one tagger per worker
process. Work is never done twice within a run: headlines are compared after normalising
whitespace and case (the bundled encoder is uncased, so this changes no embedding), and each
distinct one is embedded once; an optional ``EmbeddingCache`` carries embeddings across runs and
model versions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from classifier.config import DEFAULT_MAX_HEADLINE_CHARS, UNCERTAIN_BELOW
from classifier.encoders.cache import EmbeddingCache, text_key
from classifier.readers.chunks import MISSING, Chunk
from classifier.tagging.defaults import DEFAULT_MEMO_SIZE
from classifier.tagging.results import TagResult
from classifier.text import headline_problem, is_clean_text, normalise_headline, too_long

if TYPE_CHECKING:
    from classifier.topics.model import TopicModel


class ClusterAssigner(Protocol):
    """A fitted clusterer: nearest-cluster id for each embedding row."""

    def assign(self, embeddings: np.ndarray) -> np.ndarray: ...


def check_text(
    value: Any, column: str, max_chars: int | None = None
) -> tuple[str | None, str | None]:
    """(normalised headline, None) for a usable value, else (None, reason).

    A value over ``max_chars`` is refused before it is normalised, so it is never copied,
    tokenised or embedded (a 10 MB one cost 1.8 GB in the encoder).
    """
    if value is MISSING:
        return None, f"no {column}"
    if value is None:
        return None, f"empty {column}"
    problem = headline_problem(value, max_chars)
    if problem == "not text":
        return None, f"{column} is not text: {type(value).__name__}"
    if problem == "too long":
        return None, f"{column} too long: {too_long(len(value), max_chars or 0)}"
    if not is_clean_text(value):
        return None, f"{column} is not valid UTF-8"
    if problem == "empty":
        return None, f"empty {column}"
    return normalise_headline(value), None


@dataclass
class TaggerStats:
    """How much work the memo and the cache saved; the summary reports these."""

    rows: int = 0
    distinct: int = 0  # distinct headlines labelled (each embedded or read from the cache once)
    encoded: int = 0
    cache_hits: int = 0
    reused: int = 0  # rows answered from an earlier identical headline
    cluster_sample: int = 0  # distinct headlines the clusterer was fitted on
    clusters: int = 0  # clusters it found

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(eq=False, repr=False)
class Tagger:
    """Labels chunks of rows with a topic model, remembering every distinct headline it has seen.

    The memo keeps, for up to ``memo_size`` distinct headlines, the finished label (not the
    embedding) packed into one integer, about 120 bytes a headline with its key, so a duplicate
    costs a dictionary look-up. It has two generations: when the young one is full the old one
    is dropped, so the headlines seen least recently are forgotten first; with an on-disk cache
    a forgotten headline is still not re-embedded. ``assigner`` (a fitted clusterer) adds a
    cluster id to every label; ``encode_batch_size`` is passed to the encoder; a headline over
    ``max_chars`` is a skipped row (``tag_error``), never embedded; rows whose confidence is
    under ``uncertain_below`` are marked ``uncertain``.
    """

    model: TopicModel
    _: KW_ONLY
    text_column: str = "headline"
    cache: EmbeddingCache | None = None
    assigner: ClusterAssigner | None = None
    memo_size: int = DEFAULT_MEMO_SIZE
    encode_batch_size: int | None = None
    max_chars: int = DEFAULT_MAX_HEADLINE_CHARS
    uncertain_below: float = UNCERTAIN_BELOW
    # told the embeddings of every headline labelled (the story tracker keeps recent ones)
    on_vectors: Callable[[list[bytes], np.ndarray], None] | None = None
    stats: TaggerStats = field(default_factory=TaggerStats, init=False)

    def __post_init__(self) -> None:
        self._young: dict[bytes, int] = {}
        self._old: dict[bytes, int] = {}
        self._labels = list(self.model.labels)
        self._label_index = {label: i for i, label in enumerate(self._labels)}
        self._bits = max(1, len(self._labels).bit_length())  # width of the topic-index field
        self._topic_lists: list[list[str]] = []
        self._topic_list_index: dict[tuple[str, ...], int] = {}
        self._primed: set[bytes] = set()  # labelled ahead of their rows (the cluster sample)
        self.last_keys: list[bytes | None] = []  # each row's text key in the last chunk tagged

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
            text, error = check_text(value, self.text_column, self.max_chars)
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
        self.last_keys = keys
        return TagResult(
            topic,
            confidence,
            topics,
            errors,
            self.version,
            cluster,
            uncertain_below=self.uncertain_below,
        )

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
            vectors = self.embeddings(keys, texts)
        if self.on_vectors is not None:
            self.on_vectors(keys, vectors)
        predictions = self.model.describe(self.model.scores(texts, embeddings=vectors))
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
    return EmbeddingCache.for_encoder(directory, model.embedder.info())


def encoder_id(model: TopicModel) -> str:
    """``backend:fingerprint`` of the encoder, so a resumed run can refuse a different one."""
    return model.embedder.info().id
