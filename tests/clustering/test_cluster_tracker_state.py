"""A StoryTracker's state on disk: save and load are a pair, and a damaged state is refused."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from classifier.clustering import StoryTracker
from classifier.clustering.tracker_state import STATE_ARRAYS, STATE_JSON
from classifier.errors import DataError
from classifier.files import sha256_file
from tests.conftest import FakeEmbedder

TEMPLATES = ("tariff steel import duty rises {}", "measles vaccine outbreak school closes {}")
TEXTS = [TEMPLATES[i % 2].format(f"w{i % 9}") for i in range(80)]


def test_a_loaded_tracker_carries_on_exactly_as_the_saved_one(tmp_path):
    embedder = FakeEmbedder()
    times = [f"2003-01-{1 + i % 28:02d}" for i in range(len(TEXTS))]
    kept = StoryTracker(embedder, quiet=5)
    kept.track(TEXTS[:50], times[:50])
    kept.save(tmp_path / "state")
    loaded = StoryTracker.load(tmp_path / "state", encoder=embedder)
    assert loaded.state()[0] == kept.state()[0]
    a, b = kept.track(TEXTS[50:], times[50:]), loaded.track(TEXTS[50:], times[50:])
    assert a.story.tolist() == b.story.tolist() and a.wire_group.tolist() == b.wire_group.tolist()
    # an empty tracker round-trips too
    StoryTracker(quiet=3).save(tmp_path / "empty")
    assert StoryTracker.load(tmp_path / "empty").quiet_ == 3


def test_the_state_is_json_and_arrays_without_pickle(tmp_path):
    tracker = StoryTracker(FakeEmbedder())
    tracker.track(TEXTS)
    tracker.save(tmp_path / "s")
    meta = json.loads((tmp_path / "s" / STATE_JSON).read_text())
    assert meta["format"] == "headline-topics story tracker" and meta["next_story_"] >= 2
    with np.load(tmp_path / "s" / STATE_ARRAYS, allow_pickle=False) as arrays:
        assert arrays["sums"].shape == (tracker.n_open, 64)


def _rewrite_arrays(folder, **changes):
    with np.load(folder / STATE_ARRAYS, allow_pickle=True) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changes)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    (folder / STATE_ARRAYS).write_bytes(buffer.getvalue())
    meta = json.loads((folder / STATE_JSON).read_text())
    meta["arrays"]["sha256"] = sha256_file(folder / STATE_ARRAYS)
    (folder / STATE_JSON).write_text(json.dumps(meta))


def _rewrite_meta(folder, **changes):
    meta = json.loads((folder / STATE_JSON).read_text())
    meta.update(changes)
    (folder / STATE_JSON).write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / STATE_JSON).unlink(), "not a story tracker state: no tracker.json"),
        (lambda f: (f / STATE_JSON).write_text("{"), "not valid JSON"),
        (lambda f: (f / STATE_JSON).write_text('{"format": "x"}'), "is not a story tracker state"),
        (lambda f: (f / STATE_ARRAYS).write_bytes(b"changed"), "does not match tracker.json"),
        (lambda f: _rewrite_meta(f, mode_="weeks"), "mode_ must be rows, times or null"),
        (lambda f: _rewrite_meta(f, next_story_=-1), "next_story_ must be a whole number"),
        (lambda f: _rewrite_meta(f, clock_="now"), "clock_ must be a number"),
        (lambda f: _rewrite_arrays(f, counts=np.ones(9, dtype=np.int64)), "counts has shape"),
        (lambda f: _rewrite_arrays(f, ids=np.array([object()] * 2)), "cannot be read"),
        (lambda f: _rewrite_arrays(f, wire_story=np.full(5, 99)), "wire_story has shape|points at"),
    ],
)
def test_a_damaged_or_foreign_state_is_refused_by_name(tmp_path, damage, message):
    tracker = StoryTracker(FakeEmbedder())
    tracker.track(TEXTS[:6])
    folder = tracker.save(tmp_path / "state")
    damage(folder)
    with pytest.raises(DataError, match=message):
        StoryTracker.load(folder)
