"""HeadlineClusterer: stories, themes or sections from headline embeddings, a scikit-learn estimator.

Stories are fitted alone; themes and sections fit the whole hierarchy (:mod:`.hierarchy`), so
that a theme can be opened down to its stories: ``hierarchy_`` holds every level's labels and
``parents_`` the theme of each story and the section of each theme.

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
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from classifier.clustering.geometry import as_unit_rows
from classifier.clustering.hierarchy import (
    HierarchyParams,
    assign_hierarchy,
    build_hierarchy,
    parents,
)
from classifier.clustering.labels import UNCLUSTERED, drop_small, rank_ids, remap
from classifier.clustering.levels import (
    DEFAULT_LEVEL,
    DEFAULT_MIN_CLUSTER_SIZE,
    DEFAULT_STORY_DISTANCE,
    LEVELS,
    MAX_CLUSTERS,
    STORIES,
)
from classifier.clustering.params import check_params
from classifier.clustering.stories import assign_stories, story_labels
from classifier.clustering.summary import summarise
from classifier.clustering.themes import assign_themes
from classifier.errors import InputError
from classifier.text import check_headlines

logger = logging.getLogger(__name__)


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


class HeadlineClusterer(ClusterMixin, BaseEstimator):
    """Cluster headline embeddings into stories, themes or sections; their number comes from data.

    Parameters are keyword-only; what each accepts is declared in
    :data:`classifier.clustering.params.PARAMETER_CONSTRAINTS` and checked by :meth:`fit`.

    Parameters
    ----------
    level : {"stories", "themes", "sections"}
        ``"stories"`` (same event), ``"themes"`` (a subject many stories share; 10-50 of them
        in 5,000-50,000 headlines) or ``"sections"`` (broad parts of the news, 2-4 in general
        news).
    distance_threshold : float
        The largest average cosine distance inside a story (the story level, and the stories
        themes are made of).
    n_clusters : int or None
        Themes only; cut the theme tree at this many themes instead of where its merge cost
        rises most.
    max_clusters : int
        Themes only; the most themes the cut may give.
    n_neighbors : int
        Neighbours per headline in the section graph and in ``assign`` votes.
    min_cluster_size : int or None
        Smaller groups are unclustered (None: 2 for stories, 5 for themes and sections).
    noise_similarity : float
        Themes and sections; a headline whose most similar other headline is less similar than
        this belongs to none.
    sample_size : int
        Above this many headlines, fit a hash-chosen sample and ``assign`` the rest.
    random_state : int, RandomState or None
        Seed of the KMeans step on the spectral embedding.

    Attributes
    ----------
    labels_ : ndarray of shape (n_headlines,)
        Cluster id per headline, in input order; -1 = unclustered.
    n_clusters_ : int
        Number of clusters found.
    clusters_ : list of ClusterSummary
        One summary per cluster id.
    n_features_in_ : int
        Embedding dimensions seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, only when ``X`` had string column names (a DataFrame).
    sampled_ : bool
        Whether ``assign`` labelled part of the input.
    eigenvalues_ : ndarray
        Themes, sections: the leading eigenvalues the sections' eigengap was read from (empty
        for stories).
    hierarchy_ : dict of str to ndarray
        Every fitted level's labels, in input order (only ``"stories"`` at the story level).
    parents_ : dict of str to ndarray
        ``"stories"``: the theme of each story; ``"themes"``: the section of each theme (-1:
        none). Empty at the story level.
    level_clusters_ : dict of str to list of ClusterSummary
        The summaries of every fitted level, with each cluster's ``parent``.
    theme_range_ : tuple of int
        Themes, sections: the numbers of themes the cut could choose from; ``cut_scores_`` the
        merge-cost rise of each.
    fit_embeddings_, fit_labels_ : ndarray
        The fitted sample that ``assign`` compares new headlines with.
    """

    def __init__(
        self,
        *,
        level: str = DEFAULT_LEVEL,
        distance_threshold: float = DEFAULT_STORY_DISTANCE,
        n_clusters: int | None = None,
        max_clusters: int = MAX_CLUSTERS,
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
        check_params(self.get_params(deep=False))

    def fit(
        self,
        X: object,
        y: object = None,
        *,
        texts: Sequence[str] | None = None,
        topics: Sequence[str] | None = None,
    ) -> HeadlineClusterer:
        """Cluster the rows of ``X`` (one embedding per headline); ``y`` is ignored.

        ``texts`` (the headlines) give the keywords, the representative headlines and the
        canonical order; without them clusters have no keywords and representatives are row
        numbers. ``topics`` (one predicted topic per headline) give each cluster's topic shares.
        """
        started = time.perf_counter()
        _refuse_texts_as_y(y)
        self.validate_params()
        unit = as_unit_rows(X)
        n = len(unit)
        if n == 0:
            raise InputError("no headlines to cluster")
        if texts is not None:
            texts = check_headlines(texts)
            if len(texts) != n:
                raise ValueError(f"{n} embeddings but {len(texts)} headlines")
        if topics is not None:
            topics = [str(t) for t in topics]
            if len(topics) != n:
                raise ValueError(f"{n} embeddings but {len(topics)} topics")
        validate_data(self, X, skip_check_array=True)  # column names of a DataFrame, if any

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

        self.n_features_in_ = unit.shape[1]
        self.fit_embeddings_ = fit_unit
        self.sampled_ = len(fitted) < n
        rest = np.setdiff1d(np.arange(n), fitted)
        self.eigenvalues_ = np.zeros(0)
        self.theme_range_, self.cut_scores_ = (0, 0), {}
        if self.level == STORIES:
            raw = story_labels(fit_unit, distance_threshold=float(self.distance_threshold))
            fit_levels = {STORIES: drop_small(raw, self._min_cluster_size())}
            self.fit_labels_ = fit_levels[STORIES]
            rest_levels = {STORIES: self._assign_unit(sorted_unit[rest])}
        else:
            tree = build_hierarchy(fit_unit, self._hierarchy_params())
            self.eigenvalues_, self.theme_range_ = tree.eigenvalues, tree.theme_range
            self.cut_scores_ = tree.cut_scores
            fit_levels = {name: tree.level(name) for name in LEVELS}
            rest_tree = assign_hierarchy(
                sorted_unit[rest], fit_unit, tree, self._hierarchy_params()
            )
            rest_levels = {name: rest_tree.level(name) for name in LEVELS}
        if self.sampled_:
            logger.info("fitted %d sampled headlines, assigned %d more", len(fitted), len(rest))

        sorted_levels, mappings = {}, {}
        for name, fit_labels in fit_levels.items():
            labels = np.full(n, UNCLUSTERED, dtype=np.int64)
            labels[fitted], labels[rest] = fit_labels, rest_levels[name]
            sorted_levels[name], mappings[name] = rank_ids(labels, sorted_texts)
        self.fit_labels_ = remap(fit_levels[self.level], mappings[self.level])
        sorted_labels = sorted_levels[self.level]
        self.n_clusters_ = int(sorted_labels.max()) + 1 if (sorted_labels >= 0).any() else 0
        self.parents_ = {
            child: parents(sorted_levels[child], sorted_levels[parent])
            for child, parent in ((STORIES, "themes"), ("themes", "sections"))
            if child in sorted_levels and parent in sorted_levels
        }
        sorted_topics = [topics[i] for i in order] if topics is not None else None
        self.level_clusters_ = {
            name: summarise(
                sorted_unit, labels, sorted_texts, sorted_topics, parents=self.parents_.get(name)
            )
            for name, labels in sorted_levels.items()
        }
        self.clusters_ = self.level_clusters_[self.level]
        self.hierarchy_ = {}
        for name, labels in sorted_levels.items():
            self.hierarchy_[name] = np.empty(n, dtype=np.int64)
            self.hierarchy_[name][order] = labels
        self.labels_ = self.hierarchy_[self.level]
        logger.info(
            "%s: %d clusters, %d of %d headlines unclustered, %.1fs",
            self.level,
            self.n_clusters_,
            int((self.labels_ < 0).sum()),
            n,
            time.perf_counter() - started,
        )
        return self

    def fit_predict(self, X: object, y: object = None, **fit_params: Any) -> np.ndarray:
        """Fit and return ``labels_``; ``texts=`` and ``topics=`` are those of :meth:`fit`.

        Unlike scikit-learn's default this hands ``y`` on, so headlines passed in its place are
        refused here too rather than dropped.
        """
        return self.fit(X, y, **fit_params).labels_

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
    def _min_cluster_size(self) -> int:
        if self.min_cluster_size is None:
            return DEFAULT_MIN_CLUSTER_SIZE[self.level]
        return int(self.min_cluster_size)

    def _hierarchy_params(self) -> HierarchyParams:
        return HierarchyParams(
            distance_threshold=float(self.distance_threshold),
            n_neighbors=self.n_neighbors,
            n_clusters=self.n_clusters,
            max_clusters=self.max_clusters,
            min_cluster_size=self._min_cluster_size(),
            noise_similarity=float(self.noise_similarity),
            random_state=self.random_state,
        )

    def _assign_unit(self, unit: np.ndarray) -> np.ndarray:
        members = np.nonzero(self.fit_labels_ >= 0)[0]
        if not len(members) or not len(unit):
            return np.full(len(unit), UNCLUSTERED, dtype=np.int64)
        points = self.fit_embeddings_[members]
        point_labels = self.fit_labels_[members]
        if self.level == STORIES:
            threshold = float(self.distance_threshold)
            return assign_stories(unit, points, point_labels, distance_threshold=threshold)
        return assign_themes(unit, points, point_labels, self._hierarchy_params().sections())


def _refuse_texts_as_y(y: object) -> None:
    """Headlines passed where scikit-learn puts ``y`` would be ignored in silence: refuse them."""
    is_text = isinstance(y, str) or (
        isinstance(y, Sequence | np.ndarray)
        and np.ndim(y) == 1
        and len(y) > 0
        and isinstance(y[0], str)
    )
    if is_text:
        raise TypeError(
            "HeadlineClusterer.fit takes the headlines as texts=...; its second argument is "
            "scikit-learn's y, which clustering ignores"
        )
