"""What ``suggest`` buys: labels it picks against labels picked at random, on real front pages.

cap_nyt_dev.csv (13,774 NYT front-page headlines, CAP-coded) stands in for a person who labels:
it is a benchmark, never training data for the shipped model. The file is split once (seeded)
into a pool to pick from and a test half that every arm is scored on. Each arm starts from the
shipped model's training data (data/headlines.csv, the shipped recipe: news priors, C, groups),
adds 100, 200 and 400 pool headlines with their CAP labels, picked by ``suggest`` (with the
shipped model) or at random (several seeds), retrains, and is scored by macro-F1 of the top
topic on the test half. Section 2 (printed first: it is quick) measures adding a new topic,
climate, from 30 written examples and from a description only (tests/data/new-topic).

    .venv/bin/python bench/teach.py [--sizes 100 200 400] [--seeds 0 1 2] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, read_cap, shared_file, table  # noqa: E402
from classifier.encoders import embedder_for  # noqa: E402
from classifier.encoders.cache import EmbeddingCache, text_key  # noqa: E402
from classifier.teach.lookalike import look_alikes  # noqa: E402
from classifier.teach.suggest import suggest  # noqa: E402
from classifier.topics.data import read_labelled  # noqa: E402
from classifier.topics.features import LexicalFeatures  # noqa: E402
from classifier.topics.gate import load_eval_set, score  # noqa: E402
from classifier.topics.head import TopicHead  # noqa: E402
from classifier.topics.metrics import classification_metrics  # noqa: E402
from classifier.topics.model import TopicModel  # noqa: E402
from classifier.topics.multi import expand_rows  # noqa: E402
from classifier.topics.priors import resolve_priors  # noqa: E402
from classifier.topics.store import ModelStore  # noqa: E402
from classifier.topics.training import fit_model  # noqa: E402
from classifier.topics.zeroshot import TopicDescription, ZeroShotTopics  # noqa: E402

TRAIN_FILE = ROOT / "data" / "headlines.csv"
DEV_FILE = ROOT / "data" / "multi-topic" / "dev" / "multi_dev.csv"
NEW_TOPIC = ROOT / "tests" / "data" / "new-topic"
#: A logistic regression on MiniLM trained on 13,800 real labels (docs/models.md).
FULL_LABELS_F1 = 0.736
#: How many rows ``suggest --like climate`` lists for the person to read (climate_relabel.csv).
LIKE_N = 60
TARGET = 0.02  # suggest over random at 200 labels, macro-F1


class Vectors:
    """An encoder that answers from vectors computed once (the pick and the retrains reuse them)."""

    def __init__(self, encoder, texts, vectors) -> None:
        self._encoder = encoder
        self._index = {t: i for i, t in enumerate(texts)}
        self._vectors = vectors

    def __getattr__(self, name):
        return getattr(self._encoder, name)

    def encode(self, texts, *, batch_size=None):
        if isinstance(texts, str):
            return self.encode([texts])[0]
        missing = [t for t in texts if t not in self._index]
        if missing:
            return self._encoder.encode(texts)
        return self._vectors[[self._index[t] for t in texts]]


def embed(encoder, texts, cache_dir):
    """Vectors of ``texts``, through the project's embedding cache when a folder is given."""
    if cache_dir is None:
        return np.asarray(encoder.encode(texts), dtype=np.float32)
    cache = EmbeddingCache.for_encoder(cache_dir, encoder.info())
    keys = [text_key(t) for t in texts]
    found = cache.get_many(keys)
    todo = [i for i, k in enumerate(keys) if k not in found]
    if todo:
        fresh = np.asarray(encoder.encode([texts[i] for i in todo]), dtype=np.float32)
        cache.put_many([keys[i] for i in todo], fresh)
        found.update({keys[i]: fresh[j] for j, i in enumerate(todo)})
    cache.close()
    return np.stack([found[k] for k in keys])


def retrain(base, params, extra_texts, extra_labels, vectors_of):
    """The shipped recipe's softmax head on data/ plus the added rows (their own group), and the
    seconds it took. The top topic, which is what is scored, comes from that head alone, so the
    per-topic "applies" head that ``fit_model`` also fits (five more cross-validated fits, which
    never change the top topic) is left out: on a shared 2-core machine it would double the run."""
    started = time.perf_counter()
    texts = base.texts + extra_texts
    groups = base.groups or [f"row-{i}" for i in range(len(base.texts))]
    topics = base.topics + [[label] for label in extra_labels]
    lexical = LexicalFeatures().fit(texts)
    features = lexical.combine(vectors_of(texts), texts)
    source, labels, weights, row_groups = expand_rows(
        topics, groups + ["cap-added"] * len(extra_texts)
    )
    head = TopicHead(**params).fit(
        features[source],
        np.asarray(labels, dtype=object),
        groups=row_groups,
        sample_weight=weights,
    )
    return TopicModel(head, lexical, None), time.perf_counter() - started


def macro_f1(model, texts, truth, vectors) -> float:
    proba = model.predict_proba(texts, embeddings=vectors)
    predicted = np.asarray(model.labels, dtype=object)[proba.argmax(axis=1)]
    return classification_metrics(truth, predicted, proba.max(axis=1), model.labels)["macro_f1"]


def topic_f1(model, name, positives, negatives) -> list[float]:
    """Precision, recall and F1 of "``name`` is among the topics" on written headlines about it
    (``positives``) and our development headlines (``negatives``, none about it)."""
    found = [name in a.topics for a in model.predict(positives)]
    false = [name in a.topics for a in model.predict(negatives)]
    tp, fp = sum(found), sum(false)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / len(positives)
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return [precision, recall, f1, fp]


def new_topic_section(base, params, shipped, vectors_of, embedder_of) -> None:
    """Adding "climate": 30 written examples against the zero-shot start, both scored on 100
    written held-out headlines (never trained on) and the 340 development headlines."""
    spec = json.loads((NEW_TOPIC / "climate_topic.json").read_text(encoding="utf-8"))
    topic = TopicDescription(spec["name"], spec["description"], tuple(spec["seeds"]))
    examples = read_labelled(NEW_TOPIC / "climate_train.csv")
    held_out = read_labelled(NEW_TOPIC / "climate_heldout.csv").texts
    dev = load_eval_set(DEV_FILE)
    trained, fit_seconds = _with_examples(base, base.topics, examples, params, vectors_of)
    trained.embedder = embedder_of
    relabelled, relabel_note = _relabelled(base, examples, params, vectors_of, embedder_of)
    started = time.perf_counter()
    zero = ZeroShotTopics.fit([topic], embedder_of, vectors_of(base.texts))
    zero_seconds = time.perf_counter() - started
    rows = []
    shipped.zero_shot = zero
    for name, model, seconds in (
        ("zero-shot start (description + 4 seeds)", shipped, zero_seconds),
        ("30 written examples, retrained", trained, fit_seconds),
        ("30 examples + look-alikes relabelled", *relabelled),
    ):
        on_dev = score(model, dev)
        rows.append(
            [name, *topic_f1(model, "climate", held_out, dev.texts), on_dev["macro_f1"], seconds]
        )
    shipped.zero_shot = None
    rows.append(["shipped (no climate)", "-", "-", "-", "-", score(shipped, dev)["macro_f1"], 0.0])
    print("\n2. a new topic, climate: 100 written held-out headlines + 340 dev headlines")
    print(f"   {relabel_note}")
    headers = ["model", "precision", "recall", "F1", "false alarms", "dev macro-F1", "seconds"]
    print(table(headers, rows))


def _relabelled(base, examples, params, vectors_of, embedder_of):
    """The data of the examples arm with the look-alikes a person relabelled: the rows of
    data/ that ``suggest --like climate`` lists (the first LIKE_N), as judged in
    tests/data/new-topic/climate_relabel.csv (the rows about climate, with their new topics)."""
    texts = base.texts + examples.texts
    listed = look_alikes(
        texts, base.topics + examples.topics, vectors_of(texts), "climate", n=LIKE_N
    ).rows
    judged = read_labelled(NEW_TOPIC / "climate_relabel.csv")
    fixed = dict(zip(judged.texts, judged.topics, strict=True))
    shown = {r.headline for r in listed}
    topics = [
        fixed.get(t, old) if t in shown else old
        for t, old in zip(base.texts, base.topics, strict=True)
    ]
    changed = sum(t in shown and t in fixed for t in base.texts)
    model, seconds = _with_examples(base, topics, examples, params, vectors_of)
    model.embedder = embedder_of
    note = (
        f"suggest --like climate listed {len(listed)} rows of data/; a person relabelled "
        f"{changed} of them as about climate (climate_relabel.csv; "
        f"{len(fixed) - changed} of its rows no longer listed)"
    )
    return (model, seconds), note


def _with_examples(base, base_topics, examples, params, vectors_of):
    """The shipped recipe retrained on data/ (with ``base_topics`` as its rows' topics) plus the
    climate examples, as one more writing set; the model and the seconds the fit took."""
    texts = base.texts + examples.texts
    topics = list(base_topics) + examples.topics
    labels = [t[0] for t in topics]
    started = time.perf_counter()
    model, _ = fit_model(
        texts,
        labels,
        None,
        embeddings=vectors_of(texts),
        head_params={**params, "priors": resolve_priors("news", labels)},
        groups=(base.groups or []) + ["climate-written"] * len(examples.texts),
        topics=topics,
    )
    return model, time.perf_counter() - started


def main() -> int:
    print(machine_line(), flush=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, help="embedding cache folder (default: none)")
    parser.add_argument("--skip-picks", action="store_true", help="only section 2")
    parser.add_argument("--skip-new-topic", action="store_true", help="only section 1")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    logging.basicConfig(level=logging.WARNING)
    texts, truth = read_cap(shared_file("cap_nyt_dev.csv"))
    texts = [" ".join(t.split()) for t in texts]
    store = ModelStore(ROOT / "models")
    manifest = store.read_manifest()
    encoder = embedder_for(manifest, models_dir=store.root)
    base = read_labelled(TRAIN_FILE)
    started = time.perf_counter()
    written = [
        *read_labelled(NEW_TOPIC / "climate_train.csv").texts,
        *read_labelled(NEW_TOPIC / "climate_heldout.csv").texts,
        *read_labelled(DEV_FILE).texts,
    ]
    every = list(dict.fromkeys(base.texts + texts + written))
    vectors = embed(encoder, every, args.cache_dir)
    print(f"{len(every)} headlines embedded in {time.perf_counter() - started:.1f} s", flush=True)
    index = {t: i for i, t in enumerate(every)}

    def vectors_of(batch):
        return vectors[[index[t] for t in batch]]

    order = list(range(len(texts)))
    random.Random(args.split_seed).shuffle(order)
    pool_idx, test_idx = order[: len(order) // 2], order[len(order) // 2 :]
    pool = [texts[i] for i in pool_idx]
    test = [texts[i] for i in test_idx]
    test_truth = [truth[i] for i in test_idx]
    label_of = {texts[i]: truth[i] for i in pool_idx}
    test_vectors = vectors_of(test)
    shipped = store.load(embedder=Vectors(encoder, every, vectors))
    params = manifest["head_params"]
    start_f1 = macro_f1(shipped, test, test_truth, test_vectors)
    print(
        f"pool {len(pool)} headlines, test {len(test)}; shipped {shipped.version} on the test "
        f"half: macro-F1 {start_f1:.4f}",
        flush=True,
    )
    if not args.skip_new_topic:
        new_topic_section(base, params, shipped, vectors_of, shipped.embedder)
    if args.skip_picks:
        return 0
    rows, results = [], {}
    for size in args.sizes:
        started = time.perf_counter()
        picks = [s.headline for s in suggest(shipped, pool, n=size).suggestions]
        pick_seconds = time.perf_counter() - started
        arms = [("suggest", picks, pick_seconds)]
        for seed in args.seeds:
            arms.append((f"random seed {seed}", random.Random(seed).sample(pool, size), 0.0))
        for name, chosen, seconds in arms:
            labels = [label_of[t] for t in chosen]
            model, fit_seconds = retrain(base, params, chosen, labels, vectors_of)
            f1 = macro_f1(model, test, test_truth, test_vectors)
            results.setdefault((size, name.split()[0]), []).append(f1)
            counts = {lab: labels.count(lab) for lab in sorted(set(truth))}
            rows.append(
                [size, name, f1, f1 - start_f1, seconds, fit_seconds]
                + [counts[lab] for lab in sorted(counts)]
            )
            print(f"   {size} {name}: macro-F1 {f1:.4f}, retrain {fit_seconds:.0f} s", flush=True)
    labels = sorted(set(truth))
    print("\n1. labels picked by suggest vs at random, added to data/headlines.csv, retrained")
    headers = ["labels", "picked by", "macro-F1", "gain", "pick s", "retrain s"]
    print(table(headers + [f"n {lab}" for lab in labels], rows))
    summary = []
    for size in args.sizes:
        ours = results[(size, "suggest")][0]
        rand = results[(size, "random")]
        summary.append(
            [size, ours, float(np.mean(rand)), float(np.std(rand)), ours - float(np.mean(rand))]
        )
    print(table(["labels", "suggest", "random mean", "random sd", "suggest - random"], summary))
    if 200 in args.sizes:
        lead = results[(200, "suggest")][0] - float(np.mean(results[(200, "random")]))
        verdict = "met" if lead >= TARGET else "NOT met"
        print(
            f"   target: suggest beats random by >= {TARGET} at 200 labels: {verdict} ({lead:+.4f})"
        )
    if 400 in args.sizes:
        gap = FULL_LABELS_F1 - start_f1
        closed = (results[(400, "suggest")][0] - start_f1) / gap if gap > 0 else float("nan")
        print(
            f"   400 suggested labels close {closed:.0%} of the gap from the shipped "
            f"{start_f1:.4f} to {FULL_LABELS_F1} (13,800 real labels)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
