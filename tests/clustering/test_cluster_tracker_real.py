"""StoryTracker with the real embedding model (slow): late stories, stable ids, wire copies."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.clustering import HeadlineClusterer, StoryTracker
from tests.conftest import load_project_data

EARLY = [
    "Judge blocks end of TPS for Haitians",
    "Earthquake kills hundreds in Turkey",
    "Yankees sign veteran pitcher to one-year deal",
    "Appeals court weighs Haitian TPS ruling",
    "Turkey earthquake death toll rises to 500",
    "New exhibit of Dutch masters opens at museum",
    "Court halts bid to end Haitian protected status",
    "Turkish earthquake death toll climbs as rescuers search rubble",
    "Apple unveils thinner laptop with longer battery life",
    "Heat wave grips southern Europe",
]
LATE = [
    "Volcano erupts near Icelandic fishing town",
    "Iceland evacuates town as volcano erupts",
    "Lava from Icelandic volcano reaches homes in Grindavik",
]
WIRE = [
    "Fed raises interest rates by a quarter point",
    "Federal Reserve lifts rates 0.25%",
    "Fed raises interest rates by a quarter-point",
    "The Fed raises interest rates by a quarter point",
    "Fed signals more rate hikes ahead",
]


@pytest.mark.slow
def test_a_story_that_starts_late_in_the_stream_is_found_as_a_whole_fit_finds_it(real_embedder):
    stream = EARLY + ["Chess prodigy wins national title at age 12"] + LATE
    vectors = real_embedder.encode(stream)
    ids = StoryTracker(real_embedder).update(stream)
    late = ids[-3:]
    assert len(set(late)) == 1 and late[0] not in ids[:-3]
    assert ids[0] == ids[3] == ids[6] and ids[1] == ids[4] == ids[7] != ids[0]
    # the whole fit agrees on every story of two or more headlines
    whole = HeadlineClusterer().fit(vectors, texts=stream).labels_
    for i in range(len(stream)):
        for j in range(i):
            if whole[i] >= 0 and whole[j] >= 0:
                assert (whole[i] == whole[j]) == (ids[i] == ids[j]), (stream[i], stream[j])
    # fitted on the early headlines and assigning the rest, the late story is lost
    sampled = HeadlineClusterer().fit(vectors[: len(EARLY)])
    assert (sampled.assign(vectors[-3:]) == -1).all()


@pytest.mark.slow
def test_ids_stay_the_same_when_a_later_file_is_appended_and_on_a_rerun(real_embedder, tmp_path):
    stream = EARLY + WIRE + LATE
    times = [f"2024-01-{1 + i:02d}" for i in range(len(stream))]
    whole = StoryTracker(real_embedder, quiet=30).track(stream, times)
    first = StoryTracker(real_embedder, quiet=30)
    head = first.track(stream[:9], times[:9])
    first.save(tmp_path / "state")
    tail = StoryTracker.load(tmp_path / "state", encoder=real_embedder).track(stream[9:], times[9:])
    assert np.concatenate([head.story, tail.story]).tolist() == whole.story.tolist()
    assert np.concatenate([head.wire_group, tail.wire_group]).tolist() == whole.wire_group.tolist()
    rerun = StoryTracker(real_embedder, quiet=30).track(stream, times)
    assert rerun.story.tolist() == whole.story.tolist()


@pytest.mark.slow
def test_reworded_wire_copies_share_a_group_and_other_reports_only_the_story(real_embedder):
    update = StoryTracker(real_embedder).track([t.lower() for t in WIRE])
    assert len(set(update.story)) == 1  # one event
    group = update.wire_group
    assert group[0] == group[2] == group[3] and len({group[0], group[1], group[4]}) == 3
    assert update.wire_count.tolist() == [1, 1, 2, 3, 1]


@pytest.mark.slow
def test_memory_stays_bounded_by_the_open_stories_on_real_headlines(real_embedder):
    texts = [row["headline"] for row in load_project_data()[:600]]
    vectors = real_embedder.encode(texts)
    tracker = StoryTracker(quiet=150)
    sizes = []
    for _ in range(5):  # 3,000 rows: the same headlines again, as a long archive repeats
        for start in range(0, len(vectors), 200):
            tracker.update(embeddings=vectors[start : start + 200])
        sizes.append((tracker.nbytes, tracker.n_open, tracker.n_open_wire))
    assert tracker.rows_seen_ == 3000 and tracker.next_story_ > 300
    assert all(n_open <= 151 and n_wire <= 151 for _, n_open, n_wire in sizes)  # rows t-150..t
    assert max(size for size, _, _ in sizes) <= 2 * min(size for size, _, _ in sizes)
