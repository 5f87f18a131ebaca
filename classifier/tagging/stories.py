"""``tag --clusters stories``: every row of an archive tracked into stories, in file order.

The rows go through a :class:`~classifier.clustering.tracker.StoryTracker` as they are tagged,
so a story can begin anywhere in the archive (a sample fitted up front misses the stories of a
week in 2003), and each row gets ``story``, ``wire_group`` and ``wire_count``. The tracker's
state is saved beside the output at the end (or where ``state`` says); ``start_from`` carries
on from the state of an earlier run, so a later file keeps the ids of the stories still open.

Times come from ``time_column`` (dates, datetimes or years, read as days), else from the row's
place in the file. A row whose time is missing or unreadable is a skipped row with a
``tag_error`` (``bad year: ...``), kept in the output. ``--resume`` replays the rows already
written through a fresh tracker (their embeddings come from the cache, else the encoder), so
a resumed run gives the ids of an uninterrupted one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier.clustering.times import BadTime, time_in_days
from classifier.clustering.tracker import StoryTracker
from classifier.errors import DataError
from classifier.readers.chunks import MISSING, Chunk
from classifier.readers.stream import open_reader
from classifier.tagging.results import TagResult
from classifier.tagging.tagger import Tagger, check_text

logger = logging.getLogger(__name__)

STATE_SUFFIX = ".stories"  # OUTPUT.stories/: the tracker's state, by default
RECENT_VECTORS = 20_000  # embeddings kept for repeated headlines (~1.5 KB each at 384 dims)


@dataclass(frozen=True)
class StoryOptions:
    """How ``tag --clusters stories`` tracks: the time column (None: file order), the quiet
    period (days with a time column, else rows; None: the tracker's default), where to save the
    state (None: beside the output) and an earlier run's state to carry on from."""

    time_column: str | None = None
    quiet: float | None = None
    state: Path | None = None
    start_from: Path | None = None

    def job_id(self) -> str:
        """How the run's job records these options, so --resume refuses changed ones."""
        by = f"time column {self.time_column!r}" if self.time_column else "file order"
        quiet = "default" if self.quiet is None else f"{self.quiet:g}"
        start = f", carrying on from {self.start_from.resolve()}" if self.start_from else ""
        return f"stories tracked in {by}, quiet {quiet}{start}"

    def state_path(self, output: Path) -> Path:
        return (
            self.state if self.state is not None else output.with_name(output.name + STATE_SUFFIX)
        )

    def check(self, output: Path, *, force: bool, resume: bool) -> None:
        """Refuse, before any work, a state that would be overwritten or read and written."""
        target = self.state_path(output)
        if self.start_from is not None:
            if not self.start_from.is_dir():
                raise DataError(f"{self.start_from}: no story state there (--stories-from)")
            if target.resolve() == self.start_from.resolve():
                raise DataError(
                    f"{target} is the state this run carries on from: write the new state "
                    "elsewhere (--story-state DIR), so the earlier run's stays as it was"
                )
        if target.exists() and not (force or resume):
            raise DataError(f"{target} already exists; pass --force to replace it")

    def tracker(self) -> StoryTracker:
        """A fresh tracker, or the one saved by the run this one carries on from."""
        if self.start_from is None:
            return StoryTracker(quiet=self.quiet)
        tracker = StoryTracker.load(self.start_from)
        if self.quiet is not None and tracker.quiet_ != self.quiet:
            raise DataError(
                f"the stories in {self.start_from} close after {tracker.quiet_:g} quiet; a run "
                f"carrying them on keeps that (leave out --story-quiet), not {self.quiet:g}"
            )
        mode = "times" if self.time_column else "rows"
        if tracker.mode_ not in (None, mode):
            raise DataError(
                f"the stories in {self.start_from} were tracked by "
                + (
                    "a time column: pass --time-column"
                    if tracker.mode_ == "times"
                    else "file order: leave out --time-column"
                )
            )
        return tracker


class StoryStep:
    """Adds the story columns to each tagged chunk; keeps the embeddings of recent headlines,
    so a repeated headline (a memo hit, never re-embedded) still reaches the tracker."""

    def __init__(self, options: StoryOptions, tagger: Tagger) -> None:
        self.options = options
        self.tagger = tagger
        self.tracker = options.tracker()
        self.started_with = self.tracker.next_story_
        self._young: dict[bytes, np.ndarray] = {}
        self._old: dict[bytes, np.ndarray] = {}
        self._fresh: dict[bytes, np.ndarray] = {}  # embedded while tagging the current chunk
        self._column: str | None = None
        tagger.on_vectors = self._keep

    def bind(self, columns: list[str]) -> None:
        """Check that the time column exists in the input's columns."""
        name = self.options.time_column
        if name is not None and name not in columns:
            raise DataError(f"no {name!r} column for --time-column; found {', '.join(columns)}")
        self._column = name

    def tag(self, chunk: Chunk) -> TagResult:
        """Tag ``chunk`` and track its good rows (a row with a bad time is skipped first)."""
        times = self._times(chunk)
        self._fresh = {}
        result = self.tagger.tag(chunk)
        rows = [i for i, error in enumerate(result.errors) if not error]
        n = len(chunk)
        story: list[int | None] = [None] * n
        wire: list[int | None] = [None] * n
        count: list[int | None] = [None] * n
        if rows:
            vectors = self._vectors(chunk, rows)
            stamps = [times[i] for i in rows] if times is not None else None
            update = self.tracker.track(times=stamps, embeddings=vectors)
            for j, i in enumerate(rows):
                story[i] = int(update.story[j])
                wire[i] = int(update.wire_group[j])
                count[i] = int(update.wire_count[j])
        result.stories = (story, wire, count)
        return result

    def replay(
        self, input_path: Path, rows: int, chunk_size: int, reserved: set[str], read: dict[str, Any]
    ) -> None:
        """Track the first ``rows`` rows again (a resumed run), writing nothing."""
        done = 0
        column = self.tagger.text_column
        with open_reader(input_path, text_column=column, reserved=reserved, **read) as reader:
            for chunk in reader.chunks(chunk_size):
                if done >= rows:
                    break
                take = min(len(chunk), rows - done)
                self.tag(_head(chunk, take))
                done += take
        logger.info("stories: replayed %d rows of the interrupted run", done)

    def save(self, output: Path) -> Path:
        return self.tracker.save(self.options.state_path(output))

    def stats(self) -> dict[str, int]:
        return {
            "stories_started": self.tracker.next_story_ - self.started_with,
            "stories_open": self.tracker.n_open,
            "rows_behind_clock": self.tracker.backwards_,
        }

    # -- internals --------------------------------------------------------------------------
    def _times(self, chunk: Chunk) -> list[float | None] | None:
        """Each row's time in days; a row with none gets an issue (and is skipped)."""
        name = self._column
        if name is None:
            return None
        if chunk.table is not None:
            values = (
                chunk.table.column(name).to_pylist()
                if name in chunk.table.column_names
                else [MISSING] * len(chunk)
            )
        else:
            values = [row.get(name, MISSING) for row in chunk.rows()]
        times: list[float | None] = [None] * len(chunk)
        for i, value in enumerate(values):
            if chunk.issues[i]:
                continue
            if value is MISSING or value is None or value == "":
                chunk.issues[i] = f"no {name}"
                continue
            try:
                times[i] = time_in_days(value)
            except BadTime as exc:
                chunk.issues[i] = f"bad {name}: {exc}"
        return times

    def _keep(self, keys: list[bytes], vectors: np.ndarray) -> None:
        for key, vector in zip(keys, vectors, strict=True):
            self._fresh[key] = self._young[key] = vector
            if len(self._young) >= RECENT_VECTORS // 2:
                self._old, self._young = self._young, {}

    def _vectors(self, chunk: Chunk, rows: list[int]) -> np.ndarray:
        keys = self.tagger.last_keys
        found: dict[bytes, np.ndarray] = {}
        missing: dict[bytes, str] = {}
        for i in rows:
            key = keys[i]
            assert key is not None  # a row tagged without error has a key
            vector = self._fresh.get(key)
            if vector is None:
                vector = self._young.get(key)
            if vector is None:
                vector = self._old.get(key)
            if vector is not None:
                found[key] = vector
            elif key not in missing:
                text, _ = check_text(chunk.texts[i], self.tagger.text_column, self.tagger.max_chars)
                missing[key] = text  # type: ignore[assignment]  # a good row: text is set
        if missing:  # memo hits older than the recent vectors: cache, else the encoder
            vectors = self.tagger.embeddings(list(missing), list(missing.values()))
            self._keep(list(missing), vectors)
            found.update(zip(missing, vectors, strict=True))
        return np.stack([found[keys[i]] for i in rows])


def _head(chunk: Chunk, n: int) -> Chunk:
    """The first ``n`` rows of ``chunk``."""
    if n >= len(chunk):
        return chunk
    table = chunk.table.slice(0, n) if chunk.table is not None else None
    records = chunk.records[:n] if chunk.records is not None else None
    return Chunk(chunk.start, chunk.texts[:n], chunk.issues[:n], records=records, table=table)
