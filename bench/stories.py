"""Stories in a whole archive: the story tracker against a whole fit and against sample-and-assign.

On ``../shared/data/cap_nyt_dev.csv`` (13,774 NYT front-page headlines, 1996-2006, with a CAP
topic and a year), the same embeddings (the default onnx-int8 encoder, of the normalised
headlines, as ``tag`` embeds them) go through:

* **whole fit**: :class:`HeadlineClusterer` stories on every row at once (the reference);
* **sample + assign**: the same fitted on a 5,000-headline hash sample, every other row assigned
  (what ``tag --clusters stories`` did before the tracker: assigned rows never start a story);
* **tracker**: :class:`StoryTracker` over the rows in year order, for several quiet periods.

For each: stories of two or more headlines, the share of rows in none (a tracker story of one
headline counts as none), purity (the share of clustered rows whose CAP topic is their story's
majority topic), the adjusted Rand index against the whole fit on the rows both cluster, the
seconds of the clustering step and its peak of traced memory (embeddings excluded). Prints the
CPU line and commit first::

    .venv/bin/python bench/stories.py [--cache DIR] [--quiet 365,730,4018]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine_line, shared_file, table  # noqa: E402


def read_archive(path: Path) -> tuple[list[str], np.ndarray, list[str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows.sort(key=lambda r: int(r["year"]))  # stable: file order within a year
    return (
        [r["headline"] for r in rows],
        np.array([r["topic"] for r in rows]),
        [r["year"] for r in rows],
    )


def embed(texts: list[str], cache: Path | None) -> np.ndarray:
    from classifier.encoders.onnx import OnnxEncoder
    from classifier.tagging import normalise_headline

    encoder = OnnxEncoder(backend="onnx-int8")
    normalised = [normalise_headline(t) for t in texts]
    key = hashlib.sha256(("\n".join(normalised) + encoder.info().cache_key).encode()).hexdigest()
    cached = cache / f"stories-{key[:16]}.npy" if cache is not None else None
    if cached is not None and cached.exists():
        return np.load(cached)
    started = time.perf_counter()
    vectors = encoder.encode(normalised)
    print(f"embedded {len(texts)} headlines in {time.perf_counter() - started:.1f} s\n")
    if cached is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.save(cached, vectors)
    return vectors


def measured(step):  # noqa: ANN001, ANN201 - a callable and what it returns
    tracemalloc.start()
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def as_labels(story: np.ndarray) -> np.ndarray:
    """Tracker ids with one-headline stories as -1, as the fits mark them."""
    sizes = np.bincount(story)
    return np.where(sizes[story] >= 2, story, -1)


def purity(labels: np.ndarray, truth: np.ndarray) -> float:
    clustered = labels >= 0
    majority = 0
    for label in np.unique(labels[clustered]):
        _, counts = np.unique(truth[labels == label], return_counts=True)
        majority += counts.max()
    return majority / clustered.sum() if clustered.any() else float("nan")


def ari_on_common(labels: np.ndarray, reference: np.ndarray) -> float:
    from sklearn.metrics import adjusted_rand_score

    both = (labels >= 0) & (reference >= 0)
    return float(adjusted_rand_score(reference[both], labels[both]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, help="keep the embeddings here between runs")
    parser.add_argument("--quiet", default="365,730,4018", help="tracker quiet periods, days")
    args = parser.parse_args()
    print(machine_line() + "\n")
    texts, truth, years = read_archive(shared_file("cap_nyt_dev.csv"))
    X = embed(texts, args.cache)

    from classifier.clustering import HeadlineClusterer, StoryTracker

    n = len(texts)
    runs: dict[str, tuple[np.ndarray, float, float, str]] = {}
    labels, seconds, peak = measured(lambda: HeadlineClusterer(sample_size=n + 1).fit(X).labels_)
    runs["whole fit"] = (labels, seconds, peak, "")
    labels, seconds, peak = measured(lambda: HeadlineClusterer(sample_size=5000).fit(X).labels_)
    runs["sample 5,000 + assign"] = (labels, seconds, peak, "")
    for quiet in [float(q) for q in args.quiet.split(",")]:
        tracker = StoryTracker(quiet=quiet)
        story, seconds, peak = measured(lambda t=tracker: t.update(embeddings=X, times=years))
        note = f"{tracker.n_open} open at the end, state {tracker.nbytes / 2**20:.1f} MB"
        runs[f"tracker, quiet {quiet:g} days"] = (as_labels(story), seconds, peak, note)
    tracker = StoryTracker()
    story, seconds, peak = measured(lambda: tracker.update(embeddings=X))
    note = f"{tracker.n_open} open at the end, state {tracker.nbytes / 2**20:.1f} MB"
    runs["tracker, file order, quiet 10,000 rows"] = (as_labels(story), seconds, peak, note)

    reference = runs["whole fit"][0]
    majority = np.unique(truth, return_counts=True)[1].max() / n
    rows = []
    for name, (labels, seconds, peak, note) in runs.items():
        rows.append(
            [
                name,
                len(np.unique(labels[labels >= 0])),
                f"{np.mean(labels < 0):.1%}",
                f"{purity(labels, truth):.3f}",
                f"{ari_on_common(labels, reference):.3f}",
                f"{seconds:.1f}",
                f"{peak:.0f}",
                note,
            ]
        )
    print(
        f"cap_nyt_dev: {n} headlines, years {years[0]}-{years[-1]}; purity w.r.t. CAP topic "
        f"(all in one story: {majority:.3f})\n"
    )
    headers = ["method", "stories", "unclust.", "purity", "ARI vs whole", "time s", "peak MB", ""]
    print(table(headers, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
