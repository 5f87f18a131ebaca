"""The theme hierarchy against KMeans told k and UMAP + HDBSCAN, one data set at a time.

Part of ``bench/cluster.py`` (``--levels`` runs this part alone). One fit of
``HeadlineClusterer(level="themes")`` gives all three levels; each is scored with NMI and ARI
against the human labels (unclustered headlines count as one group), beside KMeans told the
number of labels, KMeans told the number of themes the fit found, and UMAP(15 neighbours, 5
dims, cosine) + HDBSCAN(min_cluster_size=10), BERTopic's default pipeline. Every method runs in
a fresh process (``bench.cluster.in_fresh_process``) and is timed there. The scoring helpers of the other
parts live here too.
"""

from __future__ import annotations

import numpy as np


def purity_of_largest(labels: np.ndarray, truth: np.ndarray, count: int = 20) -> tuple[float, int]:
    """Share of headlines in the ``count`` largest clusters whose topic is their cluster's majority."""
    clustered = labels >= 0
    ids, sizes = np.unique(labels[clustered], return_counts=True)
    largest = ids[np.argsort(-sizes, kind="stable")][:count]
    majority = total = 0
    for cluster in largest:
        _, counts = np.unique(truth[labels == cluster], return_counts=True)
        majority += counts.max()
        total += counts.sum()
    return (majority / total if total else float("nan")), len(largest)


def describe_run(labels: np.ndarray) -> tuple[int, float]:
    return len(np.unique(labels[labels >= 0])), float(np.mean(labels < 0))


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    from bench.common import table

    print(table(headers, rows) + "\n")


def bench_levels(title: str, texts, truth, X, *, with_umap: bool) -> None:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from bench.cluster import in_fresh_process

    n_labels = len(set(truth.tolist()))
    print(f"## {title}: {len(texts)} headlines, {n_labels} labels, every level of one fit\n")
    ours = in_fresh_process("ours+levels", X, texts, level="themes")
    n_themes = describe_run(ours["levels"]["themes"])[0]
    runs: dict[str, tuple[np.ndarray, float]] = {}
    for level in ("themes", "sections", "stories"):
        note = " (the default level)" if level == "themes" else " (same fit)"
        runs[f"ours, {level}{note}"] = (ours["levels"][level], ours["seconds"])
    kmeans_k = in_fresh_process("kmeans", X, None, k=n_labels)
    runs[f"KMeans told k={n_labels} (the labels)"] = (kmeans_k["labels"], kmeans_k["seconds"])
    kmeans_t = in_fresh_process("kmeans", X, None, k=n_themes)
    runs[f"KMeans told k={n_themes} (our themes)"] = (kmeans_t["labels"], kmeans_t["seconds"])
    if with_umap:
        umap = in_fresh_process("umap+hdbscan", X, None)
        runs["UMAP+HDBSCAN (BERTopic default)"] = (umap["labels"], umap["seconds"])
    base = kmeans_t["seconds"]
    rows = []
    for name, (labels, seconds) in runs.items():
        k, unclustered = describe_run(labels)
        rows.append(
            [
                name,
                str(k),
                f"{unclustered:.1%}",
                f"{normalized_mutual_info_score(truth, labels):.4f}",
                f"{adjusted_rand_score(truth, labels):.4f}",
                f"{seconds:.1f}",
                f"{seconds / base:.2f}",
            ]
        )
    print_table(
        ["method", "clusters", "unclust.", "NMI", "ARI", "time s", f"time / KMeans k={n_themes}"],
        rows,
    )
    low, high = ours["theme_range"]
    gaps = ", ".join(f"{k}: {v:.3f}" for k, v in sorted(ours["cut_scores"].items()))
    print(
        f"themes chosen in the range {low}-{high} by the rise in Ward merge cost "
        f"(merge to k-1 / merge to k): {gaps}\n"
    )
    nested = all(
        len(set(ours["levels"][parent][ours["levels"][child] == c])) == 1
        for child, parent in (("stories", "themes"), ("themes", "sections"))
        for c in np.unique(ours["levels"][child][ours["levels"][child] >= 0])
    )
    print(f"every story in one theme and every theme in one section: {nested}\n")
