"""Clusters for a whole archive: fit on a sample of its distinct headlines, assign every row.

Clustering millions of rows at once would not fit in memory, and most archives repeat the same
stories many times, so a ``--clusters`` run fits a clusterer on a sample and the tagger assigns
each row to its nearest cluster. The sample is chosen by hash, not by position, so it does not
depend on the order of the rows or the number of repeats, and a resumed run fits the same
clusters.
"""

from __future__ import annotations

import heapq
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from classifier.encoders.cache import text_key
from classifier.readers.stream import open_reader
from classifier.tagging.tagger import Tagger, check_text

logger = logging.getLogger(__name__)

_SCAN_CHUNK = 8192  # rows per chunk of the sampling pass (no model involved: bigger is cheaper)


class _NoClusters:
    """What a clusterer answers when the archive has too few headlines to fit one."""

    def assign(self, embeddings: np.ndarray) -> np.ndarray:
        return np.full(len(embeddings), -1, dtype=np.int64)


def sample_headlines(
    input_path: str | os.PathLike[str],
    text_column: str,
    size: int,
    *,
    max_chars: int | None = None,
    **read: Any,
) -> list[str]:
    """Up to ``size`` distinct normalised headlines, the ones with the smallest hashes.

    One streaming pass with a bounded heap: the sample does not depend on the order or the
    number of repeats of the rows, so a resumed run fits the same clusters. ``read`` (encoding,
    header) is passed to :func:`~classifier.readers.stream.open_reader`.
    """
    if size < 1:
        raise ValueError("the cluster sample must hold at least one headline")
    kept: dict[str, int] = {}
    heap: list[tuple[int, str]] = []  # (-hash, text): the largest kept hash on top
    with open_reader(input_path, text_column=text_column, reserved=set(), **read) as reader:
        for chunk in reader.chunks(_SCAN_CHUNK):
            for value, issue in zip(chunk.texts, chunk.issues, strict=True):
                if issue:
                    continue
                text, error = check_text(value, text_column, max_chars)
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
    tagger: Tagger, input_path: Path, text_column: str, *, level: str, size: int, **read: Any
) -> None:
    """Fit a clusterer on a sample of the archive and make ``tagger`` assign every row with it.

    The sample's embeddings are labelled at once, so those headlines are not embedded again.
    """
    from classifier.clustering import HeadlineClusterer  # scipy and scikit-learn: only when asked

    started = time.monotonic()
    sample = sample_headlines(input_path, text_column, size, max_chars=tagger.max_chars, **read)
    if len(sample) < 2:
        tagger.assigner = _NoClusters()
        return
    keys = [text_key(t) for t in sample]
    vectors = tagger.embeddings(keys, sample)
    clusterer = HeadlineClusterer(level=level, sample_size=len(sample)).fit(vectors, texts=sample)
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
