"""tag --clusters stories: every row tracked in file order, a time column, state for later files."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifier.clustering import StoryTracker
from classifier.errors import DataError
from classifier.tagging import normalise_headline, tag_file
from classifier.tagging.stories import StoryOptions
from tests.conftest import FakeEmbedder
from tests.tagging.support import archive_rows, read_rows, write_rows

STORIES = "stories"


def _story_rows(n: int) -> list[dict[str, str]]:
    rows = archive_rows(n)
    for i, row in enumerate(rows):
        row["source"] = f"{2000 + i // 100}"  # a year per hundred rows
    return rows


def test_every_good_row_gets_the_story_the_tracker_gives_it(tmp_path, model):
    rows = _story_rows(500)
    rows[7]["headline"] = ""
    source = write_rows(tmp_path / "in.csv", rows)
    summary = tag_file(source, tmp_path / "out.csv", model, clusters=STORIES, chunk_size=64)
    out = read_rows(tmp_path / "out.csv")
    assert list(out[0])[-3:] == ["story", "wire_group", "wire_count"] and "cluster" not in out[0]
    assert out[7]["story"] == out[7]["wire_group"] == out[7]["wire_count"] == ""
    good = [r for r in out if not r["tag_error"]]
    texts = [normalise_headline(r["headline"]) for r in good]
    expected = StoryTracker().track(embeddings=FakeEmbedder().encode(texts))
    assert [int(r["story"]) for r in good] == expected.story.tolist()
    assert [int(r["wire_group"]) for r in good] == expected.wire_group.tolist()
    assert [int(r["wire_count"]) for r in good] == expected.wire_count.tolist()
    # archive_rows repeats each headline with other case and spacing: the same wire group
    first = {}
    for row, text in zip(good, texts, strict=True):
        first.setdefault(text, row)
        assert row["wire_group"] == first[text]["wire_group"]
    assert summary.stats["stories_started"] == int(expected.story.max()) + 1
    # repeats were not embedded again for the tracker: one encoding per distinct headline
    assert model.embedder.texts == len(set(texts))
    state = StoryTracker.load(tmp_path / "out.csv.stories")
    assert state.next_story_ == summary.stats["stories_started"] and state.rows_seen_ == len(good)


def test_a_later_file_carries_on_the_open_stories_and_their_ids(tmp_path, fake_store):
    rows = _story_rows(400)
    whole = write_rows(tmp_path / "whole.jsonl", rows)
    first = write_rows(tmp_path / "first.jsonl", rows[:250])
    second = write_rows(tmp_path / "second.jsonl", rows[250:])

    def load():
        return fake_store.load("vfake-1", embedder=FakeEmbedder())

    tag_file(whole, tmp_path / "whole.out.jsonl", load(), clusters=STORIES, chunk_size=50)
    tag_file(first, tmp_path / "first.out.jsonl", load(), clusters=STORIES, chunk_size=50)
    carry = StoryOptions(start_from=tmp_path / "first.out.jsonl.stories")
    tag_file(
        second,
        tmp_path / "second.out.jsonl",
        load(),
        clusters=STORIES,
        stories=carry,
        chunk_size=70,
    )
    whole_ids = [(r["story"], r["wire_group"]) for r in read_rows(tmp_path / "whole.out.jsonl")]
    parts = read_rows(tmp_path / "first.out.jsonl") + read_rows(tmp_path / "second.out.jsonl")
    assert [(r["story"], r["wire_group"]) for r in parts] == whole_ids
    # a re-run of the same archive gives the same ids
    tag_file(whole, tmp_path / "again.jsonl", load(), clusters=STORIES, chunk_size=33)
    again = [(r["story"], r["wire_group"]) for r in read_rows(tmp_path / "again.jsonl")]
    assert again == whole_ids
    # the earlier run's state is kept as it was: carrying on again gives the same answer
    with pytest.raises(DataError, match="carries on from"):
        tag_file(
            second,
            tmp_path / "x.jsonl",
            load(),
            clusters=STORIES,
            stories=StoryOptions(start_from=carry.start_from, state=carry.start_from),
        )


def test_a_time_column_closes_quiet_stories_and_a_bad_time_is_a_skipped_row(tmp_path, model):
    rows = [
        {
            "id": "1",
            "headline": "Measles outbreak spreads in Texas schools",
            "source": "2003-05-01",
        },
        {
            "id": "2",
            "headline": "Measles outbreak spreads in Texas schools",
            "source": "2003-05-02",
        },
        {"id": "3", "headline": "Measles outbreak spreads in Texas schools", "source": "soon"},
        {"id": "4", "headline": "Measles outbreak spreads in Texas schools", "source": ""},
        {"id": "5", "headline": "Measles outbreak spreads in Texas schools", "source": "2004"},
    ]
    source = write_rows(tmp_path / "in.csv", rows)
    options = StoryOptions(time_column="source", quiet=30.0)
    summary = tag_file(source, tmp_path / "out.csv", model, clusters=STORIES, stories=options)
    out = read_rows(tmp_path / "out.csv")
    assert [r["story"] for r in out] == ["0", "0", "", "", "1"]  # 2004 is months later
    assert out[2]["tag_error"] == "bad source: 'soon' is not a date, a datetime or a year"
    assert out[3]["tag_error"] == "no source" and out[2]["topic"] == ""
    assert summary.counters.reasons == {"bad source": 1, "no source": 1}
    with pytest.raises(DataError, match="no 'published' column"):
        tag_file(
            source,
            tmp_path / "other.csv",
            model,
            clusters=STORIES,
            stories=StoryOptions(time_column="published"),
        )


def test_parquet_output_has_integer_story_columns(tmp_path, model):
    source = write_rows(tmp_path / "in.parquet", _story_rows(200))
    tag_file(source, tmp_path / "out.parquet", model, clusters=STORIES)
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert [schema.field(c).type for c in ("story", "wire_group", "wire_count")] == [pa.int64()] * 3


def test_an_existing_state_is_not_replaced_without_force(tmp_path, model):
    source = write_rows(tmp_path / "in.csv", _story_rows(50))
    (tmp_path / "out.csv.stories").mkdir()
    with pytest.raises(DataError, match="already exists; pass --force"):
        tag_file(source, tmp_path / "out.csv", model, clusters=STORIES)
    tag_file(source, tmp_path / "out.csv", model, clusters=STORIES, force=True)
    assert StoryTracker.load(tmp_path / "out.csv.stories").rows_seen_ == 50


def test_a_resumed_run_replays_the_rows_done_and_gives_the_same_ids(tmp_path, fake_store):
    source = write_rows(tmp_path / "in.csv", _story_rows(600))
    out = tmp_path / "out.csv"

    def stop(done, total):
        if done >= 200:
            raise KeyboardInterrupt

    def load():
        return fake_store.load("vfake-1", embedder=FakeEmbedder())

    options = {"clusters": STORIES, "chunk_size": 100, "stories": StoryOptions(quiet=150)}
    with pytest.raises(KeyboardInterrupt):
        tag_file(source, out, load(), progress=stop, **options)
    with pytest.raises(DataError, match="clusters"):  # other tracking options: refused
        tag_file(source, out, load(), resume=True, clusters=STORIES, chunk_size=100)
    summary = tag_file(source, out, load(), resume=True, **options)
    assert summary.resumed_after == 200
    tag_file(source, tmp_path / "ref.csv", load(), **options)
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()
    resumed = StoryTracker.load(tmp_path / "out.csv.stories")
    reference = StoryTracker.load(tmp_path / "ref.csv.stories")
    assert resumed.state()[0] == reference.state()[0]
