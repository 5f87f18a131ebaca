"""Themes between sections and stories: micro-clusters of stories, a weighted Ward tree, its cut.

Themes are unions of whole stories, so a theme can be opened down to its stories. Stories (and
headlines in none) are pooled into a few hundred micro-clusters by KMeans inside each section,
and the micro-clusters are merged by Ward's criterion weighted by how many headlines each holds
(scipy's Ward takes no weights, and a micro-cluster of 300 headlines must not count as one).
Merges across sections cost an offset larger than any merge inside one, so every cut of the tree
with at least as many groups as there are sections keeps each theme inside one section.

The cut is chosen from the data, within a range that grows with the number of headlines
(:func:`theme_range`), where the next merge would cost the most more than the last
(:func:`classifier.clustering.hierarchy.merge_gaps`; why not the silhouette: docs/clustering.md).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.cluster import KMeans

from classifier.clustering.labels import UNCLUSTERED

# Cross-section merges are pushed after every merge inside a section by this offset; Ward costs
# of unit vectors are at most 2 per headline, and no input holds a million headlines in one fit.
CROSS_SECTION_OFFSET = 1e9
# Headlines per theme the range is centred on, as sqrt(n) / THEME_SCALE: 5,000 -> 10-25,
# 10,000 -> 14-35, 50,000 -> 32-50 (capped by max_clusters).
THEME_SCALE = 7.0
THEME_SPREAD = 2.5
# Micro-clusters per theme at the top of the range, and the most the Ward tree is built over.
MICRO_PER_THEME = 4
MAX_MICRO = 240


def theme_range(n_headlines: int, max_clusters: int, floor: int = 2) -> tuple[int, int]:
    """The numbers of themes a cut may give for ``n_headlines``: low and high, both inclusive."""
    centre = max(2, round(math.sqrt(n_headlines) / THEME_SCALE))
    low = max(floor, min(centre, max_clusters))
    return low, max(low, min(max_clusters, math.ceil(centre * THEME_SPREAD)))


def micro_clusters(
    means: np.ndarray,
    weights: np.ndarray,
    sections: np.ndarray,
    count: int,
    random_state: int | np.random.RandomState | None,
) -> np.ndarray:
    """KMeans inside each section over weighted atoms; returns one micro-cluster id per atom.

    Each section gets micro-clusters in proportion to its headlines (at least one), so a big
    section is not described as coarsely as a small one.
    """
    out = np.full(len(means), UNCLUSTERED, dtype=np.int64)
    total = float(weights.sum())
    next_id = 0
    for section in np.unique(sections):
        rows = np.nonzero(sections == section)[0]
        share = float(weights[rows].sum()) / total
        k = int(min(len(rows), max(1, round(count * share))))
        if k == 1:
            out[rows] = next_id
        elif k == len(rows):
            out[rows] = next_id + np.arange(k)
        else:
            kmeans = KMeans(n_clusters=k, n_init=1, random_state=random_state)
            found = kmeans.fit_predict(means[rows], sample_weight=weights[rows])
            out[rows] = next_id + np.unique(found, return_inverse=True)[1]
            k = int(out[rows].max()) - next_id + 1
        next_id += k
    return out


def weighted_ward(
    centres: np.ndarray, weights: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The merge order of Ward's method on weighted points: ``(m - 1, 2)`` pairs of point ids,
    and the cost of each merge.

    A merge keeps the lower id. The cost of joining A and B is ``wA wB / (wA + wB) |cA - cB|^2``
    (the rise in within-cluster squared distance), plus ``CROSS_SECTION_OFFSET`` when their
    ``groups`` differ. Ties go to the lowest pair of ids, so the tree is deterministic.
    """
    m = len(centres)
    centre = centres.astype(np.float64)
    weight = weights.astype(np.float64)
    group = groups.copy()
    active = np.ones(m, dtype=bool)

    def costs(i: int) -> np.ndarray:
        diff = centre - centre[i]
        row = weight * weight[i] / (weight + weight[i]) * np.einsum("ij,ij->i", diff, diff)
        row[group != group[i]] += CROSS_SECTION_OFFSET
        row[~active] = np.inf
        row[i] = np.inf
        return row

    cost = np.vstack([costs(i) for i in range(m)]) if m else np.zeros((0, 0))
    merges = np.zeros((max(m - 1, 0), 2), dtype=np.int64)
    heights = np.zeros(max(m - 1, 0), dtype=np.float64)
    for step in range(m - 1):
        a, b = divmod(int(np.argmin(cost)), m)
        a, b = min(a, b), max(a, b)
        merges[step] = (a, b)
        heights[step] = cost[a, b]
        total = weight[a] + weight[b]
        centre[a] = (weight[a] * centre[a] + weight[b] * centre[b]) / total
        weight[a] = total
        active[b] = False
        cost[b, :] = np.inf
        cost[:, b] = np.inf
        row = costs(a)
        cost[a, :] = row
        cost[:, a] = row
    return merges, heights


def cut(merges: np.ndarray, m: int, k: int) -> np.ndarray:
    """Group id (0..k-1, in order of first point) of each of the ``m`` points after ``m - k``
    merges of the tree."""
    parent = np.arange(m)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in merges[: max(m - k, 0)]:
        parent[root(int(b))] = root(int(a))
    roots = np.array([root(i) for i in range(m)])
    return np.unique(roots, return_inverse=True)[1].astype(np.int64)
