"""``train DATA --feedback`` and ``--add FILE``: corrections override DATA's rows, the manifest
records them, the service then counts only newer corrections as untrained, and a retrain takes
its embeddings from the cache."""

from __future__ import annotations

import logging

import pytest

from classifier.feedback.store import FeedbackStore
from classifier.service.state import EXTENSION
from classifier.topics.data import read_labelled
from classifier.topics.store import ModelStore
from tests.service.support import make_app
from tests.support import write_csv

pytestmark = pytest.mark.slow
LABEL_TOKEN = "cli-label-token-0123456789"


def test_train_with_feedback_and_add_files_overrides_rows_and_records_them(
    run, trained, small_labelled, tmp_path, real_embedder, caplog
):
    data = read_labelled(small_labelled)
    first, second = data.texts[0], data.texts[1]
    new_topic = next(t for t in ("trade", "health") if t != data.labels[0])
    db = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(db)
    store.add(first.upper(), [new_topic], labeller="ana", model="v0", model_topics=[data.labels[0]])
    fix = write_csv(
        tmp_path / "fix.csv", [(second, "other"), ("Brand new corrected headline", "trade")]
    )
    cache = tmp_path / "cache"
    argv = ["train", str(small_labelled), "--models-dir", str(trained), "--no-promote"]
    argv += ["--add", str(fix), "--feedback", "--feedback-db", str(db), "--cache", str(cache)]
    code, out, err = run(*argv)
    assert code == 0, err
    assert "corrections: 3 trained on, replacing 2 row(s) of small.csv; 0 skipped" in out
    models = ModelStore(trained)
    version = out.split()[1]
    manifest = models.read_manifest(version)
    corrections = manifest["corrections"]
    assert corrections["feedback"]["count"] == 1 and corrections["feedback"]["newest_id"] == 1
    assert corrections["feedback"]["source"] == "feedback.sqlite3"
    assert corrections["added"][0]["file"] == "fix.csv" and corrections["added"][0]["rows"] == 2
    assert manifest["data"]["rows_used"] == 200 + 1

    # the service answering with this model counts only corrections newer than it
    models.promote(version)
    app = make_app(trained, real_embedder, label_token=LABEL_TOKEN, feedback_db=db)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {LABEL_TOKEN}"}
    assert client.get("/v1/feedback/summary", headers=auth).get_json()["untrained"] == 0
    client.post("/v1/feedback", json={"headline": "Another one", "topics": ["trade"]}, headers=auth)
    summary = client.get("/v1/feedback/summary", headers=auth).get_json()
    assert summary["untrained"] == 1 and summary["trained_through"] == 1
    app.extensions[EXTENSION].batcher.close()

    # a retrain finds every embedding in the cache but the new correction's
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="classifier.encoders.cached"):
        code, out, err = run(*argv)
    assert code == 0, err
    said = [r.getMessage() for r in caplog.records if r.name == "classifier.encoders.cached"]
    # only the correction made through the service since the first run is new
    assert said[0].endswith(" 1 encoded"), said
    assert said[1:] and all(message.endswith(" 0 encoded") for message in said[1:]), said


def test_bad_correction_options_fail_before_any_work(run, trained, small_labelled, tmp_path):
    before = ModelStore(trained).versions()
    base = ["train", str(small_labelled), "--models-dir", str(trained)]
    code, _, err = run(*base, "--feedback-db", str(tmp_path / "x.sqlite3"))
    assert code == 2 and "add --feedback" in err
    code, _, err = run(*base, "--feedback", "--feedback-db", str(tmp_path / "none.sqlite3"))
    assert code == 2 and "does not exist" in err
    code, _, err = run(*base, "--add", str(tmp_path / "nope.csv"))
    assert code == 2 and "nope.csv" in err
    code, _, err = run(*base, "--cache", str(tmp_path), "--no-cache")
    assert code == 2 and "not allowed with" in err
    assert ModelStore(trained).versions() == before
