"""Themes: broad subjects, by spectral clustering of the k-nearest-neighbour graph.

Ng-Jordan-Weiss on the normalised kNN graph, with the number of themes read from the largest gap
in the graph's spectrum (the eigengap), then a few rounds of neighbour voting to tidy the borders.
Measured on AG News titles this recovers the broad sections better than KMeans told the right k
(see bench/cluster.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import KMeans

from classifier.clustering.geometry import group_sums, nearest_neighbours, threshold_components
from classifier.clustering.labels import UNCLUSTERED, drop_small, neighbour_vote

logger = logging.getLogger(__name__)

# Connected pieces of the theme graph smaller than this share of the headlines (duplicate
# cliques, odd one-off groups) are not given their own spectral dimension; they join the theme
# their nearest other headlines vote for.
MIN_CORE_SHARE = 0.05
# Headlines at least this similar are near-verbatim repeats and count once in the theme graph.
ECHO_SIMILARITY = 0.9
DENSE_EIGEN_LIMIT = 1500
SMOOTHING_ROUNDS = 10


@dataclass(frozen=True)
class ThemeParams:
    """The estimator's settings that shape themes (see :class:`HeadlineClusterer`)."""

    n_neighbors: int
    n_clusters: int | None
    max_clusters: int
    min_cluster_size: int
    noise_similarity: float
    random_state: int | np.random.RandomState | None = None


def knn_graph(index: np.ndarray, similarity: np.ndarray, n: int) -> sparse.csr_matrix:
    """Symmetric graph weighted by cosine similarity (kept slightly positive to stay connected)."""
    rows = np.repeat(np.arange(n), index.shape[1])
    weights = np.clip(similarity.ravel().astype(np.float64), 1e-3, None)
    graph = sparse.csr_matrix((weights, (rows, index.ravel())), shape=(n, n))
    return graph.maximum(graph.T).tocsr()


def leading_eigenvectors(graph: sparse.csr_matrix, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest eigenpairs of the normalised adjacency ``D^-1/2 A D^-1/2``, largest first."""
    from scipy.linalg import eigh
    from scipy.sparse.linalg import eigsh

    n = graph.shape[0]
    degree = np.asarray(graph.sum(axis=1)).ravel()
    scale = sparse.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    normalised = (scale @ graph @ scale).tocsr()
    count = min(count, n)
    if n <= DENSE_EIGEN_LIMIT or count >= n - 1:
        values, vectors = eigh(normalised.toarray(), subset_by_index=[n - count, n - 1])
    else:
        # float32 with tol 1e-4 is ~8x faster than float64 at 1e-6 and, measured on 20,000
        # headlines, off by < 1e-5 in the eigenvalues, far below the gaps being compared (~1e-3)
        values, vectors = eigsh(
            normalised.astype(np.float32),
            k=count,
            which="LA",
            v0=np.ones(n, dtype=np.float32),
            tol=1e-4,
        )
    order = np.argsort(-values, kind="stable")
    return values[order], vectors[:, order]


def eigengap_k(values: np.ndarray, k_max: int) -> int:
    """The k in [2, k_max] after which the spectrum drops the most."""
    gaps = values[1:k_max] - values[2 : k_max + 1]
    return int(np.argmax(gaps)) + 2 if len(gaps) else 1


def echo_groups(index: np.ndarray, similarity: np.ndarray, n: int) -> np.ndarray:
    """Group id per row: rows linked by near-verbatim similarity (>= ECHO_SIMILARITY)."""
    return threshold_components(index, similarity, n, ECHO_SIMILARITY)[1]


def theme_labels(
    unit: np.ndarray,
    params: ThemeParams,
    *,
    neighbours: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spectral themes on the kNN graph; returns labels and the leading eigenvalues.

    Near-verbatim repeats (wire rewrites, syndicated copies) count once: left in, a group of
    them fills its members' neighbour lists with each other and looks like a theme of its own.
    ``neighbours`` are at least ``n_neighbors`` nearest neighbours per row, best first, if the
    caller has searched already (the first ``n_neighbors`` are used).
    """
    n = len(unit)
    if n < 2:
        return np.full(n, UNCLUSTERED, dtype=np.int64), np.zeros(0)
    if neighbours is None:
        neighbours = nearest_neighbours(unit, params.n_neighbors)
    index, similarity = (part[:, : params.n_neighbors] for part in neighbours)
    group = echo_groups(index, similarity, n)
    n_groups = int(group.max()) + 1
    if n_groups < n:
        sums = group_sums(group, unit, n_groups)
        nodes = (sums / np.linalg.norm(sums, axis=1, keepdims=True)).astype(np.float32)
        logger.info("themes: %d headlines are %d distinct after merging repeats", n, n_groups)
        index, similarity = nearest_neighbours(nodes, params.n_neighbors)
        weight = np.bincount(group, minlength=n_groups)
    else:
        nodes, weight = unit, np.ones(n, dtype=np.int64)
    node_labels, values = graph_themes(nodes, index, similarity, weight, params)
    return drop_small(node_labels[group], params.min_cluster_size), values


def graph_themes(
    nodes: np.ndarray,
    index: np.ndarray,
    similarity: np.ndarray,
    weight: np.ndarray,
    params: ThemeParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Spectral clustering of distinct headlines (``weight`` = how many each stands for)."""
    n = len(nodes)
    min_size = params.min_cluster_size
    labels = np.full(n, UNCLUSTERED, dtype=np.int64)
    if n < 2:
        if n == 1 and weight[0] >= min_size:
            labels[0] = 0  # many copies of one headline: one theme
        return labels, np.zeros(0)
    total = int(weight.sum())
    # A headline with nothing similar anywhere belongs to no theme. Every other headline keeps
    # at least one edge to a non-isolated one (its nearest neighbour), so no degree is zero.
    candidates = np.nonzero(similarity[:, 0] >= params.noise_similarity)[0]
    graph = knn_graph(index, similarity, n)[candidates][:, candidates]
    _, piece = connected_components(graph, directed=False)
    piece_sizes = np.bincount(piece, weights=weight[candidates]) if len(piece) else np.zeros(1)
    core_pieces = piece_sizes >= max(min_size, MIN_CORE_SHARE * total)
    if not core_pieces.any():
        core_pieces = piece_sizes == piece_sizes.max()
    in_core = core_pieces[piece] if len(piece) else np.zeros(0, dtype=bool)
    core = candidates[in_core]
    if int(weight[core].sum()) < min_size:
        return labels, np.zeros(0)
    core_graph = graph[in_core][:, in_core]
    k_max = max(1, min(params.max_clusters, len(core) - 1, int(weight[core].sum()) // min_size))
    values = np.zeros(0)
    if params.n_clusters is not None:
        k = min(params.n_clusters, len(core))
        if k > 1:
            values, vectors = leading_eigenvectors(core_graph, k)
    elif k_max < 2:
        k = 1
    else:
        values, vectors = leading_eigenvectors(core_graph, k_max + 1)
        k = eigengap_k(values, k_max)
    if k == 1:
        labels[core] = 0
    else:
        embedding = vectors[:, :k]
        embedding = embedding / np.maximum(np.linalg.norm(embedding, axis=1, keepdims=True), 1e-12)
        kmeans = KMeans(n_clusters=k, n_init=10, random_state=params.random_state)
        labels[core] = kmeans.fit_predict(embedding, sample_weight=weight[core])
    logger.info("themes: %d over %d core headlines", k, int(weight[core].sum()))
    # Headlines outside the core (small pieces, isolated cliques) join the theme their nearest
    # core headlines vote for.
    outside = np.setdiff1d(candidates, core)
    if len(outside):
        near, near_sim = nearest_neighbours(nodes[core], len(index[0]), queries=nodes[outside])
        labels[outside] = neighbour_vote(labels[core], near, near_sim)
    for _ in range(SMOOTHING_ROUNDS):
        smoothed = neighbour_vote(labels, index, similarity, own=labels)
        smoothed[labels < 0] = UNCLUSTERED
        if np.array_equal(smoothed, labels):
            break
        labels = smoothed
    return labels, values


def assign_themes(
    unit: np.ndarray, points: np.ndarray, point_labels: np.ndarray, params: ThemeParams
) -> np.ndarray:
    """The vote of each row's ``n_neighbors`` most similar fitted ``points``, if the nearest is
    at least ``noise_similarity`` similar; otherwise -1.
    """
    index, similarity = nearest_neighbours(points, params.n_neighbors, queries=unit)
    votes = neighbour_vote(point_labels, index, similarity)
    return np.where(similarity[:, 0] >= params.noise_similarity, votes, UNCLUSTERED)
