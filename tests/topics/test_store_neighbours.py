"""The model store's neighbour index part: saved by training, checked on load, added afterwards
to a version saved without one (with the fake encoder; the shipped model's is in test_explain)."""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest

from classifier.topics.neighbours import NeighbourIndex
from classifier.topics.reindex import index_from_file
from classifier.topics.store import MANIFEST, NEIGHBOURS_FILE, ModelError, ModelStore
from classifier.topics.training import train_model
from tests.conftest import FakeEmbedder, load_project_data, write_csv

ROWS = load_project_data()[::50]
TEXTS = [r["headline"] for r in ROWS]
LABELS = [r["topic"] for r in ROWS]
TOPICS = [r["topics"].split(";") for r in ROWS]


@pytest.fixture(scope="module")
def trained():
    """One model (training is the slow part), with the index training gave it."""
    return train_model(TEXTS, LABELS, FakeEmbedder(), topics=TOPICS, source="test")


@pytest.fixture
def make(trained):
    def _make(*, neighbours: bool = True, version: str = "v1"):
        model, manifest = copy.copy(trained[0]), dict(trained[1], version=version)
        if not neighbours:
            model.neighbours = None  # as models were saved before the index existed
        return model, manifest

    return _make


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "models")


def test_training_saves_the_index_and_loading_reads_it_back(store, fake_embedder, make):
    model, manifest = make()
    store.save(model, manifest, promote=True)
    saved = store.read_manifest()
    assert NEIGHBOURS_FILE in saved["files"]
    assert saved["neighbours"] == {
        "file": NEIGHBOURS_FILE,
        "rows": len(TEXTS),
        "dimension": fake_embedder.dimension,
        "dtype": "float16",
    }
    loaded = store.load(embedder=fake_embedder).neighbours
    assert loaded.headlines == TEXTS and loaded.topics == TOPICS
    np.testing.assert_allclose(loaded.vectors, fake_embedder.encode(TEXTS), atol=2e-3)


def test_a_model_saved_without_an_index_loads_without_one(store, fake_embedder, make):
    model, manifest = make(neighbours=False)
    store.save(model, manifest, promote=True)
    assert NEIGHBOURS_FILE not in store.read_manifest()["files"]
    assert store.load(embedder=fake_embedder).neighbours is None


def test_an_index_that_does_not_match_its_manifest_is_refused_even_with_fresh_hashes(
    store, fake_embedder, make
):
    from classifier.topics.store import _write_manifest

    model, manifest = make()
    store.save(model, manifest, promote=True)
    folder = store.path_of("v1")
    short = NeighbourIndex(fake_embedder.encode(TEXTS[:5]), TEXTS[:5], TOPICS[:5])
    np.savez_compressed(folder / NEIGHBOURS_FILE, **short.arrays(model.labels))
    _write_manifest(folder, json.loads((folder / MANIFEST).read_text()))  # hashes recomputed
    with pytest.raises(ModelError, match=f"unreadable neighbour index.*records {len(TEXTS)} rows"):
        store.load(embedder=fake_embedder)


def test_an_index_with_a_pickle_inside_is_refused(store, fake_embedder, make):
    from classifier.topics.store import _write_manifest

    model, manifest = make()
    store.save(model, manifest, promote=True)
    folder = store.path_of("v1")
    arrays = model.neighbours.arrays(model.labels)
    arrays["headlines"] = np.array(TEXTS, dtype=object)
    np.savez(folder / NEIGHBOURS_FILE, **arrays)
    _write_manifest(folder, json.loads((folder / MANIFEST).read_text()))
    with pytest.raises(ModelError, match="unreadable neighbour index"):
        store.load(embedder=fake_embedder)


def test_an_edited_index_is_caught_by_its_hash(store, fake_embedder, make):
    model, manifest = make()
    store.save(model, manifest, promote=True)
    with open(store.path_of("v1") / NEIGHBOURS_FILE, "ab") as handle:
        handle.write(b"x")
    with pytest.raises(ModelError, match="neighbours.npz differs"):
        store.load(embedder=fake_embedder)


def test_add_neighbours_changes_nothing_but_the_new_part(store, fake_embedder, make):
    model, manifest = make(neighbours=False)
    store.save(model, manifest, promote=True)
    before = store.read_manifest()
    folder = store.path_of("v1")
    parts = {name: (folder / name).read_bytes() for name in before["files"]}
    answers = store.load(embedder=fake_embedder).predict_proba(TEXTS[:30])

    index = NeighbourIndex(fake_embedder.encode(TEXTS), TEXTS, TOPICS)
    assert store.add_neighbours("v1", index) == "v1"
    after = store.read_manifest()
    assert {k: v for k, v in after.items() if k not in ("files", "neighbours")} == {
        k: v for k, v in before.items() if k != "files"
    }
    assert after["files"] == {**before["files"], NEIGHBOURS_FILE: after["files"][NEIGHBOURS_FILE]}
    assert {name: (folder / name).read_bytes() for name in before["files"]} == parts
    loaded = store.load(embedder=fake_embedder)
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS[:30]), answers)
    assert loaded.neighbours.headlines == TEXTS
    assert sorted(os.listdir(store.root)) == ["CURRENT", "v1"]  # no staging or backup left


def test_add_neighbours_refuses_a_second_index_unless_forced_and_a_misfit_one(
    store, fake_embedder, make
):
    model, manifest = make()
    store.save(model, manifest, promote=True)
    with pytest.raises(ModelError, match="has a neighbour index already"):
        store.add_neighbours("v1", model.neighbours)
    store.add_neighbours("v1", model.neighbours, force=True)
    wrong = NeighbourIndex(np.ones((2, 8)), ["a", "b"], [["trade"], ["trade"]])
    with pytest.raises(ModelError, match="dimension 8 does not fit"):
        store.add_neighbours("v1", wrong, force=True)
    alien = NeighbourIndex(np.ones((1, 64)), ["a"], [["sports"]])
    with pytest.raises(ModelError, match="no topics \\['sports'\\]"):
        store.add_neighbours("v1", alien, force=True)
    assert sorted(os.listdir(store.root)) == ["CURRENT", "v1"]


def test_a_crash_while_swapping_leaves_the_version_whole(store, fake_embedder, make, monkeypatch):
    model, manifest = make(neighbours=False)
    store.save(model, manifest, promote=True)
    real_rename = os.rename
    calls = []

    def failing_rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the new folder into place
            raise OSError("disk gone")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(OSError, match="disk gone"):
        store.add_neighbours("v1", NeighbourIndex(fake_embedder.encode(TEXTS), TEXTS, TOPICS))
    monkeypatch.setattr(os, "rename", real_rename)
    assert store.load(embedder=fake_embedder).neighbours is None  # the old folder, back
    assert sorted(os.listdir(store.root)) == ["CURRENT", "v1"]


def test_index_from_file_rebuilds_the_index_only_from_the_training_data(
    store, fake_embedder, make, tmp_path
):
    model, manifest = make(neighbours=False)
    store.save(model, manifest, promote=True)
    rows = [(r["headline"], r["topic"], r["topics"]) for r in ROWS]
    data = write_csv(tmp_path / "train.csv", rows[::-1], header=("headline", "topic", "topics"))
    name, index = index_from_file(data, store, embedder=fake_embedder)
    assert name == "v1" and sorted(index.headlines) == sorted(TEXTS)
    assert index.topics[index.headlines.index(TEXTS[0])] == TOPICS[0]

    other = write_csv(tmp_path / "other.csv", rows[1:], header=("headline", "topic", "topics"))
    with pytest.raises(ModelError, match="not the data model 'v1' was trained on"):
        index_from_file(other, store, embedder=fake_embedder)
    with pytest.raises(ModelError, match="must be built with that one"):
        index_from_file(data, store, embedder=FakeEmbedder(salt="other"))
