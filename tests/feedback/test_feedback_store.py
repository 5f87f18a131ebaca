"""The feedback store: history and latest per headline, the checks of a correction, and
durability: writers killed with SIGKILL mid-stream and several processes at once lose no
acknowledged correction and leave nothing half-written."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from classifier.feedback.store import (
    CorrectionError,
    FeedbackStore,
    check_correction,
    corrections_record,
    default_path,
    path_from_env,
)
from tests.support import ROOT

LABELS = ["geopolitics", "health", "immigration", "other", "trade"]

# A writer process: stores corrections as fast as it can and prints each id only after add()
# returned, i.e. after the commit: what it printed is what was acknowledged.
WRITER = """
import sys
from classifier.feedback.store import FeedbackStore
store = FeedbackStore(sys.argv[1])
name, count = sys.argv[2], int(sys.argv[3])
for i in range(count):
    headline = f"{name} headline {i} " + "x" * (i % 50)
    stored, _ = store.add(headline, ["trade", "health"], note=f"{name}:{i}:{len(headline)}",
                          labeller=name, model="v1", model_topics=["other"])
    print(stored.id, flush=True)
"""


@pytest.fixture
def store(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    yield store
    store.close()


def test_a_headline_corrected_twice_keeps_the_latest_and_the_history(store):
    first, before = store.add("Tariffs rise", ["trade"], labeller="ana", model="v1")
    other, _ = store.add("Measles returns", ["health"])
    second, replaced = store.add("  TARIFFS   rise ", ["trade", "geopolitics"], note="both")
    assert before is None and replaced == first
    assert [c.id for c in store.latest()] == [other.id, second.id]
    assert [c.id for c in store.history("tariffs rise")] == [first.id, second.id]
    assert [c.id for c in store.history()] == [first.id, other.id, second.id]
    assert store.latest()[1].topics == ["trade", "geopolitics"] and store.latest()[1].note == "both"


def test_the_summary_counts_headlines_not_yet_trained_on(store):
    for headline in ("a", "b", "c"):
        store.add(headline, ["trade"])
    summary = store.summary()
    assert (summary.corrections, summary.headlines, summary.untrained) == (3, 3, 3)
    assert store.summary(trained_through=2).untrained == 1
    store.add("a", ["health"])  # corrected again after the training run
    assert store.summary(trained_through=3).untrained == 1
    assert store.summary(trained_through=4).untrained == 0
    assert store.summary().newest_id == 4


def test_an_empty_store_has_an_empty_summary(store):
    assert store.summary().to_dict() == {
        "corrections": 0,
        "headlines": 0,
        "newest_id": None,
        "newest": None,
        "untrained": 0,
    }


@pytest.mark.parametrize(
    ("headline", "topics", "extra", "field"),
    [
        ("ok", ["sport"], {}, "topics[0]"),
        ("ok", [], {}, "topics"),
        ("ok", None, {}, "topics"),
        ("ok", ["trade", "trade"], {}, "topics"),
        ("ok", ["other", "trade"], {}, "topics"),
        ("   ", ["trade"], {}, "headline"),
        (None, ["trade"], {}, "headline"),
        ("x" * 11, ["trade"], {"max_chars": 10}, "headline"),
        ("ok", ["trade"], {"note": "n" * 2001}, "note"),
        ("ok", ["trade"], {"labeller": 5}, "labeller"),
        ("ok", ["trade"], {"note": "\udc80"}, "note"),
    ],
)
def test_check_correction_names_the_bad_part(headline, topics, extra, field):
    with pytest.raises(CorrectionError) as info:
        check_correction(headline, topics, labels=LABELS, none_label="other", **extra)
    assert info.value.field == field


def test_check_correction_passes_a_good_one():
    assert check_correction("ok", ["trade", "health"], labels=LABELS, none_label="other") == (
        "ok",
        ["trade", "health"],
    )
    assert check_correction("ok", ["other"], labels=LABELS, none_label="other")[1] == ["other"]


def test_the_manifest_record_names_count_hash_and_newest(store):
    a, _ = store.add("a", ["trade"])
    b, _ = store.add("b", ["health"])
    record = corrections_record(store.latest(), "feedback.sqlite3")
    assert record["count"] == 2 and record["newest_id"] == b.id and record["newest"] == b.created
    assert record["sha256"] != corrections_record([a], "x")["sha256"]
    assert corrections_record([], "x")["newest_id"] is None


def test_the_default_path_is_in_the_store_and_the_setting_overrides_it(tmp_path, monkeypatch):
    monkeypatch.delenv("HEADLINE_TOPICS_FEEDBACK_DB", raising=False)
    assert default_path(tmp_path) == tmp_path / "feedback.sqlite3"
    assert path_from_env(tmp_path) == tmp_path / "feedback.sqlite3"
    monkeypatch.setenv("HEADLINE_TOPICS_FEEDBACK_DB", str(tmp_path / "elsewhere.db"))
    assert path_from_env(tmp_path) == tmp_path / "elsewhere.db"


def test_a_file_that_is_no_database_is_a_clear_error(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(OSError, match="not usable"):
        FeedbackStore(path).summary()


def _writer(path: Path, name: str, count: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), name, str(count)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _check_whole(path: Path) -> dict[int, dict]:
    """Every row of the file, each checked to be whole: its fields agree with one another."""
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = {}
    for id_, headline, topics, note, labeller, model, model_topics in db.execute(
        "SELECT id, headline, topics, note, labeller, model, model_topics FROM correction"
    ):
        name, i, length = note.split(":")
        assert labeller == name and len(headline) == int(length)
        assert headline.startswith(f"{name} headline {i} ")
        assert json.loads(topics) == ["trade", "health"] and json.loads(model_topics) == ["other"]
        assert model == "v1"
        rows[id_] = {"name": name, "i": int(i)}
    db.close()
    return rows


@pytest.mark.slow
def test_writers_killed_at_any_moment_lose_no_acknowledged_correction(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path).summary()  # create it, as the service does at start
    acknowledged: set[int] = set()
    for round_ in range(4):
        writer = _writer(path, f"w{round_}", 100_000)
        deadline = time.monotonic() + 0.4 + 0.3 * round_
        ids = []
        while time.monotonic() < deadline:
            line = writer.stdout.readline()
            if not line:
                break
            ids.append(int(line))
        writer.send_signal(signal.SIGKILL)
        rest, _ = writer.communicate(timeout=30)
        ids += [int(line) for line in rest.split()]  # printed after the commit, before the kill
        assert writer.returncode == -signal.SIGKILL
        assert ids, "the writer should have stored some corrections before it was killed"
        acknowledged.update(ids)
    rows = _check_whole(path)
    assert acknowledged <= set(rows)
    assert FeedbackStore(path).summary().corrections == len(rows)


@pytest.mark.slow
def test_several_processes_writing_at_once_keep_every_correction(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    count = 150
    writers = [_writer(path, f"p{n}", count) for n in range(4)]
    outputs = [w.communicate(timeout=300)[0] for w in writers]
    assert all(w.returncode == 0 for w in writers)
    ids = [int(line) for out in outputs for line in out.split()]
    assert len(ids) == len(set(ids)) == 4 * count
    rows = _check_whole(path)
    assert set(rows) == set(ids)
    for n in range(4):
        assert sorted(r["i"] for r in rows.values() if r["name"] == f"p{n}") == list(range(count))
