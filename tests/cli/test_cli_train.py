"""``headline-topics train`` with the real encoder: the manifest it writes, and reproducibility."""

from __future__ import annotations

import pytest

from classifier.cli import main as cli_main
from classifier.topics.store import ModelStore
from tests.support import load_project_data, write_csv


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
    assert (
        manifest["data"]["source"] == "small.csv" and len(manifest["data"]["source_sha256"]) == 64
    )
    evaluation = manifest["evaluation"]  # scored on the bundled file by default
    assert evaluation["file"] == "multi_dev.csv" and evaluation["rows"] == 340
    assert evaluation["overlap_with_training"] == 0
    assert set(evaluation["per_topic_f1"]) == set(manifest["labels"])
    assert 0.5 < evaluation["macro_f1"] <= 1.0


def test_a_smaller_file_of_other_data_does_not_replace_the_current_model(run, trained, tmp_path):
    """A 300-row toy file once replaced the shipped model: 'trained on different data'."""
    store = ModelStore(trained)
    first = store.current_version()
    by_topic: dict[str, list] = {}
    for row in load_project_data()[3::11]:
        by_topic.setdefault(row["topic"], []).append((row["headline"], row["topic"]))
    toy = write_csv(tmp_path / "toy.csv", [r for rows in by_topic.values() for r in rows[:12]])
    code, out, err = run("train", str(toy), "--models-dir", str(trained))
    assert code == 0, err
    assert "on multi_dev.csv (340 headlines never trained on): topic lists: macro-F1" in out
    assert "NOT promoted: rule 1 (macro-F1)" in out and f"current {first}'s" in out
    assert store.current_version() == first


def test_an_evaluation_file_that_cannot_be_read_stops_train_before_any_work(run, trained):
    before = ModelStore(trained).versions()
    code, _, err = run("train", "data.csv", "--eval-file", "nope.csv", "--models-dir", str(trained))
    assert code == 2 and "no such file" in err
    assert ModelStore(trained).versions() == before


def test_same_data_trains_to_the_same_predictions(run, trained, small_labelled):
    store = ModelStore(trained)
    code, _, _ = run("train", str(small_labelled), "--models-dir", str(trained), "--no-promote")
    assert code == 0
    first, *rest = store.versions()
    headlines = ["Tariff talks stall", "Vaccine mandate upheld", "Army enters the capital"]
    a = store.load(first, embedder=store.load().embedder).predict_proba(headlines)
    for other in rest:
        b = store.load(other, embedder=store.load().embedder)
        same = ("head_params", "data")  # other tests add versions on other data or options
        if all(b.manifest[key] == store.read_manifest(first)[key] for key in same):
            assert (a == b.predict_proba(headlines)).all()


def test_corrections_retrain_quickly_from_the_current_model(run, trained, small_labelled, tmp_path):
    store = ModelStore(trained)
    current = store.current_version()
    fix = write_csv(tmp_path / "fix.csv", [("Senate passes tariff relief for farmers", "trade")])
    argv = ("train", str(small_labelled), "--models-dir", str(trained), "--no-promote")
    code, out, err = run(*argv, "--add", str(fix))
    assert code == 0, err
    assert f"quick retrain from {current}: its calibration (from {current})" in out
    assert "corrections: 1 trained on" in out
    version = out.split()[1]
    assert store.read_manifest(version)["fit"]["mode"] == "quick"
    code, out, err = run(*argv, "--fit", "quick")
    assert code == 2 and "--fit quick is not possible: there are no corrections" in err
    code, out, err = run(*argv, "--add", str(fix), "--fit", "full", "--C", "4")
    assert code == 0, err
    assert "full retrain: --fit full" in out


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "x"])
def test_train_refuses_a_regularisation_that_is_not_a_positive_number(value, tmp_path, capsys):
    """``--C 0`` once silently meant C=16; ``--C inf`` wrote Infinity into the manifest."""
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["train", "data.csv", "--C", value, "--models-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "argument --C" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_topic_with_few_rows_points_to_its_look_alikes():
    from classifier.cli.train import _few_examples

    counts = {"climate": 30, "health": 400, "other": 12, "trade": 400}
    assert _few_examples({"source": "mine.csv", "topic_counts": counts}) == [
        "topic climate has only 30 row(s): `headline-topics suggest mine.csv --like climate "
        "--out relabel.csv` lists rows labelled otherwise that look like it"
    ]
    # a small file where every topic is small: no topic is new, so no hint
    small = {"geopolitics": 67, "health": 41, "immigration": 41, "other": 121, "trade": 43}
    assert _few_examples({"source": "x.csv", "topic_counts": small}) == []
    assert _few_examples({"source": "x.csv", "counts": {"trade": 100, "other": 5}}) == []
    assert _few_examples({"source": "x.csv", "counts": {"trade": 99, "other": 5}}) == []
