"""Stories: headlines about one event, by average linkage on cosine distance cut at a fixed height.

The cut (default 0.5: on average a story's headlines have cosine similarity >= 0.5) means the
number of stories comes from the data, and a headline with no close partner stays unclustered.
Average linkage never merges two groups that have no pair closer than the cut, so the work splits
exactly into the connected pieces of the "closer than the cut" graph and only those pieces need a
distance matrix (a 20,000-headline piece takes ~3 GB).
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage

from classifier.clustering.geometry import (
    CHUNK,
    condensed_cosine_distances,
    nearest_neighbours,
    threshold_components,
)
from classifier.clustering.labels import UNCLUSTERED

logger = logging.getLogger(__name__)

# Neighbours looked at when finding the pieces a story can live in; a story bigger than this
# is still found whole, because its members are linked through one another.
STORY_GRAPH_NEIGHBOURS = 64


def story_labels(
    unit: np.ndarray,
    *,
    distance_threshold: float,
    neighbours: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Average-linkage clusters cut at ``distance_threshold`` (cosine), singletons included.

    Exact: average linkage cannot join two groups with no pair closer than the cut, so each
    connected piece of the "closer than the cut" graph is clustered on its own. ``neighbours``
    (``nearest_neighbours(unit, STORY_GRAPH_NEIGHBOURS)``) saves the search when the caller has it.
    """
    n = len(unit)
    labels = np.arange(n, dtype=np.int64)
    if n < 2:
        return labels
    if neighbours is None:
        neighbours = nearest_neighbours(unit, STORY_GRAPH_NEIGHBOURS)
    index, similarity = neighbours
    n_pieces, piece = threshold_components(index, similarity, n, 1.0 - distance_threshold)
    members_of = np.split(np.argsort(piece, kind="stable"), np.cumsum(np.bincount(piece))[:-1])
    next_label = 0
    largest = 0
    for members in members_of:
        if len(members) == 1:
            labels[members] = next_label
            next_label += 1
            continue
        largest = max(largest, len(members))
        if len(members) == 2:
            flat = np.array([1, 1])
        else:
            tree = linkage(condensed_cosine_distances(unit[members]), method="average")
            flat = fcluster(tree, t=distance_threshold, criterion="distance")
        labels[members] = next_label + flat - 1
        next_label += int(flat.max())
    logger.info("stories: %d pieces, largest %d headlines", n_pieces, largest)
    return labels


def assign_stories(
    unit: np.ndarray, points: np.ndarray, point_labels: np.ndarray, *, distance_threshold: float
) -> np.ndarray:
    """The story whose fitted ``points`` are on average at least ``1 - distance_threshold``
    similar to each row of ``unit`` (the test average linkage applied when fitting), or -1.
    """
    out = np.full(len(unit), UNCLUSTERED, dtype=np.int64)
    n_stories = int(point_labels.max()) + 1
    sizes = np.bincount(point_labels, minlength=n_stories).astype(np.float32)
    membership = sparse.csr_matrix(
        (np.ones(len(points), dtype=np.float32), (np.arange(len(points)), point_labels)),
        shape=(len(points), n_stories),
    )
    for start in range(0, len(unit), CHUNK):
        sims = unit[start : start + CHUNK] @ points.T
        average = np.asarray(membership.T.dot(sims.T).T) / sizes
        best = average.argmax(axis=1)
        ok = average[np.arange(len(best)), best] >= 1.0 - distance_threshold
        out[start : start + CHUNK] = np.where(ok, best, UNCLUSTERED)
    return out
