"""``headline-topics train`` with the real encoder: the manifest it writes, and reproducibility."""

from __future__ import annotations

import pytest

from classifier.cli import main as cli_main
from classifier.topics.store import ModelStore


def test_train_writes_a_current_model_with_a_full_manifest(trained):
    store = ModelStore(trained)
    manifest = store.read_manifest()
    assert store.current_version() == manifest["version"]
    assert manifest["labels"] == ["geopolitics", "health", "immigration", "other", "trade"]
    assert manifest["data"]["rows_used"] == 200
    assert manifest["embedding"]["name"] == "all-MiniLM-L6-v2"
    assert manifest["embedding"]["dimension"] == 384
    assert len(manifest["embedding"]["fingerprint"]) == 64
    assert 0.5 < manifest["metrics"]["macro_f1"] <= 1.0
    assert {"torch", "sentence-transformers", "scikit-learn"} <= set(manifest["libraries"])


def test_same_data_trains_to_the_same_predictions(run, trained, small_labelled):
    store = ModelStore(trained)
    code, _, _ = run("train", str(small_labelled), "--models-dir", str(trained), "--no-promote")
    assert code == 0
    first, *rest = store.versions()
    headlines = ["Tariff talks stall", "Vaccine mandate upheld", "Army enters the capital"]
    a = store.load(first, embedder=store.load().embedder).predict_proba(headlines)
    for other in rest:
        b = store.load(other, embedder=store.load().embedder)
        if b.manifest["head_params"] == store.read_manifest(first)["head_params"]:
            assert (a == b.predict_proba(headlines)).all()


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "x"])
def test_train_refuses_a_regularisation_that_is_not_a_positive_number(value, tmp_path, capsys):
    """``--C 0`` once silently meant C=16; ``--C inf`` wrote Infinity into the manifest."""
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["train", "data.csv", "--C", value, "--models-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "argument --C" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
