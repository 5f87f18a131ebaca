"""Part 2 of bench/encode.py: heads trained on each backend's recorded vectors, and scored.

A head is trained the shipped way (our data, the shipped manifest's parameters and priors) on
vectors computed once per backend, so the comparison isolates the encoder: same data, same head
recipe, only the vectors differ.
"""

from __future__ import annotations

import numpy as np

from bench.common import ROOT


class RecordedEncoder:
    """Stands in for the encoder a head was trained on: the head is fed precomputed vectors."""

    def __init__(self, manifest: dict) -> None:
        from classifier.encoders import EncoderInfo

        recorded = manifest["embedding"]
        self._info = EncoderInfo(recorded["name"], recorded["fingerprint"], recorded["dimension"])
        self.dimension = recorded["dimension"]

    def info(self):
        return self._info


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine per row, renormalised: bf16 vectors are only approximately of length 1."""
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def accuracy_rows(backends, vectors, texts, truth, train, context):
    from classifier.topics.metrics import classification_metrics
    from classifier.topics.store import ModelStore
    from classifier.topics.training import fit_model

    store = ModelStore(ROOT / "models")
    manifest = store.read_manifest(store.current_version())
    stand_in = RecordedEncoder(manifest)
    labels = list(manifest["labels"])
    label_array = np.asarray(labels, dtype=object)

    def head_on(backend: str):
        """The shipped recipe (same data, groups, head parameters) on this backend's vectors."""
        model, _ = fit_model(
            train.texts,
            train.labels,
            stand_in,
            embeddings=vectors[backend]["train"],
            head_params=manifest["head_params"],
            groups=train.groups,
        )
        return model

    def top_of(model, embeddings, items=texts):
        proba = model.predict_proba(items, embeddings=embeddings)
        return label_array[proba.argmax(axis=1)], proba

    def score(model, embeddings):
        top, proba = top_of(model, embeddings)
        return top, classification_metrics(truth, top, proba.max(axis=1), labels)["macro_f1"]

    torch_head = head_on("torch")
    reference_top, reference_f1 = score(torch_head, vectors["torch"]["cap"])
    rows = []
    for backend in backends:
        cap = vectors[backend]["cap"]
        agreement = cosines(cap, vectors["torch"]["cap"])
        top, f1 = score(torch_head, cap)
        row = [backend, float(agreement.mean()), float(agreement.min())]
        row += [float(np.mean(top == reference_top)), f1, f1 - reference_f1]
        own = torch_head if backend == "torch" else head_on(backend)
        top, f1 = score(own, cap)
        row += [float(np.mean(top == reference_top)), f1, f1 - reference_f1]
        alone, _ = top_of(own, vectors[backend]["embed1"], context)
        batched, _ = top_of(own, vectors[backend]["embed32"], context)
        row.append(float(np.mean(alone != batched)))
        rows.append(row)
    return rows
