"""The promotion gate: a new version replaces the current one only when a fixed file says it may.

Issue 19 item 9: a 300-row toy file replaced the shipped model, a 2-row file was promoted with
92% confidences, and one example of a rare label turned off calibration for the whole model.
"""

from __future__ import annotations

import logging

import pytest

from classifier import config
from classifier.topics.gate import PromotionGate, compare, load_eval_set
from classifier.topics.store import ModelStore
from classifier.topics.training import train_from_file
from tests.support import load_project_data, write_csv

ROWS = load_project_data()
EVAL = ROWS[1::40]  # odd rows: never among the (even) training rows below
BIG = ROWS[::24]


def _first_per_topic(rows, n):
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        if seen.get(row["topic"], 0) < n:
            seen[row["topic"]] = seen.get(row["topic"], 0) + 1
            out.append(row)
    return out


SMALL = _first_per_topic(ROWS[6::12], 12)  # 60 rows of other data, 12 per topic


def _csv(path, rows):
    return write_csv(path, [(r["headline"], r["topic"]) for r in rows])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gate")
    return {
        "eval": _csv(folder / "eval.csv", EVAL),
        "big": _csv(folder / "big.csv", BIG),
        "small": _csv(folder / "small.csv", SMALL),
        "leaky": _csv(folder / "leaky.csv", SMALL + EVAL),
    }


def _train(path, store, embedder, eval_file=None, **options):
    gate = PromotionGate(eval_file=eval_file, **options)
    result, _ = train_from_file(str(path), store, embedder, gate=gate)
    return result


@pytest.fixture(scope="module")
def big_current(tmp_path_factory, files):
    """A store whose current model was trained on the big file (and scored on eval.csv)."""
    from tests.support import FakeEmbedder

    store = ModelStore(tmp_path_factory.mktemp("store") / "models")
    result = _train(files["big"], store, FakeEmbedder(), files["eval"])
    assert result.promoted and result.reason == "no current model"
    return store, result


def test_a_model_trained_on_other_data_that_scores_worse_is_kept_not_promoted(
    tmp_path, files, big_current, fake_embedder
):
    """Before the gate, 'trained on different data than current' promoted anything."""
    store, first = big_current
    result = _train(files["small"], store, fake_embedder, files["eval"])
    assert not result.promoted
    assert store.current_version() == first.version
    assert result.version in store.versions()  # saved all the same
    new, old = result.manifest["evaluation"], first.manifest["evaluation"]
    assert new["macro_f1"] < old["macro_f1"] - 0.005
    assert "rule 1 (macro-F1)" in result.reason
    assert f"{new['macro_f1']:.4f} on eval.csv" in result.reason
    assert f"{old['macro_f1']:.4f}" in result.reason
    assert f"headline-topics promote {result.version}" in result.reason


def test_the_evaluation_is_recorded_in_the_manifest(files, big_current):
    _, first = big_current
    evaluation = first.manifest["evaluation"]
    assert evaluation["file"] == "eval.csv"
    assert evaluation["sha256"] == load_eval_set(files["eval"]).sha256
    assert evaluation["rows"] == len(EVAL) and evaluation["overlap_with_training"] == 0
    assert set(evaluation["per_topic_f1"]) == set(config.DEFAULT_TOPICS)
    assert 0 < evaluation["macro_f1"] <= 1


def test_a_model_that_scores_better_on_the_evaluation_file_is_promoted(
    tmp_path, files, fake_embedder
):
    store = ModelStore(tmp_path / "models")
    assert _train(files["small"], store, fake_embedder, files["eval"]).promoted
    result = _train(files["big"], store, fake_embedder, files["eval"])
    assert result.promoted and store.current_version() == result.version
    assert "on eval.csv vs current" in result.reason


def test_the_current_models_score_is_taken_from_its_manifest_when_the_file_is_the_same(
    tmp_path, files, big_current, fake_embedder, monkeypatch
):
    store, _ = big_current

    def no_load(*args, **kwargs):
        raise AssertionError("the current model was scored again")

    monkeypatch.setattr(ModelStore, "load", no_load)
    assert "rule 1" in _train(files["small"], store, fake_embedder, files["eval"]).reason
    # another file (another hash): the current model is scored on it afresh
    other = _csv(tmp_path / "other.csv", ROWS[3::80])
    with pytest.raises(AssertionError, match="scored again"):
        _train(files["small"], store, fake_embedder, other)


@pytest.mark.parametrize(
    "new_f1, topics, blocked",
    [
        (0.797, {"a": 0.80, "b": 0.79}, []),  # within the tolerance and the topic margin
        (0.790, {"a": 0.80, "b": 0.78}, ["rule 1 (macro-F1): 0.7900 on e.csv is worse than "]),
        (0.800, {"a": 0.91, "b": 0.69}, ["rule 2 (per-topic F1): on e.csv, b F1 0.6900 against"]),
    ],
)
def test_both_rules_name_their_figures(new_f1, topics, blocked):
    old = {"file": "e.csv", "macro_f1": 0.8, "per_topic_f1": {"a": 0.8, "b": 0.8}}
    new = {"file": "e.csv", "macro_f1": new_f1, "per_topic_f1": topics}
    found = compare(new, old, "v1", PromotionGate())
    assert len(found) == len(blocked)
    for message, start in zip(found, blocked, strict=True):
        assert message.startswith(start) and "0.8000" in message


def test_the_topic_margin_is_configurable():
    old = {"file": "e.csv", "macro_f1": 0.8, "per_topic_f1": {"a": 0.8, "b": 0.8}}
    new = {"file": "e.csv", "macro_f1": 0.8, "per_topic_f1": {"a": 0.91, "b": 0.69}}
    assert compare(new, old, "v1", PromotionGate(max_topic_drop=0.2)) == []
    assert compare(new, old, "v1", PromotionGate(max_topic_drop=0.1))


@pytest.mark.parametrize(
    "rows, listed",
    [
        ([("Tariffs rise", "trade"), ("Flu spreads", "health")], "health 1, trade 1"),
        (
            [(r["headline"], r["topic"]) for r in SMALL] + [("Comet seen over Oslo", "space")],
            "space 1",
        ),
    ],
)
def test_a_file_too_small_to_cross_validate_is_not_promoted_even_into_an_empty_store(
    tmp_path, files, fake_embedder, rows, listed
):
    store = ModelStore(tmp_path / "models")
    path = write_csv(tmp_path / "tiny.csv", rows)
    result = _train(path, store, fake_embedder, files["eval"])
    assert not result.promoted and store.current_version() is None
    assert store.versions() == [result.version]
    assert f"too few examples to cross-validate and calibrate every topic ({listed};" in (
        result.reason
    )


def test_where_the_default_evaluation_file_is_not_installed_other_data_is_not_promoted(
    tmp_path, files, big_current, fake_embedder, monkeypatch, caplog
):
    """A wheel has no data/: nothing can judge a model trained on other data, so it waits."""
    store, first = big_current
    monkeypatch.setattr(config, "default_eval_file", lambda: tmp_path / "absent.csv")
    with caplog.at_level(logging.WARNING, logger="classifier.topics.gate"):
        result = _train(files["small"], store, fake_embedder)
    assert "is not installed here" in caplog.text and "--eval-file" in caplog.text
    assert not result.promoted and store.current_version() == first.version
    assert "trained on other data than current" in result.reason
    assert "pass --eval-file FILE" in result.reason
    assert "not installed" in result.manifest["evaluation"]["skipped"]
    # the first model of a store needs no comparison
    empty = ModelStore(tmp_path / "models")
    assert _train(files["small"], empty, fake_embedder).promoted


def test_the_bundled_evaluation_file_is_the_default(monkeypatch):
    gate = PromotionGate().load()
    assert gate.eval_set.name == "multi_dev.csv" and len(gate.eval_set.texts) == 340
    assert set(gate.eval_set.labels) == set(config.DEFAULT_TOPICS)
    # never trained on: none of its headlines is in the shipped training data
    assert gate.eval_set.overlap([r["headline"] for r in ROWS]) == 0


def test_an_evaluation_file_the_model_was_trained_on_cannot_judge_it(
    tmp_path, files, big_current, fake_embedder, caplog
):
    store, first = big_current
    with caplog.at_level(logging.WARNING, logger="classifier.topics.training"):
        result = _train(files["leaky"], store, fake_embedder, files["eval"])
    assert f"{len(EVAL)} of the {len(EVAL)} headlines of the evaluation file eval.csv" in (
        caplog.text
    )
    assert not result.promoted and store.current_version() == first.version
    assert "are in its training data" in result.reason
    assert result.manifest["evaluation"]["overlap_with_training"] == len(EVAL)


def test_force_promote_overrides_the_gate_and_says_so(tmp_path, files, fake_embedder):
    store = ModelStore(tmp_path / "models")
    path = write_csv(tmp_path / "two.csv", [("Tariffs rise", "trade"), ("Flu spreads", "health")])
    result, _ = train_from_file(
        str(path), store, fake_embedder, promote="always", gate=PromotionGate(files["eval"])
    )
    assert result.promoted and store.current_version() == result.version
    assert result.reason.startswith("promotion forced over the gate's refusal: too few")


def test_a_multi_topic_evaluation_file_is_scored_on_topic_lists(tmp_path, fake_embedder):
    """On rows with two right topics, the primary one is a coin toss: score what users see."""
    from classifier.topics.gate import score
    from classifier.topics.training import train_model

    rows = ROWS[::12]
    model, _ = train_model(
        [r["headline"] for r in rows],
        [r["topic"] for r in rows],
        fake_embedder,
        topics=[r["topics"].split(";") for r in rows],
        head_params={"calibration_folds": 3},
    )
    multi = ROWS[5::40]
    path = write_csv(
        tmp_path / "multi.csv",
        [(r["headline"], r["topics"]) for r in multi]
        + [("Tariffs and migrants", "trade;immigration")],
        header=("headline", "topics"),
    )
    record = score(model, load_eval_set(path))
    assert record["measure"] == "topic lists" and record["label_column"] == "topics"
    assert 0 <= record["example_f1"] <= 1
    per_topic = record["per_topic_f1"]
    assert record["macro_f1"] == pytest.approx(sum(per_topic.values()) / len(per_topic), abs=1e-4)
    single = score(model, load_eval_set(_csv(tmp_path / "single.csv", multi)))
    assert single["measure"] == "top topic" and "example_f1" not in single
