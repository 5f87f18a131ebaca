"""Accuracy and calibration on real NYT front-page headlines (CAP-coded), in one run.

1. the shipped model (trained on our data/ only) on all of cap_nyt_dev.csv;
2. retraining on a seeded half of that file, scored on the other half, beside TF-IDF + logistic
   regression and MiniLM + logistic regression on the same split;
3. expected calibration error of the confidences.

    .venv/bin/python bench/accuracy.py [--seed 0] [--backend torch|onnx|onnx-int8]

The encoder is the one the shipped model was trained on (its manifest says which) unless
``--backend`` names another; every row of the run uses that same encoder.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, read_cap, shared_file, table  # noqa: E402
from classifier.encoders import BACKENDS, embedder_for  # noqa: E402
from classifier.topics.metrics import classification_metrics  # noqa: E402
from classifier.topics.store import ModelStore  # noqa: E402
from classifier.topics.training import fit_model  # noqa: E402


def score(name, truth, predicted, confidence, labels):
    m = classification_metrics(truth, predicted, confidence, labels)
    row = [name, m["macro_f1"], m["accuracy"], m["ece"] if confidence is not None else "-"]
    return row + [m["per_class"][label]["f1"] for label in labels]


def main() -> int:
    print(machine_line(), flush=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=BACKENDS, help="default: the shipped model's")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    logging.basicConfig(level=logging.WARNING)
    texts, truth = read_cap(shared_file("cap_nyt_dev.csv"))
    truth_arr = np.asarray(truth, dtype=object)

    store = ModelStore(ROOT / "models")
    embedder = embedder_for(store.read_manifest(), backend=args.backend)
    started = time.perf_counter()
    embeddings = embedder.encode(texts)
    encode_s = time.perf_counter() - started
    backend = embedder.info().backend
    print(f"cap_nyt_dev.csv: {len(texts)} headlines, encoded with {backend} in {encode_s:.1f} s")

    shipped = store.load(embedder=embedder)
    labels = shipped.labels
    proba = shipped.predict_proba(texts, embeddings=embeddings)
    predicted = np.asarray(labels, dtype=object)[proba.argmax(axis=1)]
    headers = ["model", "macro-F1", "accuracy", "ECE"] + [f"F1 {label}" for label in labels]
    print(f"\n1. shipped model {shipped.version} (trained on data/ only), all {len(texts)} rows")
    shipped_row = score("shipped", truth, predicted, proba.max(axis=1), labels)
    print(table(headers, [shipped_row]))
    print(f"   target macro-F1 >= 0.70: {'met' if shipped_row[1] >= 0.70 else 'NOT met'}")

    train_idx, test_idx = train_test_split(
        np.arange(len(texts)), test_size=0.5, random_state=args.seed, stratify=truth_arr
    )
    tr_texts = [texts[i] for i in train_idx]
    te_texts = [texts[i] for i in test_idx]
    rows = []

    for weight in (None, "balanced"):
        suffix = "" if weight is None else ", balanced"
        tfidf = TfidfVectorizer()
        lr = LogisticRegression(max_iter=2000, class_weight=weight)
        lr.fit(tfidf.fit_transform(tr_texts), truth_arr[train_idx])
        p = lr.predict_proba(tfidf.transform(te_texts))
        predicted = lr.classes_[p.argmax(1)]
        rows.append(score(f"TF-IDF + LR{suffix}", truth_arr[test_idx], predicted, p.max(1), labels))
        lr = LogisticRegression(max_iter=2000, class_weight=weight)
        lr.fit(embeddings[train_idx], truth_arr[train_idx])
        p = lr.predict_proba(embeddings[test_idx])
        predicted = lr.classes_[p.argmax(1)]
        rows.append(score(f"MiniLM + LR{suffix}", truth_arr[test_idx], predicted, p.max(1), labels))

    model, _ = fit_model(
        tr_texts, list(truth_arr[train_idx]), embedder, embeddings=embeddings[train_idx]
    )
    p = model.predict_proba(te_texts, embeddings=embeddings[test_idx])
    predicted = np.asarray(model.labels)[p.argmax(1)]
    rows.append(score("ours (train defaults)", truth_arr[test_idx], predicted, p.max(1), labels))
    print(
        f"\n2. retrained on a seeded half (seed {args.seed}, {len(train_idx)} rows), scored on the other half"
    )
    print(table(headers, rows))
    best_baseline = max(row[1] for row in rows[:-1])
    ours = rows[-1][1]
    print(
        f"   ours - best baseline = {ours - best_baseline:+.4f} macro-F1 "
        f"(target >= +0.03: {'met' if ours - best_baseline >= 0.03 else 'NOT met'})"
    )
    print("\n3. calibration (top-label ECE, 10 bins; target <= 0.05)")
    print(f"   shipped model on all rows: {shipped_row[3]:.4f}")
    print(f"   retrained (ours), held-out half: {rows[-1][3]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
