"""What training records about its data: the file's name and fingerprint, never its path."""

from __future__ import annotations

import hashlib

from classifier.topics.gate import PromotionGate
from classifier.topics.store import MANIFEST, ModelStore
from classifier.topics.training import train_from_file, train_model
from tests.support import load_project_data, write_csv

ROWS = load_project_data()[::60]


def test_the_manifest_names_the_training_file_without_its_absolute_path(tmp_path, fake_embedder):
    """``data.source`` once kept the path as typed (``/home/someone/...``), served by /v1/model."""
    folder = tmp_path / "private-folder-of-someone"
    folder.mkdir()
    path = write_csv(folder / "train.csv", [(r["headline"], r["topic"]) for r in ROWS])
    store = ModelStore(tmp_path / "models")
    result, _ = train_from_file(str(path.resolve()), store, fake_embedder, gate=PromotionGate())
    data = store.read_manifest(result.version)["data"]
    assert data["source"] == "train.csv"
    assert data["source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    text = (store.path_of(result.version) / MANIFEST).read_text(encoding="utf-8")
    assert "private-folder-of-someone" not in text and str(tmp_path) not in text


def test_a_path_given_to_train_model_is_kept_as_a_name(fake_embedder):
    texts = [r["headline"] for r in ROWS]
    labels = [r["topic"] for r in ROWS]
    _, manifest = train_model(texts, labels, fake_embedder, source="/home/someone/data/x.csv")
    assert manifest["data"]["source"] == "x.csv" and manifest["data"]["source_sha256"] is None
    _, manifest = train_model(texts, labels, fake_embedder)
    assert manifest["data"]["source"] == "in memory"
