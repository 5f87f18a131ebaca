"""Cluster-label bookkeeping: the unclustered mark, dropping small groups, renumbering, voting.

Both levels produce raw group numbers that have to become the ids users see (0..k-1, -1 for
none), and both let neighbours vote on a headline's group; doing that in one place keeps the two
levels' ids and tie-breaking identical.
"""

from __future__ import annotations

import numpy as np

UNCLUSTERED = -1


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


def rank_ids(labels: np.ndarray, keys: list[str] | None) -> tuple[np.ndarray, np.ndarray]:
    """Renumber clusters by size (largest first), then by their first row's key (or the row).

    Rows must be in canonical order, so that a cluster's first row (and its ``keys`` entry, the
    headline) does not depend on the input order. Returns the new labels and the mapping.
    """
    present = np.unique(labels[labels >= 0])
    if not len(present):
        return labels, np.zeros(0, dtype=np.int64)
    sizes = np.bincount(labels[labels >= 0])
    first: dict[int, int] = {}
    for row, label in enumerate(labels):
        if label >= 0 and label not in first:
            first[int(label)] = row
    ranked = sorted(
        present,
        key=lambda c: (-sizes[c], keys[first[c]] if keys is not None else "", first[c]),
    )
    mapping = np.full(int(present.max()) + 1, UNCLUSTERED, dtype=np.int64)
    mapping[ranked] = np.arange(len(ranked))
    return remap(labels, mapping), mapping
