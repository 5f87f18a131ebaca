"""The headline-topics command end to end with the real encoder (loaded once per session)."""

from __future__ import annotations

import io
import json

import pytest

from classifier import cli
from classifier.topics.store import ModelStore
from tests.conftest import ROOT, write_csv


@pytest.fixture
def run(monkeypatch, real_embedder, capsys):
    """Call the CLI in-process with the session's encoder; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(cli, "make_embedder", lambda *a, **k: real_embedder)
    monkeypatch.setattr(cli, "embedder_for", lambda *a, **k: real_embedder)

    def _run(*argv: str, stdin: str | None = None):
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


@pytest.fixture(scope="module")
def trained(tmp_path_factory, small_labelled, real_embedder):
    """A store with one model trained by the CLI on 200 of our headlines."""
    import classifier.cli as module

    store = tmp_path_factory.mktemp("models")
    original = module.make_embedder
    module.make_embedder = lambda *a, **k: real_embedder
    try:
        assert module.main(["train", str(small_labelled), "--models-dir", str(store)]) == 0
    finally:
        module.make_embedder = original
    return store


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


def test_predict_arguments_and_stdin(run, trained):
    code, out, _ = run(
        "predict", "--models-dir", str(trained), "Senate raises tariffs on imported steel"
    )
    assert code == 0
    answer = json.loads(out)
    assert answer["topic"] == "trade"
    assert set(answer) >= {"headline", "topic", "confidence", "scores", "topics", "model"}
    code, out, err = run(
        "predict",
        "--models-dir",
        str(trained),
        stdin="Hospitals report measles outbreak as vaccination rates fall\n   \nBorder agents detain migrants\n",
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # one line could not be classified
    assert [line.get("topic") for line in lines] == ["health", None, "immigration"]
    assert lines[1] == {"headline": "   ", "line": 2, "error": "empty or whitespace-only headline"}


def test_evaluate_json_reports_unknown_labels(run, trained, tmp_path):
    data = write_csv(
        tmp_path / "eval.csv",
        [
            ("Congress approves new trade pact with Mexico", "trade"),
            ("Hospitals brace for flu season surge", "health"),
            ("NATO leaders meet over missile defense", "geopolitics"),
            ("Yankees clinch pennant in extra innings", "other"),
            ("Volcano erupts near ski resort", "weather"),
            ("", "trade"),
        ],
    )
    code, out, _ = run("evaluate", str(data), "--models-dir", str(trained), "--json")
    assert code == 0
    result = json.loads(out)
    assert set(result) >= {"macro_f1", "accuracy", "per_class", "confusion_matrix", "ece"}
    assert result["per_class"]["trade"]["support"] == 1
    assert set(result["per_class"]["trade"]) == {"precision", "recall", "f1", "support"}
    assert result["unknown_labels"] == {"rows": 1, "labels": {"weather": 1}}
    assert result["n"] == 4 and len(result["rows_skipped"]) == 1
    code, out, _ = run("evaluate", str(data), "--models-dir", str(trained))
    assert "macro-F1" in out and "confusion matrix" in out and "weather" in out


def test_versions_promotion_and_rollback(run, trained, small_labelled):
    store = ModelStore(trained)
    first = store.current_version()
    code, out, _ = run("train", str(small_labelled), "--models-dir", str(trained), "--C", "0.01")
    assert code == 0 and "NOT promoted" in out and "worse than current" in out
    assert store.current_version() == first
    second = [v for v in store.versions() if v != first][0]
    code, out, _ = run("promote", second, "--models-dir", str(trained))
    assert code == 0 and store.current_version() == second
    code, out, _ = run("models", "--models-dir", str(trained))
    assert f"* {second}" in out and first in out
    code, _, _ = run("promote", first, "--models-dir", str(trained))
    assert store.current_version() == first


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


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "missing.csv"], "missing.csv: no such file"),
        (["evaluate", "missing.csv"], "missing.csv: no such file"),
        (["promote", "../../etc"], "invalid model version name"),
        (["predict", "--model", "v-nope", "x"], "'v-nope' not found"),
        (["train", "{bad_columns}"], "missing column(s) headline, topic"),
        (["train", "{one_label}"], "at least two"),
        (["train", "{data}", "--priors", "other=x"], "priors must look like"),
    ],
)
def test_bad_input_gives_one_clean_line(run, trained, tmp_path, argv, message):
    files = {
        "{bad_columns}": write_csv(tmp_path / "c.csv", [("a", "b")], header=("title", "label")),
        "{one_label}": write_csv(tmp_path / "o.csv", [("a b", "trade"), ("c d", "trade")]),
        "{data}": write_csv(tmp_path / "d.csv", [("a b", "trade"), ("c d", "health")]),
    }
    argv = [files.get(a, a) for a in argv]
    code, out, err = run(*map(str, argv), "--models-dir", str(trained))
    assert code == 2
    assert message in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_shipped_model_is_current_and_answers(real_embedder):
    store = ModelStore(ROOT / "models")
    model = store.load(embedder=real_embedder)
    assert model.labels == ["geopolitics", "health", "immigration", "other", "trade"]
    manifest = model.manifest
    assert manifest["data"]["source"].endswith("headlines.csv")
    cases = {
        "U.S. Imposes Steep Tariffs on Chinese Steel Imports": "trade",
        "Medicare Drug Benefit Costs Soar Past Estimates": "health",
        "Border Patrol Arrests of Migrants Hit Record": "immigration",
        "NATO Allies Agree to Expand Troop Presence in Baltics": "geopolitics",
        "Knicks Rally Late to Beat Celtics at the Garden": "other",
    }
    predictions = model.predict(list(cases))
    assert [p.topic for p in predictions] == list(cases.values())
    assert all(p.confidence > 0.5 for p in predictions)
