"""Draw clustered headlines as a 2-D map, coloured by cluster and labelled with keywords.

The map is for looking, not measuring: t-SNE (on a PCA reduction, seeded) keeps neighbours
together so stories show as tight islands and themes as regions. Large inputs are thinned to
``max_points`` headlines, chosen at random with a fixed seed. Matplotlib's Agg canvas is used
directly (no pyplot, no global backend switch), so drawing is safe inside a server or thread.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifier.clustering.summary import ClusterSummary
from classifier.files import write_atomic

logger = logging.getLogger(__name__)

MAX_POINTS = 4000
LABELLED_CLUSTERS = 12
# tab20's strong hues, then its light ones, without the two greys (the unclustered colour)
PALETTE = [i for i in range(0, 20, 2) if i != 14] + [i for i in range(1, 20, 2) if i != 15]


def colour(cluster_id: int) -> tuple[float, float, float, float]:
    from matplotlib import colormaps

    return colormaps["tab20"](PALETTE[cluster_id % len(PALETTE)])


def project_2d(embeddings: np.ndarray, *, random_state: int = 0) -> np.ndarray:
    """Two coordinates per row: t-SNE when there are enough rows, PCA otherwise."""
    from sklearn.decomposition import PCA

    n = len(embeddings)
    if n < 3:
        return np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    reduced = PCA(n_components=min(50, n, embeddings.shape[1]), random_state=random_state)
    reduced = reduced.fit_transform(embeddings)
    if n < 10:
        return reduced[:, :2] if reduced.shape[1] >= 2 else np.column_stack([reduced, np.zeros(n)])
    from sklearn.manifold import TSNE

    perplexity = float(min(30.0, (n - 1) / 3))
    return TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=random_state
    ).fit_transform(reduced)


def plot_clusters(
    embeddings: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    clusters: Sequence[ClusterSummary],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    max_points: int = MAX_POINTS,
    labelled: int = LABELLED_CLUSTERS,
    random_state: int = 0,
) -> Path:
    """Write a PNG map of ``embeddings`` coloured by ``labels`` (-1 grey) to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    embeddings = np.asarray(embeddings, dtype=np.float32)
    labels = np.asarray(labels)
    if len(embeddings) != len(labels):
        raise ValueError(f"{len(embeddings)} embeddings but {len(labels)} labels")
    if not len(labels):
        raise ValueError("nothing to plot: no headlines")
    shown = np.arange(len(labels))
    if len(shown) > max_points:
        rng = np.random.default_rng(random_state)
        shown = np.sort(rng.choice(shown, size=max_points, replace=False))
        logger.info("plotting %d of %d headlines", max_points, len(labels))
    xy = project_2d(embeddings[shown], random_state=random_state)
    shown_labels = labels[shown]

    figure = Figure(figsize=(11, 8.5), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    noise = shown_labels < 0
    axes.scatter(xy[noise, 0], xy[noise, 1], s=4, c="#c8c8c8", linewidths=0, label="unclustered")
    by_id = {summary.id: summary for summary in clusters}
    clustered = ~noise
    axes.scatter(
        xy[clustered, 0],
        xy[clustered, 1],
        s=7,
        c=[colour(int(i)) for i in shown_labels[clustered]],
        linewidths=0,
        alpha=0.85,
    )
    for cluster_id in sorted(by_id)[:labelled]:
        members = shown_labels == cluster_id
        if not members.any():
            continue
        x, y = np.median(xy[members], axis=0)
        summary = by_id[cluster_id]
        words = ", ".join(summary.keywords[:3]) or f"cluster {cluster_id}"
        axes.annotate(
            f"#{cluster_id} {words} ({summary.size})",
            (x, y),
            fontsize=8,
            ha="center",
            va="center",
            bbox={
                "boxstyle": "round,pad=0.2",
                "fc": "white",
                "ec": colour(cluster_id),
                "alpha": 0.85,
            },
        )
    n_clusters = len(by_id)
    axes.set_title(
        title
        or f"{n_clusters} clusters, {len(labels)} headlines ({int((labels < 0).sum())} unclustered)",
        fontsize=11,
    )
    if len(shown) < len(labels):
        axes.text(
            0.01,
            0.01,
            f"{len(shown)} of {len(labels)} headlines shown",
            transform=axes.transAxes,
            fontsize=8,
            color="#666666",
        )
    axes.set_xticks([])
    axes.set_yticks([])
    figure.tight_layout()

    target = Path(path)
    image = io.BytesIO()
    figure.savefig(image, format="png")
    write_atomic(target, image.getvalue())
    return target
