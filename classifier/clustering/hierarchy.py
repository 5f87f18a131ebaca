"""The theme hierarchy: sections contain themes, themes contain stories, stories contain headlines.

Built bottom and top first, then the middle: stories are the average-linkage clusters of
:mod:`.stories`; sections are the spectral clusters of :mod:`.themes` (the eigengap, which finds
the 2-4 broad sections of general news), each story made whole in the section most of its
headlines fell in; themes are a cut of a weighted Ward tree over micro-clusters of whole stories
(:mod:`.ward`), with cross-section merges last, so that every story lies in one theme and every
theme in one section by construction. The number of themes is the cut below the largest relative
rise in Ward's merge cost (:func:`merge_gaps`) within a range that grows with the number of
headlines (10-25 for 5,000).

Rows are in the estimator's canonical order throughout; ids are raw (renumbered by the caller).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from classifier.clustering.geometry import group_sums, nearest_neighbours
from classifier.clustering.labels import UNCLUSTERED, drop_small
from classifier.clustering.stories import STORY_GRAPH_NEIGHBOURS, assign_stories, story_labels
from classifier.clustering.themes import ThemeParams, assign_themes, theme_labels
from classifier.clustering.ward import (
    CROSS_SECTION_OFFSET,
    MAX_MICRO,
    MICRO_PER_THEME,
    cut,
    micro_clusters,
    theme_range,
    weighted_ward,
)

logger = logging.getLogger(__name__)

STORY_MIN_SIZE = 2
# The eigengap picks sections among at most this many: broad sections, never dozens.
MAX_SECTIONS = 12


@dataclass(frozen=True)
class HierarchyParams:
    """The estimator's settings that shape the hierarchy (see :class:`HeadlineClusterer`)."""

    distance_threshold: float
    n_neighbors: int
    n_clusters: int | None
    max_clusters: int
    min_cluster_size: int
    noise_similarity: float
    random_state: int | np.random.RandomState | None = None

    def sections(self) -> ThemeParams:
        return ThemeParams(
            n_neighbors=self.n_neighbors,
            n_clusters=None,
            max_clusters=MAX_SECTIONS,
            min_cluster_size=self.min_cluster_size,
            noise_similarity=self.noise_similarity,
            random_state=self.random_state,
        )


@dataclass
class Hierarchy:
    """Labels of every row at every level, and each cluster's parent one level up (-1: none)."""

    stories: np.ndarray
    themes: np.ndarray
    sections: np.ndarray
    eigenvalues: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # the range the number of themes was chosen in, and the score of every cut tried
    theme_range: tuple[int, int] = (0, 0)
    cut_scores: dict[int, float] = field(default_factory=dict)

    def level(self, name: str) -> np.ndarray:
        return {"stories": self.stories, "themes": self.themes, "sections": self.sections}[name]


def parents(child: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """The parent id of each child cluster: the parent label its rows carry (-1 if none)."""
    n_child = int(child.max()) + 1 if (child >= 0).any() else 0
    out = np.full(n_child, UNCLUSTERED, dtype=np.int64)
    rows = np.nonzero(child >= 0)[0]
    out[child[rows]] = parent[rows]  # rows of a child share one parent by construction
    return out


def whole_stories(stories: np.ndarray, sections: np.ndarray) -> np.ndarray:
    """Sections with every story moved wholly into the section most of its headlines are in."""
    out = sections.copy()
    rows = np.nonzero(stories >= 0)[0]
    if not len(rows) or not (sections >= 0).any():
        return out
    votes = np.zeros((int(stories.max()) + 1, int(sections.max()) + 2), dtype=np.int64)
    np.add.at(votes, (stories[rows], sections[rows] + 1), 1)  # column 0 counts "no section"
    counted = votes[:, 1:]
    best = np.where(counted.max(axis=1) > 0, counted.argmax(axis=1), UNCLUSTERED)
    out[rows] = best[stories[rows]]
    return out


def merge_gaps(heights: np.ndarray, candidates: range) -> dict[int, float]:
    """For each k, how much dearer the merge to k - 1 groups is than the merge that made k.

    The dendrogram's counterpart of the eigengap: a cut just below a large rise in Ward's merge
    cost leaves groups that the next merge would have to force together.
    """
    m = len(heights) + 1
    # a cross-section merge is compared by its Ward cost, without the offset that ordered it
    ward = np.where(heights >= CROSS_SECTION_OFFSET, heights - CROSS_SECTION_OFFSET, heights)
    cost = {k: float(ward[m - k - 1]) for k in range(1, m)}  # the merge that leaves k groups
    return {k: cost[k - 1] / max(cost[k], 1e-12) for k in candidates if k - 1 in cost and k in cost}


def build_hierarchy(unit: np.ndarray, params: HierarchyParams) -> Hierarchy:
    """Stories, sections and the themes between them for unit rows in canonical order."""
    n = len(unit)
    # one neighbour search for both: the theme graph's neighbours are a prefix of the stories'
    neighbours = nearest_neighbours(unit, max(STORY_GRAPH_NEIGHBOURS, params.n_neighbors))
    raw_stories = story_labels(
        unit,
        distance_threshold=params.distance_threshold,
        neighbours=tuple(part[:, :STORY_GRAPH_NEIGHBOURS] for part in neighbours),  # type: ignore[arg-type]
    )
    stories = drop_small(raw_stories, STORY_MIN_SIZE)
    raw_sections, eigenvalues = theme_labels(unit, params.sections(), neighbours=neighbours)
    sections = whole_stories(stories, raw_sections)
    # atoms: each story, and each headline in no story; a theme is a union of atoms
    loose = np.nonzero(stories < 0)[0]
    n_stories = int(stories.max()) + 1 if (stories >= 0).any() else 0
    atom = stories.copy()
    atom[loose] = n_stories + np.arange(len(loose))
    n_atoms = n_stories + len(loose)
    weights = np.bincount(atom, minlength=n_atoms).astype(np.float64)
    sums = group_sums(atom, unit, n_atoms)
    atom_section = np.full(n_atoms, UNCLUSTERED, dtype=np.int64)
    atom_section[atom] = sections
    kept = np.nonzero(atom_section >= 0)[0]
    themes = np.full(n, UNCLUSTERED, dtype=np.int64)
    if not len(kept):
        return Hierarchy(stories, themes, sections, eigenvalues)
    n_sections = len(np.unique(atom_section[kept]))
    low, high = theme_range(n, params.max_clusters, floor=n_sections)
    # no more themes than the headlines can fill at min_cluster_size each
    high = max(n_sections, min(high, int(weights[kept].sum()) // params.min_cluster_size))
    low = min(low, high)
    count = min(len(kept), MAX_MICRO, max(MICRO_PER_THEME * high, n_sections))
    micro = micro_clusters(
        sums[kept] / weights[kept, None],
        weights[kept],
        atom_section[kept],
        count,
        params.random_state,
    )
    m = int(micro.max()) + 1
    micro_weight = np.bincount(micro, weights=weights[kept], minlength=m)
    micro_sum = group_sums(micro, sums[kept], m)
    micro_section = np.zeros(m, dtype=np.int64)
    micro_section[micro] = atom_section[kept]
    merges, heights = weighted_ward(micro_sum / micro_weight[:, None], micro_weight, micro_section)

    atom_micro = np.full(n_atoms, UNCLUSTERED, dtype=np.int64)
    atom_micro[kept] = micro
    row_micro = atom_micro[atom]
    clustered = row_micro >= 0

    def themes_at(k: int) -> np.ndarray:
        labels = np.full(n, UNCLUSTERED, dtype=np.int64)
        labels[clustered] = cut(merges, m, k)[row_micro[clustered]]
        return labels

    scores: dict[int, float] = {}
    if params.n_clusters is not None:
        chosen = int(min(max(params.n_clusters, n_sections), m))
    else:
        # themes finer than sections whenever the tree allows it
        scores = merge_gaps(heights, range(max(low, n_sections + 1), min(high, m - 1) + 1))
        chosen = (
            max(scores, key=lambda k: (scores[k], -k)) if scores else min(m, max(low, n_sections))
        )
    themes = drop_small(themes_at(chosen), params.min_cluster_size)
    logger.info(
        "hierarchy: %d sections, %d themes (cut at %d of %d micro-clusters, range %d-%d), "
        "%d stories",
        n_sections,
        int(themes.max()) + 1 if (themes >= 0).any() else 0,
        chosen,
        m,
        low,
        high,
        n_stories,
    )
    return Hierarchy(stories, themes, sections, eigenvalues, (low, high), scores)


def assign_hierarchy(
    unit: np.ndarray, points: np.ndarray, fitted: Hierarchy, params: HierarchyParams
) -> Hierarchy:
    """Labels at every level for new rows, consistent with the fitted tree.

    A row that joins a story takes that story's theme and section; any other row takes the theme
    its nearest fitted headlines vote for, and that theme's section (or, outside every theme,
    the section they vote for).
    """
    n = len(unit)
    story_of = _assign_level(fitted.stories, points, unit, params, stories=True)
    theme_parent = parents(fitted.themes, fitted.sections)
    story_theme = parents(fitted.stories, fitted.themes)
    story_section = parents(fitted.stories, fitted.sections)
    themes = _assign_level(fitted.themes, points, unit, params)
    sections = _assign_level(fitted.sections, points, unit, params)
    in_story = story_of >= 0
    themes[in_story] = story_theme[story_of[in_story]]
    sections[in_story] = story_section[story_of[in_story]]
    in_theme = ~in_story & (themes >= 0)
    sections[in_theme] = theme_parent[themes[in_theme]]
    assert len(themes) == n
    return Hierarchy(story_of, themes, sections)


def _assign_level(
    labels: np.ndarray,
    points: np.ndarray,
    unit: np.ndarray,
    params: HierarchyParams,
    *,
    stories: bool = False,
) -> np.ndarray:
    members = np.nonzero(labels >= 0)[0]
    if not len(members) or not len(unit):
        return np.full(len(unit), UNCLUSTERED, dtype=np.int64)
    if stories:
        return assign_stories(
            unit, points[members], labels[members], distance_threshold=params.distance_threshold
        )
    return assign_themes(unit, points[members], labels[members], params.sections())
