"""What an explanation costs per headline: explain on against off, at batch 1 and 32, in one run.

    .venv/bin/python bench/explain.py [--rounds 3] [--headlines 64] [--threads N]

On the shipped model with its own encoder (onnx-int8) and neighbour index, on real front-page
headlines (../shared/data/cap_nyt_dev.csv; without it, our own never-trained-on
data/multi-topic/dev/multi_dev.csv):

1. ``predict`` alone (the baseline) and ``predict`` + ``explain`` (the 3 nearest training
   headlines and the words by occlusion: every distinct word left out once, all re-encoded in
   one batch), one headline per call and 32 per call; ms per headline, median over rounds, the
   two taking turns in each round so that load from other programs weighs on both;
2. the parts: the neighbour look-up alone (exact cosine top-3 over every training row, one
   matrix product) per headline at batch 1 and 32, the encodings an explanation adds per
   headline, and the time to read and check the index when a model loads;
3. why occlusion and not the TF-IDF part of the head: the share of the top topic's logit margin
   (its logit minus the mean of all) that comes from the embedding half of the features, and how
   often the word with the largest TF-IDF contribution is the word occlusion ranks first.

The figure to read is the ratio explain/predict of the same round. The first line names the CPU
and the commit; the last the load average, since the machines are shared.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import SHARED, machine_line, table  # noqa: E402


def headlines(n: int, seed: int = 0) -> tuple[list[str], str]:
    """``n`` real headlines, and which file they came from."""
    nyt = SHARED / "cap_nyt_dev.csv"
    path = nyt if nyt.is_file() else ROOT / "data" / "multi-topic" / "dev" / "multi_dev.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [r["headline"] for r in csv.DictReader(handle) if r["headline"].strip()]
    return random.Random(seed).sample(rows, min(n, len(rows))), path.name


def per_headline_ms(work, texts: list[str], batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        work(texts[start : start + batch])
    return (time.perf_counter() - started) * 1000 / len(texts)


def faithfulness(model, texts: list[str]) -> list[list[str]]:
    """How much a TF-IDF-only explanation would leave out, on these headlines."""
    import numpy as np

    from classifier.topics.explain import WORD_PATTERN, explain

    dimension = model.neighbours.dimension
    features = model.features(texts)
    coef = model.head.coef_
    centred = coef - coef.mean(axis=0)  # softmax ignores what every topic's logit shares
    proba = model.head.predict_proba(features)
    shares, same = [], 0
    vocabulary = model.lexical.vectorizer.vocabulary_
    analyse = model.lexical.vectorizer.build_analyzer()
    for i, (text, found) in enumerate(zip(texts, explain(model, texts), strict=True)):
        top = int(np.argmax(proba[i]))
        row = features[i].toarray()[0] * centred[top]
        embedding, lexical = row[:dimension].sum(), row[dimension:].sum()
        shares.append(abs(embedding) / (abs(embedding) + abs(lexical)))
        by_word = {}
        for match in WORD_PATTERN.finditer(text):
            terms = [t for t in analyse(match.group()) if t in vocabulary]
            by_word[match.group()] = sum(row[dimension + vocabulary[t]] for t in terms)
        if found.words and by_word and max(by_word, key=by_word.get) == found.words[0].word:
            same += 1
    return [
        ["embedding share of the top topic's logit margin (median)", f"{np.median(shares):.0%}"],
        ["top TF-IDF word = top occlusion word", f"{same} of {len(texts)}"],
    ]


def main(argv: list[str] | None = None) -> int:
    from classifier.encoders import embedder_for
    from classifier.topics.explain import distinct_words, explain
    from classifier.topics.store import ModelStore

    print(machine_line(), flush=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--headlines", type=int, default=64, help="per measurement (default 64)")
    parser.add_argument("--threads", type=int, default=None, help="encoder threads")
    args = parser.parse_args(argv)

    store = ModelStore(ROOT / "models")
    version = store.resolve(None)
    manifest = store.read_manifest(version)
    embedder = embedder_for(manifest, models_dir=store.root, threads=args.threads)
    model = store.load(version, embedder=embedder)
    if model.neighbours is None:
        print(f"skipped: model {version} has no neighbour index (headline-topics export-index)")
        return 0
    texts, source = headlines(args.headlines)
    print(
        f"model {version} ({embedder.info().backend}), index of {len(model.neighbours)} "
        f"headlines; {len(texts)} headlines from {source}",
        flush=True,
    )
    model.predict(texts[:4])  # warm up
    explain(model, texts[:4])

    def explained(batch):
        model.predict(batch)
        explain(model, batch)

    results: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.rounds):
        for batch in (1, 32):
            for name, work in (("predict", model.predict), ("predict + explain", explained)):
                results.setdefault((name, batch), []).append(per_headline_ms(work, texts, batch))
    rows = []
    for batch in (1, 32):
        off = statistics.median(results[("predict", batch)])
        on = statistics.median(results[("predict + explain", batch)])
        rows.append([batch, round(off, 2), round(on, 2), f"{on / off:.1f}x"])
    print()
    print(table(["batch", "predict ms/headline", "+ explain ms/headline", "ratio"], rows))

    vectors = embedder.encode(texts)
    parts = []
    for batch in (1, 32):
        lookups = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            for start in range(0, len(vectors), batch):
                model.neighbours.nearest(vectors[start : start + batch])
            lookups.append((time.perf_counter() - started) * 1000 / len(vectors))
        parts.append([f"neighbour look-up, batch {batch}", f"{statistics.median(lookups):.2f} ms"])
    extra = statistics.mean(len(distinct_words(t)) for t in texts)
    parts.append(["encodings added per headline (distinct words)", f"{extra:.1f}"])
    loads = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        store._read_neighbours(version, manifest)
        loads.append(time.perf_counter() - started)
    parts.append(["read and check the index at load", f"{statistics.median(loads) * 1000:.0f} ms"])
    size = (store.path_of(version) / manifest["neighbours"]["file"]).stat().st_size / 1e6
    parts.append(["index on disk", f"{size:.1f} MB"])
    print()
    print(table(["part", "per headline / value"], parts))
    print()
    print(table(["TF-IDF contributions against occlusion", "value"], faithfulness(model, texts)))
    print()
    print("load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
