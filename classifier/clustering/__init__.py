"""Group headlines into stories (one event), themes and sections (broad parts of the news).

Three nested levels, each by the method its question needs: stories are average-linkage clusters
cut at a fixed cosine distance (:mod:`.stories`); sections are spectral clusters of the neighbour
graph with their number read from the eigengap (:mod:`.themes`); themes, between them, are a cut
of a weighted Ward tree over whole stories inside each section (:mod:`.ward`), so that every story
lies in one theme and every theme in one section (:mod:`.hierarchy`). :class:`HeadlineClusterer`
(:mod:`.estimator`) runs any level as a scikit-learn estimator; :mod:`.summary` and
:mod:`.keywords` say what each cluster is about; :func:`cluster_headlines` (:mod:`.cluster`) is
the whole job behind POST /v1/cluster; :mod:`.plot` draws a map. :class:`StoryTracker`
(:mod:`.tracker`, its state on disk in :mod:`.tracker_state`, times in :mod:`.times`) finds
stories in a stream or an archive in time order, so they can begin anywhere, and groups wire
copies (:mod:`.wire`).

The level names (:mod:`.levels`) import at once; everything else loads on first use (PEP 562),
so the CLI and the service can read :data:`LEVELS` without loading numpy, scipy or scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from classifier._lazy import lazy_attributes
from classifier.clustering.levels import LEVELS, STORIES, THEMES

_LAZY = {
    "ClusterSummary": "classifier.clustering.summary",
    "HeadlineClusterer": "classifier.clustering.estimator",
    "StoryTracker": "classifier.clustering.tracker",
    "StoryUpdate": "classifier.clustering.tracker",
    "time_in_days": "classifier.clustering.times",
    "UNCLUSTERED": "classifier.clustering.labels",
    "cluster_headlines": "classifier.clustering.cluster",
    "cluster_keywords": "classifier.clustering.keywords",
    "describe": "classifier.clustering.summary",
    "plot_clusters": "classifier.clustering.plot",
}

__all__ = [
    "LEVELS",
    "STORIES",
    "THEMES",
    "UNCLUSTERED",
    "ClusterSummary",
    "HeadlineClusterer",
    "StoryTracker",
    "StoryUpdate",
    "cluster_headlines",
    "cluster_keywords",
    "describe",
    "plot_clusters",
    "time_in_days",
]

if TYPE_CHECKING:  # pragma: no cover
    from classifier.clustering.cluster import cluster_headlines
    from classifier.clustering.estimator import HeadlineClusterer
    from classifier.clustering.keywords import cluster_keywords
    from classifier.clustering.labels import UNCLUSTERED
    from classifier.clustering.plot import plot_clusters
    from classifier.clustering.summary import ClusterSummary, describe
    from classifier.clustering.times import time_in_days
    from classifier.clustering.tracker import StoryTracker, StoryUpdate


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
