"""Cosine geometry both levels share: unit rows, blocked nearest neighbours, pair distances.

Embeddings are compared by cosine only, so every row is normalised once on the way in and the
rest works with dot products. Whole similarity matrices of 20,000 headlines do not fit in memory,
so the neighbour search and the pair distances are built block by block.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

CHUNK = 1024
KNN_BLOCK_BYTES = 96 * 2**20


def as_unit_rows(X: object, *, name: str = "embeddings") -> np.ndarray:
    """A float32 copy of ``X`` with unit-length rows; refuses ragged, non-finite or zero rows.

    Embeddings are dense by nature; sparse and complex input is refused by name rather than
    failing somewhere inside NumPy.
    """
    if sparse.issparse(X):
        raise ValueError(f"{name} must be a dense array: sparse input is not supported")
    if np.issubdtype(getattr(X, "dtype", np.float32), np.complexfloating):
        raise ValueError(f"{name} must be real numbers: Complex data not supported")
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


def threshold_components(
    index: np.ndarray, similarity: np.ndarray, n: int, min_similarity: float
) -> tuple[int, np.ndarray]:
    """The connected pieces of the graph linking neighbours at least ``min_similarity`` alike.

    Returns ``(n_pieces, piece_of_each_row)`` as ``connected_components`` does. Stories use it to
    find what average linkage can join; themes to find near-verbatim repeats.
    """
    close = similarity >= min_similarity
    rows = np.repeat(np.arange(n), index.shape[1])[close.ravel()]
    graph = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int8), (rows, index.ravel()[close.ravel()])), shape=(n, n)
    )
    n_pieces, piece = connected_components(graph, directed=False)
    return int(n_pieces), piece


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


def group_sums(groups: np.ndarray, rows: np.ndarray, n_groups: int) -> np.ndarray:
    """Float64 sum of the ``rows`` of each group id in ``groups`` (all ids >= 0), one row each.

    A sparse product, because ``np.add.at`` over 20,000 x 384 values is two orders slower.
    """
    indicator = sparse.csr_matrix(
        (np.ones(len(groups)), (groups, np.arange(len(groups)))), shape=(n_groups, len(groups))
    )
    return np.asarray(indicator @ rows.astype(np.float64))
