"""What a person reads about clusters: a summary per cluster, and the JSON answer of a whole fit.

A cluster is described by its size, its c-TF-IDF keywords, the headlines closest to its centre
and, when a topic model was at hand, the share of each predicted topic. The CLI and the service
print the same :func:`describe` answer, so a cluster looks the same wherever it is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from classifier.clustering.keywords import cluster_keywords

N_REPRESENTATIVES = 3
HIERARCHY_ORDER = ("sections", "themes", "stories")


class FittedClusters(Protocol):
    """What :func:`describe` reads of a fitted clusterer (``HeadlineClusterer`` is one); a
    protocol, so that this module does not import the estimator that imports it."""

    level: str
    labels_: np.ndarray
    clusters_: list[ClusterSummary]
    n_clusters_: int
    sampled_: bool

    def get_params(self, deep: bool = True) -> dict[str, Any]: ...


class TopicSource(Protocol):
    """What describing clusters needs of a topic model: its version and its topic names."""

    @property
    def version(self) -> str | None: ...

    @property
    def labels(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class ClusterSummary:
    """What a person needs to read a cluster without opening it."""

    id: int
    size: int
    keywords: list[str]
    representatives: list[str]
    topic_shares: dict[str, float] | None = None
    # the id of the cluster one level up that holds this one (-1: none); None at the top level
    parent: int | None = None

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
        if self.parent is not None:
            out["parent"] = self.parent
        return out


def summarise(
    unit: np.ndarray,
    labels: np.ndarray,
    texts: Sequence[str] | None,
    topics: Sequence[str] | None,
    *,
    parents: np.ndarray | None = None,
) -> list[ClusterSummary]:
    """One summary per cluster id, in id order; rows must be in canonical order.

    ``parents`` (one id per cluster) says which cluster one level up holds each.

    Representatives are the rows closest to the cluster's mean (ties by row, after rounding the
    closeness so float noise cannot reorder them); without ``texts`` they are row numbers.
    """
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
                parent=int(parents[cluster]) if parents is not None else None,
            )
        )
    return summaries


def describe(clusterer: FittedClusters, *, model: TopicSource | None = None) -> dict[str, Any]:
    """The JSON answer for a fitted clusterer: clusters first, then one label per headline.

    With the topic ``model``, every cluster's ``topic_shares`` lists all of the model's topics
    (0.0 for absent ones), so clients always see the same keys. Themes and sections add
    ``hierarchy``: every level's clusters (each with its ``parent``) and labels, so a reader can
    go from a section down to its themes, stories and headlines.
    """
    labels = clusterer.labels_
    answer = {
        "level": clusterer.level,
        "model": model.version if model is not None else None,
        "n_headlines": len(labels),
        **_level_answer(labels, clusterer.clusters_, model),
        "sampled": bool(clusterer.sampled_),
        "params": dict(clusterer.get_params()),
    }
    levels = getattr(clusterer, "level_clusters_", {})
    if len(levels) > 1:  # themes and sections come with the whole hierarchy, broadest first
        answer["hierarchy"] = {
            name: _level_answer(clusterer.hierarchy_[name], levels[name], model)  # type: ignore[attr-defined]
            for name in sorted(levels, key=HIERARCHY_ORDER.index)
        }
    return answer


def _level_answer(
    labels: np.ndarray, summaries: list[ClusterSummary], model: TopicSource | None
) -> dict[str, Any]:
    clusters = [summary.to_dict() for summary in summaries]
    if model is not None:
        for cluster in clusters:
            shares = cluster.get("topic_shares")
            if shares is not None:
                shares.update({t: 0.0 for t in model.labels if t not in shares})
    return {
        "n_clusters": len(summaries),
        "n_unclustered": int((labels < 0).sum()),
        "clusters": clusters,
        "labels": [int(label) for label in labels],
    }
