"""Group headlines into stories (one event) and themes (broad subjects) from their embeddings.

Two levels, two methods, because the questions differ:

* **stories**: average-linkage agglomerative clustering on cosine distance, cut at a fixed
  distance (default 0.5: on average a story's headlines have cosine similarity >= 0.5). A fixed
  cut means the number of stories comes from the data, and a headline with no close partner
  stays unclustered (-1). Average linkage never merges two groups that have no pair closer than
  the cut, so the work splits exactly into the connected pieces of the "closer than the cut"
  graph and only those pieces need a distance matrix (a 20,000-headline piece takes ~3 GB).
* **themes**: spectral clustering of the k-nearest-neighbour graph (Ng-Jordan-Weiss), with the
  number of themes read from the largest gap in the graph's spectrum (the eigengap), then a few
  rounds of neighbour voting to tidy the borders. Measured on AG News titles this recovers the
  broad sections better than KMeans told the right k (see bench/cluster.py).

Determinism: rows are sorted by (headline, embedding bytes) before anything is computed and the
result is mapped back, so any order of the same headlines gives the same clusters, ids and
keywords. Ids are ranked by size, then by the alphabetically first headline.

Scale-out: fits above ``sample_size`` headlines cluster a sample chosen by a hash of each
headline (so the sample does not depend on input order) and give every other headline a
cluster with :meth:`HeadlineClusterer.assign`, which the batch tagger uses for archive rows:
a headline joins the story whose members it resembles on average as closely as the cut
demands, or the theme its nearest fitted neighbours vote for; otherwise it gets -1.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted

from classifier.clustering.keywords import cluster_keywords
from classifier.topics.model import InputError, check_headlines

if TYPE_CHECKING:  # pragma: no cover
    from classifier.encoders.embedding import Embedder
    from classifier.topics.model import TopicModel

logger = logging.getLogger(__name__)

LEVELS = ("stories", "themes")
UNCLUSTERED = -1
DEFAULT_MIN_CLUSTER_SIZE = {"stories": 2, "themes": 5}
N_REPRESENTATIVES = 3
# Neighbours looked at when finding the pieces a story can live in; a story bigger than this
# is still found whole, because its members are linked through one another.
STORY_GRAPH_NEIGHBOURS = 64
# Connected pieces of the theme graph smaller than this share of the headlines (duplicate
# cliques, odd one-off groups) are not given their own spectral dimension; they join the theme
# their nearest other headlines vote for.
MIN_CORE_SHARE = 0.05
# Headlines at least this similar are near-verbatim repeats and count once in the theme graph.
ECHO_SIMILARITY = 0.9
DENSE_EIGEN_LIMIT = 1500
SMOOTHING_ROUNDS = 10
CHUNK = 1024
KNN_BLOCK_BYTES = 96 * 2**20


# -- small numeric helpers ------------------------------------------------------------------------
def as_unit_rows(X: object, *, name: str = "embeddings") -> np.ndarray:
    """A float32 copy of ``X`` with unit-length rows; refuses ragged, non-finite or zero rows."""
    try:
        array = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 2-D array of numbers: {exc}") from exc
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (headlines x dimensions); got shape {array.shape}")
    if array.shape[1] == 0:
        raise ValueError(f"{name} have no dimensions")
    if not np.isfinite(array).all():
        row = int(np.nonzero(~np.isfinite(array).all(axis=1))[0][0])
        raise ValueError(f"{name} row {row} contains NaN or infinity")
    norms = np.linalg.norm(array, axis=1)
    if (norms == 0).any():
        row = int(np.nonzero(norms == 0)[0][0])
        raise ValueError(f"{name} row {row} is all zeros and has no direction")
    return array / norms[:, None]


def nearest_neighbours(
    points: np.ndarray, k: int, *, queries: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine similarities of each query's ``k`` most similar points, best first.

    With ``queries=None`` the points query themselves and a point is not its own neighbour.
    Works in blocks of about ``KNN_BLOCK_BYTES`` whatever the number of points.
    """
    self_query = queries is None
    queries = points if self_query else queries
    k = min(k, len(points) - (1 if self_query else 0))
    if k <= 0:
        empty = np.zeros((len(queries), 0))
        return empty.astype(np.int64), empty.astype(np.float32)
    index = np.empty((len(queries), k), dtype=np.int64)
    similarity = np.empty((len(queries), k), dtype=np.float32)
    # a block costs ~16 bytes per pair (similarities, their negation, argpartition's indices)
    rows_per_block = int(np.clip(KNN_BLOCK_BYTES // (16 * len(points)), 64, 4096))
    for start in range(0, len(queries), rows_per_block):
        block = queries[start : start + rows_per_block] @ points.T
        if self_query:
            rows = np.arange(block.shape[0])
            block[rows, rows + start] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k] if k < block.shape[1] else None
        if top is None:
            top = np.tile(np.arange(block.shape[1]), (block.shape[0], 1))
        sims = np.take_along_axis(block, top, axis=1)
        order = np.lexsort((top, -sims), axis=1)  # best first, ties by index: deterministic
        index[start : start + rows_per_block] = np.take_along_axis(top, order, axis=1)
        similarity[start : start + rows_per_block] = np.take_along_axis(sims, order, axis=1)
    return index, similarity


def canonical_order(embeddings: np.ndarray, texts: Sequence[str] | None) -> np.ndarray:
    """A permutation that sorts rows by headline text, then by embedding bytes."""
    if texts is None:
        keys = [(row.tobytes(),) for row in embeddings]
    else:
        keys = [(text, row.tobytes()) for text, row in zip(texts, embeddings, strict=True)]
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)


def hash_sample(keys: Sequence[bytes], size: int) -> np.ndarray:
    """Sorted positions of the ``size`` rows with the smallest SHA-1 of their key.

    The choice depends only on the rows' content, never on their order, which keeps a sampled
    fit deterministic.
    """
    digests = [hashlib.sha1(key).digest() for key in keys]
    chosen = sorted(range(len(keys)), key=lambda i: (digests[i], i))[:size]
    return np.array(sorted(chosen), dtype=np.int64)


def condensed_cosine_distances(unit: np.ndarray) -> np.ndarray:
    """``1 - cos`` for every pair, in SciPy's condensed order, built block by block in float64."""
    m = len(unit)
    out = np.empty(m * (m - 1) // 2, dtype=np.float64)
    position = 0
    for start in range(0, m, CHUNK):
        block = unit[start : start + CHUNK] @ unit[start:].T
        for r in range(block.shape[0]):
            row = block[r, r + 1 :]
            out[position : position + len(row)] = 1.0 - row
            position += len(row)
    np.clip(out, 0.0, 2.0, out=out)
    return out


def drop_small(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Groups smaller than ``min_size`` become -1; the rest are renumbered 0..k-1 in order."""
    labels = labels.copy()
    clustered = labels >= 0
    if clustered.any():
        sizes = np.bincount(labels[clustered])
        small = sizes[labels[clustered]] < min_size
        labels[np.nonzero(clustered)[0][small]] = UNCLUSTERED
    kept = labels >= 0
    if kept.any():
        labels[kept] = np.unique(labels[kept], return_inverse=True)[1]
    return labels


def remap(labels: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """``mapping[label]`` for every label >= 0; -1 stays -1."""
    out = np.full(len(labels), UNCLUSTERED, dtype=np.int64)
    clustered = labels >= 0
    out[clustered] = mapping[labels[clustered]]
    return out


def neighbour_vote(
    voter_labels: np.ndarray,
    index: np.ndarray,
    similarity: np.ndarray,
    *,
    own: np.ndarray | None = None,
    self_weight: float = 1.0,
) -> np.ndarray:
    """The label most supported by each row's neighbours, votes weighted by similarity.

    ``index`` points into ``voter_labels``; -1 voters abstain. ``own`` (optional) is each row's
    current label, counted with ``self_weight``. A row nobody votes for gets its own label, or
    -1. Ties go to the lower label, so the result is deterministic.
    """
    rows = np.arange(len(index))
    fallback = own if own is not None else np.full(len(index), UNCLUSTERED, dtype=np.int64)
    labelled = voter_labels[voter_labels >= 0]
    n_labels = int(labelled.max()) + 1 if len(labelled) else 0
    if own is not None and (own >= 0).any():
        n_labels = max(n_labels, int(own.max()) + 1)
    if n_labels == 0:
        return fallback.copy()
    votes = np.zeros((len(index), n_labels), dtype=np.float64)
    if own is not None:
        mask = own >= 0
        votes[rows[mask], own[mask]] += self_weight
    for j in range(index.shape[1]):
        neighbour = voter_labels[index[:, j]]
        mask = neighbour >= 0
        np.add.at(votes, (rows[mask], neighbour[mask]), np.maximum(similarity[mask, j], 0.0))
    return np.where(votes.max(axis=1) > 0, votes.argmax(axis=1), fallback)


# -- stories --------------------------------------------------------------------------------------
def story_labels(unit: np.ndarray, *, distance_threshold: float) -> np.ndarray:
    """Average-linkage clusters cut at ``distance_threshold`` (cosine), singletons included.

    Exact: average linkage cannot join two groups with no pair closer than the cut, so each
    connected piece of the "closer than the cut" graph is clustered on its own.
    """
    n = len(unit)
    labels = np.arange(n, dtype=np.int64)
    if n < 2:
        return labels
    index, similarity = nearest_neighbours(unit, STORY_GRAPH_NEIGHBOURS)
    close = similarity >= 1.0 - distance_threshold
    rows = np.repeat(np.arange(n), index.shape[1])[close.ravel()]
    graph = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int8), (rows, index.ravel()[close.ravel()])), shape=(n, n)
    )
    n_pieces, piece = connected_components(graph, directed=False)
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


# -- themes ---------------------------------------------------------------------------------------
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
    close = similarity >= ECHO_SIMILARITY
    rows = np.repeat(np.arange(n), index.shape[1])[close.ravel()]
    graph = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int8), (rows, index.ravel()[close.ravel()])), shape=(n, n)
    )
    return connected_components(graph, directed=False)[1]


def theme_labels(
    unit: np.ndarray,
    *,
    n_neighbors: int,
    n_clusters: int | None,
    max_clusters: int,
    min_cluster_size: int,
    noise_similarity: float,
    random_state: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spectral themes on the kNN graph; returns labels and the leading eigenvalues.

    Near-verbatim repeats (wire rewrites, syndicated copies) count once: left in, a group of
    them fills its members' neighbour lists with each other and looks like a theme of its own.
    """
    n = len(unit)
    if n < 2:
        return np.full(n, UNCLUSTERED, dtype=np.int64), np.zeros(0)
    index, similarity = nearest_neighbours(unit, n_neighbors)
    group = echo_groups(index, similarity, n)
    n_groups = int(group.max()) + 1
    if n_groups < n:
        sums = np.zeros((n_groups, unit.shape[1]), dtype=np.float64)
        np.add.at(sums, group, unit)
        nodes = (sums / np.linalg.norm(sums, axis=1, keepdims=True)).astype(np.float32)
        logger.info("themes: %d headlines are %d distinct after merging repeats", n, n_groups)
        index, similarity = nearest_neighbours(nodes, n_neighbors)
        weight = np.bincount(group, minlength=n_groups)
    else:
        nodes, weight = unit, np.ones(n, dtype=np.int64)
    node_labels, values = graph_themes(
        nodes,
        index,
        similarity,
        weight,
        n_clusters=n_clusters,
        max_clusters=max_clusters,
        min_cluster_size=min_cluster_size,
        noise_similarity=noise_similarity,
        random_state=random_state,
    )
    return drop_small(node_labels[group], min_cluster_size), values


def graph_themes(
    nodes: np.ndarray,
    index: np.ndarray,
    similarity: np.ndarray,
    weight: np.ndarray,
    *,
    n_clusters: int | None,
    max_clusters: int,
    min_cluster_size: int,
    noise_similarity: float,
    random_state: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spectral clustering of distinct headlines (``weight`` = how many each stands for)."""
    n = len(nodes)
    labels = np.full(n, UNCLUSTERED, dtype=np.int64)
    if n < 2:
        if n == 1 and weight[0] >= min_cluster_size:
            labels[0] = 0  # many copies of one headline: one theme
        return labels, np.zeros(0)
    total = int(weight.sum())
    # A headline with nothing similar anywhere belongs to no theme. Every other headline keeps
    # at least one edge to a non-isolated one (its nearest neighbour), so no degree is zero.
    candidates = np.nonzero(similarity[:, 0] >= noise_similarity)[0]
    graph = knn_graph(index, similarity, n)[candidates][:, candidates]
    _, piece = connected_components(graph, directed=False)
    piece_sizes = np.bincount(piece, weights=weight[candidates]) if len(piece) else np.zeros(1)
    core_pieces = piece_sizes >= max(min_cluster_size, MIN_CORE_SHARE * total)
    if not core_pieces.any():
        core_pieces = piece_sizes == piece_sizes.max()
    in_core = core_pieces[piece] if len(piece) else np.zeros(0, dtype=bool)
    core = candidates[in_core]
    if int(weight[core].sum()) < min_cluster_size:
        return labels, np.zeros(0)
    core_graph = graph[in_core][:, in_core]
    k_max = max(1, min(max_clusters, len(core) - 1, int(weight[core].sum()) // min_cluster_size))
    values = np.zeros(0)
    if n_clusters is not None:
        k = min(n_clusters, len(core))
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
        kmeans = KMeans(n_clusters=k, n_init=10, random_state=random_state)
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


# -- the estimator --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterSummary:
    """What a person needs to read a cluster without opening it."""

    id: int
    size: int
    keywords: list[str]
    representatives: list[str]
    topic_shares: dict[str, float] | None = None

    @property
    def top_topic(self) -> str | None:
        return next(iter(self.topic_shares)) if self.topic_shares else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "size": self.size,
            "keywords": self.keywords,
            "representative_headlines": self.representatives,
        }
        if self.topic_shares is not None:
            out["top_topic"] = self.top_topic
            out["topic_shares"] = self.topic_shares
        return out


class HeadlineClusterer(ClusterMixin, BaseEstimator):
    """Cluster headline embeddings into stories or themes; the number of clusters comes from data.

    Parameters (keyword-only):
        level: ``"stories"`` (same event) or ``"themes"`` (broad subject).
        distance_threshold: stories only; the largest average cosine distance inside a story.
        n_clusters: themes only; force this many themes instead of reading the eigengap.
        max_clusters: themes only; the most themes the eigengap may choose.
        n_neighbors: neighbours per headline in the theme graph and in ``assign`` votes.
        min_cluster_size: smaller groups are unclustered (default 2 for stories, 5 for themes).
        noise_similarity: themes only; a headline whose most similar other headline is less
            similar than this belongs to no theme.
        sample_size: above this many headlines, fit a hash-chosen sample and ``assign`` the rest.
        random_state: seed of the KMeans step on the spectral embedding.

    Fitted attributes: ``labels_`` (input order, -1 = unclustered), ``n_clusters_``,
    ``clusters_`` (a :class:`ClusterSummary` per id), ``n_features_in_``, ``sampled_`` (whether
    ``assign`` labelled part of the input), ``eigenvalues_`` (themes), and the fitted sample
    ``fit_embeddings_``/``fit_labels_`` that ``assign`` compares new headlines with.
    """

    def __init__(
        self,
        *,
        level: str = "stories",
        distance_threshold: float = 0.5,
        n_clusters: int | None = None,
        max_clusters: int = 30,
        n_neighbors: int = 15,
        min_cluster_size: int | None = None,
        noise_similarity: float = 0.3,
        sample_size: int = 20_000,
        random_state: int | None = 0,
    ) -> None:
        self.level = level
        self.distance_threshold = distance_threshold
        self.n_clusters = n_clusters
        self.max_clusters = max_clusters
        self.n_neighbors = n_neighbors
        self.min_cluster_size = min_cluster_size
        self.noise_similarity = noise_similarity
        self.sample_size = sample_size
        self.random_state = random_state

    def validate_params(self) -> None:
        """Raise ValueError for a bad setting (fit does this too; callers may check earlier)."""
        self._checked_params()

    # parameters are checked when fitting, as scikit-learn does, so set_params stays cheap
    def _checked_params(self) -> int:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {self.level!r}")
        if not 0.0 < float(self.distance_threshold) < 2.0:
            raise ValueError(
                f"distance_threshold must be between 0 and 2 (cosine distance); got {self.distance_threshold}"
            )
        for name in ("max_clusters", "n_neighbors", "sample_size"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if self.n_clusters is not None and (
            not isinstance(self.n_clusters, int | np.integer) or self.n_clusters < 1
        ):
            raise ValueError(
                f"n_clusters must be a positive integer or None; got {self.n_clusters!r}"
            )
        if not -1.0 <= float(self.noise_similarity) <= 1.0:
            raise ValueError(
                f"noise_similarity must be a cosine in [-1, 1]; got {self.noise_similarity}"
            )
        min_size = self.min_cluster_size
        if min_size is None:
            return DEFAULT_MIN_CLUSTER_SIZE[self.level]
        if not isinstance(min_size, int | np.integer) or min_size < 1:
            raise ValueError(f"min_cluster_size must be a positive integer; got {min_size!r}")
        return int(min_size)

    def fit(
        self,
        X: object,
        texts: Sequence[str] | None = None,
        *,
        topics: Sequence[str] | None = None,
    ) -> HeadlineClusterer:
        """Cluster the rows of ``X`` (one embedding per headline).

        ``texts`` (the headlines) give the keywords, the representative headlines and the
        canonical order; without them clusters have no keywords and representatives are row
        numbers. ``topics`` (one predicted topic per headline) give each cluster's topic shares.
        """
        started = time.perf_counter()
        min_size = self._checked_params()
        unit = as_unit_rows(X)
        n = len(unit)
        if n == 0:
            raise InputError("no headlines to cluster")
        if texts is not None:
            texts = check_headlines(list(texts))
            if len(texts) != n:
                raise ValueError(f"{n} embeddings but {len(texts)} headlines")
        if topics is not None:
            topics = [str(t) for t in topics]
            if len(topics) != n:
                raise ValueError(f"{n} embeddings but {len(topics)} topics")

        order = canonical_order(unit, texts)
        sorted_unit = unit[order]
        sorted_texts = [texts[i] for i in order] if texts is not None else None
        if n > self.sample_size:
            keys = (
                [t.encode("utf-8") for t in sorted_texts]
                if sorted_texts is not None
                else [row.tobytes() for row in sorted_unit]
            )
            fitted = hash_sample(keys, self.sample_size)
        else:
            fitted = np.arange(n)
        fit_unit = sorted_unit[fitted]

        self.eigenvalues_ = np.zeros(0)
        if self.level == "stories":
            fit_labels = drop_small(
                story_labels(fit_unit, distance_threshold=float(self.distance_threshold)),
                min_size,
            )
        else:
            fit_labels, self.eigenvalues_ = theme_labels(
                fit_unit,
                n_neighbors=self.n_neighbors,
                n_clusters=self.n_clusters,
                max_clusters=self.max_clusters,
                min_cluster_size=min_size,
                noise_similarity=float(self.noise_similarity),
                random_state=self.random_state,
            )
        self.n_features_in_ = unit.shape[1]
        self.fit_embeddings_ = fit_unit
        self.fit_labels_ = fit_labels

        sorted_labels = np.full(n, UNCLUSTERED, dtype=np.int64)
        sorted_labels[fitted] = fit_labels
        self.sampled_ = len(fitted) < n
        if self.sampled_:
            rest = np.setdiff1d(np.arange(n), fitted)
            sorted_labels[rest] = self._assign_unit(sorted_unit[rest])
            logger.info("fitted %d sampled headlines, assigned %d more", len(fitted), len(rest))

        sorted_labels, mapping = self._rank_ids(sorted_labels, sorted_texts)
        self.fit_labels_ = remap(fit_labels, mapping)
        self.n_clusters_ = int(sorted_labels.max()) + 1 if (sorted_labels >= 0).any() else 0
        sorted_topics = [topics[i] for i in order] if topics is not None else None
        self.clusters_ = self._summaries(sorted_unit, sorted_labels, sorted_texts, sorted_topics)
        self.labels_ = np.empty(n, dtype=np.int64)
        self.labels_[order] = sorted_labels
        logger.info(
            "%s: %d clusters, %d of %d headlines unclustered, %.1fs",
            self.level,
            self.n_clusters_,
            int((self.labels_ < 0).sum()),
            n,
            time.perf_counter() - started,
        )
        return self

    def fit_predict(
        self,
        X: object,
        texts: Sequence[str] | None = None,
        *,
        topics: Sequence[str] | None = None,
    ) -> np.ndarray:
        return self.fit(X, texts, topics=topics).labels_

    def assign(self, embeddings: object) -> np.ndarray:
        """Cluster ids (-1 for none) for new headlines' embeddings, without refitting.

        Stories: the story whose fitted members are on average at least ``1 -
        distance_threshold`` similar (the same test average linkage applied). Themes: the vote
        of the ``n_neighbors`` most similar fitted headlines, if the nearest one is at least
        ``noise_similarity`` similar.
        """
        check_is_fitted(self, "fit_labels_")
        unit = as_unit_rows(embeddings)
        if unit.shape[1] != self.n_features_in_:
            raise ValueError(
                f"embeddings have {unit.shape[1]} dimensions; the clusterer was fitted on {self.n_features_in_}"
            )
        return self._assign_unit(unit)

    # -- internals --------------------------------------------------------------------------------
    def _assign_unit(self, unit: np.ndarray) -> np.ndarray:
        out = np.full(len(unit), UNCLUSTERED, dtype=np.int64)
        members = np.nonzero(self.fit_labels_ >= 0)[0]
        if not len(members) or not len(unit):
            return out
        points = self.fit_embeddings_[members]
        member_labels = self.fit_labels_[members]
        if self.level == "stories":
            n_stories = int(member_labels.max()) + 1
            sizes = np.bincount(member_labels, minlength=n_stories).astype(np.float32)
            membership = sparse.csr_matrix(
                (np.ones(len(members), dtype=np.float32), (np.arange(len(members)), member_labels)),
                shape=(len(members), n_stories),
            )
            for start in range(0, len(unit), CHUNK):
                sims = unit[start : start + CHUNK] @ points.T
                average = np.asarray(membership.T.dot(sims.T).T) / sizes
                best = average.argmax(axis=1)
                ok = average[np.arange(len(best)), best] >= 1.0 - float(self.distance_threshold)
                out[start : start + CHUNK] = np.where(ok, best, UNCLUSTERED)
            return out
        index, similarity = nearest_neighbours(points, self.n_neighbors, queries=unit)
        votes = neighbour_vote(member_labels, index, similarity)
        return np.where(similarity[:, 0] >= float(self.noise_similarity), votes, UNCLUSTERED)

    @staticmethod
    def _rank_ids(labels: np.ndarray, texts: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray]:
        """Renumber clusters by size (largest first), then by their first headline (or row)."""
        present = np.unique(labels[labels >= 0])
        if not len(present):
            return labels, np.zeros(0, dtype=np.int64)
        sizes = np.bincount(labels[labels >= 0])
        first: dict[int, int] = {}
        for row, label in enumerate(labels):  # rows are canonical: the first row is the key
            if label >= 0 and label not in first:
                first[int(label)] = row
        ranked = sorted(
            present,
            key=lambda c: (-sizes[c], texts[first[c]] if texts is not None else "", first[c]),
        )
        mapping = np.full(int(present.max()) + 1, UNCLUSTERED, dtype=np.int64)
        mapping[ranked] = np.arange(len(ranked))
        return remap(labels, mapping), mapping

    @staticmethod
    def _summaries(
        unit: np.ndarray,
        labels: np.ndarray,
        texts: Sequence[str] | None,
        topics: Sequence[str] | None,
    ) -> list[ClusterSummary]:
        keywords = cluster_keywords(texts, labels) if texts is not None else {}
        topic_names = sorted(set(topics)) if topics is not None else []
        summaries = []
        for cluster in range(int(labels.max()) + 1 if (labels >= 0).any() else 0):
            rows = np.nonzero(labels == cluster)[0]
            centroid = unit[rows].mean(axis=0)
            closeness = unit[rows] @ centroid
            best = sorted(range(len(rows)), key=lambda i: (-round(float(closeness[i]), 6), i))
            chosen = rows[best[:N_REPRESENTATIVES]]
            representatives = (
                [texts[i] for i in chosen] if texts is not None else [str(i) for i in chosen]
            )
            shares = None
            if topics is not None:
                counts = Counter(topics[i] for i in rows)
                shares = {
                    name: round(counts.get(name, 0) / len(rows), 4)
                    for name in sorted(topic_names, key=lambda t: (-counts.get(t, 0), t))
                }
            summaries.append(
                ClusterSummary(
                    id=cluster,
                    size=len(rows),
                    keywords=keywords.get(cluster, []),
                    representatives=representatives,
                    topic_shares=shares,
                )
            )
        return summaries


# -- the plain function behind POST /v1/cluster --------------------------------------------------
def cluster_headlines(
    texts: Sequence[str],
    model: TopicModel | None = None,
    *,
    level: str = "stories",
    embeddings: np.ndarray | None = None,
    embedder: Embedder | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Cluster headlines and describe every cluster; the answer is ready for ``json.dumps``.

    ``model`` supplies the encoder and each cluster's topic shares; pass ``embeddings`` to skip
    encoding, and ``embedder`` instead of a model to cluster without topics. Extra keyword
    arguments are :class:`HeadlineClusterer` parameters. Raises ``InputError`` (a ValueError) for
    blank or non-text headlines and ``ValueError`` for bad parameters or embeddings.
    """
    if isinstance(texts, str):
        raise InputError("expected a list of headlines, got a single string")
    texts = check_headlines(list(texts))
    if not texts:
        raise InputError("no headlines to cluster")
    encoder = embedder if embedder is not None else (model.embedder if model is not None else None)
    if embeddings is None:
        if encoder is None:
            raise ValueError("cluster_headlines needs a model, an embedder or embeddings")
        embeddings = encoder.encode(texts)
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or embeddings.shape[0] != len(texts):
        raise InputError(f"{embeddings.shape[0]} embeddings for {len(texts)} headlines")
    topics = None
    if model is not None:
        proba = model.predict_proba(texts, embeddings)
        topics = [model.labels[i] for i in np.argmax(proba, axis=1)]
    clusterer = HeadlineClusterer(level=level, **params).fit(embeddings, texts, topics=topics)
    return describe(clusterer, model=model)


def describe(clusterer: HeadlineClusterer, *, model: TopicModel | None = None) -> dict[str, Any]:
    """The JSON answer for a fitted clusterer: clusters first, then one label per headline.

    With the topic ``model``, every cluster's ``topic_shares`` lists all of the model's topics
    (0.0 for absent ones), so clients always see the same keys.
    """
    labels = clusterer.labels_
    clusters = [summary.to_dict() for summary in clusterer.clusters_]
    if model is not None:
        for cluster in clusters:
            shares = cluster.get("topic_shares")
            if shares is not None:
                shares.update({t: 0.0 for t in model.labels if t not in shares})
    return {
        "level": clusterer.level,
        "model": model.version if model is not None else None,
        "n_headlines": len(labels),
        "n_clusters": clusterer.n_clusters_,
        "n_unclustered": int((labels < 0).sum()),
        "sampled": bool(clusterer.sampled_),
        "clusters": clusters,
        "labels": [int(label) for label in labels],
        "params": {k: v for k, v in clusterer.get_params().items()},
    }
