"""StoryTracker bookkeeping on made-up vectors: joining, opening, closing, ids, memory."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from classifier.clustering import HeadlineClusterer, StoryTracker
from tests.conftest import FakeEmbedder


def _unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _stream(n_stories: int, per_story: int, *, dim: int = 32, seed: int = 0, spread: float = 0.35):
    """Rows of ``n_stories`` stories, each told ``per_story`` times in a row, noisy around a centre."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng.normal(size=(n_stories, dim)))
    rows, truth = [], []
    for s in range(n_stories):
        for _ in range(per_story):
            rows.append(centres[s] + rng.normal(size=dim) * spread / np.sqrt(dim))
            truth.append(s)
    return _unit(rows), np.array(truth)


def test_a_headline_joins_a_story_exactly_when_it_is_on_average_close_enough():
    """The test average linkage applies: mean cosine to the members >= 1 - cut."""
    e = np.eye(4)
    a, b = e[0], _unit(e[0] + e[1] * 0.4)
    members = np.stack([a, b])
    mean_sim = lambda x: float((members @ x).mean())  # noqa: E731
    near = _unit(e[0] + e[2] * 1.0)  # cos 0.707 with a, ~0.66 with b
    far = _unit(e[0] * 0.55 + e[3])  # on average under 0.5
    assert mean_sim(near) >= 0.5 > mean_sim(far)
    ids = StoryTracker().update(embeddings=np.stack([a, b, near, far]))
    assert ids.tolist() == [0, 0, 0, 1]


def test_a_story_that_starts_late_is_found_where_a_sample_fit_misses_it():
    early, _ = _stream(20, 25, seed=1)
    late, _ = _stream(1, 6, seed=99)
    stream = np.vstack([early, late])
    ids = StoryTracker().update(embeddings=stream)
    assert len(set(ids[-6:])) == 1 and ids[-1] not in ids[:-6]
    # fitted on a sample that holds none of the late rows, assigning never starts a story
    fit = HeadlineClusterer(sample_size=200).fit(early[::2])
    assert (fit.assign(late) == -1).all()


def test_the_ids_do_not_depend_on_how_the_stream_is_cut_into_updates():
    rows, truth = _stream(12, 30, seed=2)
    whole = StoryTracker(quiet=100).track(embeddings=rows)
    tracker = StoryTracker(quiet=100)
    parts = [tracker.track(embeddings=rows[s : s + 37]) for s in range(0, len(rows), 37)]
    for name in ("story", "wire_group", "wire_count"):
        assert (
            np.concatenate([getattr(p, name) for p in parts]).tolist()
            == getattr(whole, name).tolist()
        )
    # and each made-up story is one tracked story
    assert len(set(zip(truth.tolist(), whole.story.tolist(), strict=True))) == 12


def test_a_story_closes_after_the_quiet_period_in_rows():
    story, _ = _stream(1, 3, seed=3)
    filler, _ = _stream(10, 1, seed=4)
    stream = np.vstack([story[:2], filler, story[2:]])
    assert StoryTracker(quiet=20).update(embeddings=stream)[-1] == 0
    reopened = StoryTracker(quiet=5).update(embeddings=stream)
    assert reopened[-1] not in reopened[:-1]  # ten rows without news: a new story


def test_with_times_a_story_closes_after_the_quiet_period_in_their_unit_and_the_clock_never_runs_back(
    caplog,
):
    rows, _ = _stream(1, 4, seed=5)
    tracker = StoryTracker(quiet=30)
    assert tracker.update(embeddings=rows[:2], times=["2003-01-01", "2003-01-20"]).tolist() == [
        0,
        0,
    ]
    assert tracker.update(embeddings=rows[2:3], times=["2003-03-01"]).tolist() == [1]
    with caplog.at_level(logging.WARNING):
        late = tracker.update(embeddings=rows[3:], times=["2002-06-01"])
    assert late.tolist() == [1] and tracker.backwards_ == 1  # taken at the latest time seen
    assert "tracked at the latest time seen" in caplog.text
    assert StoryTracker().update(embeddings=rows[:2], times=[0.0, 29.0]).tolist() == [0, 0]
    assert StoryTracker().quiet_ == 10_000 and tracker.quiet_ == 30


def test_near_identical_headlines_form_a_wire_group_with_a_running_count():
    embedder = FakeEmbedder()
    texts = [
        "senate passes china trade bill after long debate",
        "senate passes china trade bill after long debate today",
        "measles cases climb in texas schools",
        "senate passes china trade bill after long debate",
    ]
    update = StoryTracker(embedder).track(texts)
    assert update.wire_group.tolist() == [0, 0, 1, 0]
    assert update.wire_count.tolist() == [1, 2, 1, 3]
    assert update.story[0] == update.story[1] == update.story[3] != update.story[2]
    loose = StoryTracker(embedder, wire_similarity=1.0).track(texts)
    assert loose.wire_group.tolist() == [0, 1, 2, 0]  # only the exact repeat


def test_memory_is_bounded_by_the_open_stories_not_by_the_rows_seen():
    rows, _ = _stream(400, 50, dim=16, seed=6)  # 20,000 rows, a new story every 50 rows
    tracker = StoryTracker(quiet=200)
    sizes = []
    for start in range(0, len(rows), 2000):
        tracker.update(embeddings=rows[start : start + 2000])
        sizes.append(tracker.nbytes)
    assert tracker.rows_seen_ == 20_000 and tracker.next_story_ > 300
    assert tracker.n_open <= 201 and tracker.n_open_wire <= 201  # one per row of the last 200
    assert max(sizes[2:]) <= 2 * min(sizes[2:])  # flat while the rows grew tenfold
    assert sizes[-1] < 200 * 16 * 8 * 8  # a few arrays of the open ones, with room to grow


def test_bad_calls_are_refused_with_a_reason():
    rows, _ = _stream(1, 2, seed=7)
    with pytest.raises(ValueError, match="no encoder"):
        StoryTracker().update(["a headline"])
    tracker = StoryTracker()
    tracker.update(embeddings=rows)
    with pytest.raises(ValueError, match="counts rows: pass no times"):
        tracker.update(embeddings=rows, times=[1, 2])
    with pytest.raises(ValueError, match="3 dimensions; the tracker holds 32"):
        tracker.update(embeddings=np.ones((1, 3)))
    with pytest.raises(ValueError, match="2 headlines but 1 times"):
        StoryTracker().update(embeddings=rows, times=[1])
    for bad in ({"distance_threshold": 0}, {"quiet": -1}, {"wire_similarity": 2}):
        with pytest.raises(ValueError):
            StoryTracker(**bad)
    assert StoryTracker().update(embeddings=np.zeros((0, 4))).tolist() == []


def test_an_update_refused_for_a_bad_time_changes_nothing():
    from classifier.clustering.times import BadTime

    rows, _ = _stream(1, 2, seed=8)
    tracker = StoryTracker()
    with pytest.raises(BadTime, match="'soon' is not a date"):
        tracker.update(embeddings=rows, times=["2003-01-01", "soon"])
    assert tracker.mode_ is None and tracker.rows_seen_ == 0
    assert tracker.update(embeddings=rows).tolist() == [0, 0]  # file order is still open to it
