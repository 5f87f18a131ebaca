"""Model versions: atomic writes, safe loading, tamper detection, promotion and rollback."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from classifier.topics.gate import PromotionGate, decide
from classifier.topics.store import CURRENT, HEAD_FILE, MANIFEST, ModelError, ModelStore
from classifier.topics.training import data_fingerprint, train_model
from tests.conftest import FakeEmbedder, load_project_data

ROWS = load_project_data()[::12]
TEXTS = [r["headline"] for r in ROWS]
LABELS = [r["topic"] for r in ROWS]


def _save(store, embedder, texts=TEXTS, labels=LABELS, promote=True, version=None):
    model, manifest = train_model(texts, labels, embedder, source="test")
    if version:
        manifest["version"] = version
    store.save(model, manifest, promote=promote)
    return model, manifest


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "models")


def test_round_trip_gives_identical_predictions(store, fake_embedder):
    model, manifest = _save(store, fake_embedder)
    loaded = store.load(embedder=fake_embedder)
    assert loaded.version == manifest["version"] == store.current_version()
    np.testing.assert_allclose(
        loaded.predict_proba(TEXTS[:50]), model.predict_proba(TEXTS[:50]), rtol=1e-6
    )
    assert manifest["labels"] == sorted(set(LABELS))
    assert set(manifest["thresholds"]) == set(LABELS)
    for key in ("macro_f1", "per_class", "confusion_matrix", "ece"):
        assert key in manifest["metrics"]
    assert manifest["embedding"]["dimension"] == 64
    assert manifest["data"]["fingerprint"] == data_fingerprint(TEXTS, LABELS)
    assert {"scikit-learn", "numpy", "python"} <= set(manifest["libraries"])


def test_single_and_batch_predictions_have_the_same_shape(store, fake_embedder):
    model, _ = _save(store, fake_embedder)
    one = model.predict("Senate passes farm bill")
    many = model.predict(["Senate passes farm bill", "WHO declares emergency"])
    assert one.topic == many[0].topic and len(many) == 2
    assert one.topic in one.topics and abs(sum(one.scores.values()) - 1) < 1e-3
    assert one.confidence == max(one.scores.values())


def test_training_twice_gives_the_same_predictions(tmp_path, fake_embedder):
    a, _ = _save(ModelStore(tmp_path / "a"), fake_embedder)
    b, _ = _save(ModelStore(tmp_path / "b"), fake_embedder)
    np.testing.assert_array_equal(a.predict_proba(TEXTS), b.predict_proba(TEXTS))


@pytest.mark.parametrize(
    "tamper, message",
    [
        (
            lambda d: (d / HEAD_FILE).write_bytes((d / HEAD_FILE).read_bytes()[:-100]),
            "head.npz differs",
        ),
        (lambda d: (d / HEAD_FILE).unlink(), "head.npz is missing"),
        (lambda d: (d / "lexical.json").write_text("{}"), "lexical.json differs"),
        (
            lambda d: (d / MANIFEST).write_text(
                (d / MANIFEST).read_text().replace('"trade"', '"tr4de"')
            ),
            "manifest.json differs",
        ),
        (lambda d: (d / "evil.pkl").write_bytes(b"x"), "unexpected \\['evil.pkl'\\]"),
        (lambda d: (d / "manifest.sha256").unlink(), "manifest.sha256 is missing"),
    ],
)
def test_tampered_folders_are_refused(store, fake_embedder, tamper, message):
    _, manifest = _save(store, fake_embedder)
    tamper(store.root / manifest["version"])
    with pytest.raises(ModelError, match=message):
        store.load(embedder=fake_embedder)


def test_head_with_a_pickle_inside_is_refused(store, fake_embedder):
    _, manifest = _save(store, fake_embedder)
    folder = store.root / manifest["version"]
    np.savez(folder / HEAD_FILE, coef=np.array([{"a": 1}], dtype=object))
    # even with a matching hash the loader never unpickles
    body = json.loads((folder / MANIFEST).read_text())
    from classifier.topics.store import sha256_file

    body["files"][HEAD_FILE] = sha256_file(folder / HEAD_FILE)
    raw = json.dumps(body, indent=2, sort_keys=True).encode() + b"\n"
    (folder / MANIFEST).write_bytes(raw)
    import hashlib

    (folder / "manifest.sha256").write_text(hashlib.sha256(raw).hexdigest())
    with pytest.raises(ModelError, match="unreadable head"):
        store.load(embedder=fake_embedder)


def test_other_encoder_is_refused(store, fake_embedder):
    _save(store, fake_embedder)
    with pytest.raises(ModelError, match="was trained on embedding model 'fake-hash-embedder'"):
        store.load(embedder=FakeEmbedder(salt="different"))


@pytest.mark.parametrize("name", ["../etc", "/etc/passwd", "a/../../b", "..", "", "x" * 200, "a b"])
def test_version_names_cannot_leave_the_store(store, name):
    with pytest.raises(ModelError, match="invalid model version name"):
        store.load(name)


def test_symlinked_version_is_refused(store, fake_embedder, tmp_path):
    _, manifest = _save(store, fake_embedder)
    os.symlink(store.root / manifest["version"], store.root / "linked")
    with pytest.raises(ModelError, match="symbolic link"):
        store.load("linked", embedder=fake_embedder)
    assert "linked" not in store.versions()


def test_promote_and_rollback(store, fake_embedder):
    _, first = _save(store, fake_embedder, version="v1")
    _, second = _save(store, fake_embedder, texts=TEXTS[:-10], labels=LABELS[:-10], version="v2")
    assert store.current_version() == "v2"
    store.promote("v1")
    assert store.load(embedder=fake_embedder).version == "v1"
    with pytest.raises(ModelError, match="not found"):
        store.promote("v3")
    assert store.versions() == ["v1", "v2"]


def test_crash_while_saving_leaves_the_previous_model_current(store, fake_embedder, monkeypatch):
    _save(store, fake_embedder, version="v1")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("classifier.topics.store.os.rename", boom)
    with pytest.raises(OSError, match="disk full"):
        _save(store, fake_embedder, version="v2")
    assert store.current_version() == "v1"
    assert store.versions() == ["v1"]
    assert not any(p.name.startswith(".tmp-") for p in store.root.iterdir())
    assert store.load(embedder=fake_embedder).version == "v1"


def test_a_worse_model_on_the_same_data_is_not_promoted(store, fake_embedder):
    _, manifest = _save(store, fake_embedder, version="v1")
    gate = PromotionGate()  # no evaluation set loaded: the same-data rule alone decides
    worse = json.loads(json.dumps(manifest))
    worse["version"] = "v2"
    worse["metrics"]["macro_f1"] = manifest["metrics"]["macro_f1"] - 0.1
    ok, reason = decide(store, worse, gate, fake_embedder)
    assert not ok and "worse than current v1" in reason
    better = dict(worse, metrics={**worse["metrics"], "macro_f1": 0.99})
    assert decide(store, better, gate, fake_embedder)[0]


def test_no_current_model_is_explained(store):
    with pytest.raises(ModelError, match="no current model"):
        store.load()
    (store.root).mkdir(parents=True)
    (store.root / CURRENT).write_text("v9\n")
    with pytest.raises(ModelError, match="'v9' not found"):
        store.load()


def test_same_second_versions_get_a_suffix(store, fake_embedder):
    _save(store, fake_embedder, version="v1")
    assert store.unique_version("v1") == "v1-2"
    assert store.unique_version("v9") == "v9"


def test_a_manifest_is_strict_json_or_nothing_is_saved(tmp_path, fake_embedder):
    """``train --C inf`` once wrote ``Infinity`` into a manifest, and /v1/model served it."""
    store = ModelStore(tmp_path / "models")
    texts = ["Tariffs rise", "Flu spreads", "Border closes", "Summit opens"] * 3
    labels = ["trade", "health", "immigration", "geopolitics"] * 3
    model, manifest = train_model(texts, labels, fake_embedder)
    manifest["head_params"] = {**manifest["head_params"], "C": float("inf")}
    with pytest.raises(ModelError, match="not saved.*Out of range float"):
        store.save(model, manifest, promote=True)
    assert store.versions() == [] and not any((tmp_path / "models").glob(".tmp-*"))
