"""StoryTracker: stories in a stream or an archive, in time order, that can begin anywhere.

Fitting stories on a sample of an archive and assigning the rest loses every story the sample
missed: assigned headlines never start stories. The tracker reads headlines in time order and
gives each one a story as it comes: the open story whose headlines it resembles on average at
least ``1 - distance_threshold`` (the test average linkage applies in
:func:`~classifier.clustering.stories.story_labels`, so it agrees with a whole fit), else a new
story. The average similarity to a story's members is the dot product with the mean of their
unit vectors, so a story costs one summed vector and a count, whatever its size.

A story closes when nothing joined it for ``quiet`` (rows, or the unit of the times given; days
for dates), and is forgotten: memory is bounded by the stories open at once, never by the
archive. Ids are handed out in order and never reused, and :meth:`StoryTracker.save` /
:meth:`StoryTracker.load` keep the open stories and the next id (NumPy ``.npz`` read without
pickle, plus JSON), so a later file continues the same ids. Wire copies (:mod:`.wire`) are
tracked alongside. Times that go backwards are read as the latest time seen: the clock never
runs backwards, so a late row can only join stories still open.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifier.clustering.geometry import as_unit_rows
from classifier.clustering.levels import DEFAULT_STORY_DISTANCE
from classifier.clustering.times import time_in_days
from classifier.clustering.tracker_state import load_state, save_state
from classifier.clustering.wire import DEFAULT_WIRE_SIMILARITY, WireGroups, grown
from classifier.text import check_headlines

logger = logging.getLogger(__name__)

DEFAULT_QUIET_ROWS = 10_000  # without times: a story closes after this many rows without news
DEFAULT_QUIET_DAYS = 30.0  # with dates: after a month without news
_BLOCK = 256  # rows compared with the open stories in one product (B x open x 8 bytes)
PARAMS = ("distance_threshold", "quiet", "wire_similarity")
COUNTERS = (
    "mode_",
    "clock_",
    "rows_seen_",
    "next_story_",
    "next_wire_",
    "backwards_",
    "dimension_",
)


@dataclass(frozen=True)
class StoryUpdate:
    """Per headline of one update: its story id, its wire group id, and that group's copies so
    far (1: this headline is the group's canonical, the first seen)."""

    story: np.ndarray
    wire_group: np.ndarray
    wire_count: np.ndarray


class StoryTracker:
    """Assign headlines to stories as they arrive; a story can start at any point of the stream.

    Parameters
    ----------
    encoder : Encoder or None
        Embeds the headlines given to :meth:`update`; not needed when passing ``embeddings=``.
    distance_threshold : float
        The story cut of :class:`~classifier.clustering.HeadlineClusterer` (0.5): a headline
        joins a story when its average cosine similarity to the members is ``>= 1 - cut``.
    quiet : float or None
        A story (and a wire group) closes after this long without a new headline: rows when no
        times are given, else the unit of the times (days for dates). None: 10,000 rows, or
        30 days once times are given.
    wire_similarity : float
        Cosine similarity to a wire group's first headline that makes a headline a copy.
    """

    def __init__(
        self,
        encoder: object = None,
        *,
        distance_threshold: float = DEFAULT_STORY_DISTANCE,
        quiet: float | None = None,
        wire_similarity: float = DEFAULT_WIRE_SIMILARITY,
    ) -> None:
        if not 0.0 < float(distance_threshold) < 2.0:
            raise ValueError(
                f"distance_threshold must be between 0 and 2; got {distance_threshold}"
            )
        if quiet is not None and not (float(quiet) > 0 and math.isfinite(float(quiet))):
            raise ValueError(f"quiet must be a positive number or None; got {quiet}")
        if not -1.0 <= float(wire_similarity) <= 1.0:
            raise ValueError(f"wire_similarity must be a cosine in [-1, 1]; got {wire_similarity}")
        self.encoder = encoder
        self.distance_threshold = float(distance_threshold)
        self.quiet = None if quiet is None else float(quiet)
        self.wire_similarity = float(wire_similarity)
        self.mode_: str | None = None  # "rows" or "times", fixed by the first update
        self.clock_ = -math.inf  # the latest time (or row number) seen
        self.rows_seen_ = 0
        self.next_story_ = 0
        self.next_wire_ = 0
        self.backwards_ = 0  # rows whose time was behind the clock by more than the quiet period
        self.dimension_: int | None = None
        self._n = 0
        self._sums = np.zeros((0, 0))
        self._counts = np.zeros(0, dtype=np.int64)
        self._last = np.zeros(0)
        self._ids = np.zeros(0, dtype=np.int64)
        self._wire = WireGroups(0)

    # -- the public surface ----------------------------------------------------------------------
    @property
    def quiet_(self) -> float:
        """The quiet period in force: ``quiet``, or the default of the mode."""
        if self.quiet is not None:
            return self.quiet
        return DEFAULT_QUIET_DAYS if self.mode_ == "times" else float(DEFAULT_QUIET_ROWS)

    @property
    def n_open(self) -> int:
        """Stories open now (the ones a new headline can still join)."""
        return self._n

    @property
    def n_open_wire(self) -> int:
        return self._wire.n

    @property
    def nbytes(self) -> int:
        """Bytes of state held: grows with the open stories, not with the rows seen."""
        arrays = (self._sums, self._counts, self._last, self._ids)
        return sum(a.nbytes for a in arrays) + self._wire.nbytes

    def update(
        self,
        headlines: Sequence[str] | None = None,
        times: Sequence[object] | None = None,
        *,
        embeddings: object = None,
    ) -> np.ndarray:
        """The story id of each headline, in order; see :meth:`track` for the arguments."""
        return self.track(headlines, times, embeddings=embeddings).story

    def track(
        self,
        headlines: Sequence[str] | None = None,
        times: Sequence[object] | None = None,
        *,
        embeddings: object = None,
    ) -> StoryUpdate:
        """Stories and wire groups of the next headlines of the stream, taken in the order given.

        ``times``: one per headline, numbers (in the unit of ``quiet``) or dates, datetimes or
        ISO strings (read as days); None counts rows. A tracker keeps the mode of its first
        update. ``embeddings`` (one row per headline) skip the encoder.
        """
        unit = self._vectors(headlines, embeddings)
        stamps = self._stamps(len(unit), times)
        story = np.empty(len(unit), dtype=np.int64)
        wire = np.empty(len(unit), dtype=np.int64)
        count = np.empty(len(unit), dtype=np.int64)
        for start in range(0, len(unit), _BLOCK):
            block = slice(start, start + _BLOCK)
            self._track_block(unit[block], stamps[block], story[block], wire[block], count[block])
        if len(unit):  # what can no longer be joined is let go now, not at the next update
            self._close(self.clock_ - self.quiet_)
        return StoryUpdate(story, wire, count)

    # -- the work -------------------------------------------------------------------------------
    def _vectors(self, headlines: Sequence[str] | None, embeddings: object) -> np.ndarray:
        if embeddings is None:
            if headlines is None:
                raise ValueError("pass headlines, or their embeddings=")
            if self.encoder is None:
                raise ValueError("this tracker has no encoder: pass embeddings=, or an encoder")
            texts = check_headlines(headlines)
            embeddings = self.encoder.encode(texts) if texts else np.zeros((0, 1))  # type: ignore[attr-defined]
        elif headlines is not None and len(headlines) != len(embeddings):  # type: ignore[arg-type]
            raise ValueError(f"{len(headlines)} headlines but {len(embeddings)} embeddings")  # type: ignore[arg-type]
        if len(embeddings) == 0:  # type: ignore[arg-type]
            return np.zeros((0, self.dimension_ or 1))
        unit = as_unit_rows(embeddings).astype(np.float64)
        if self.dimension_ is None:
            self._start(unit.shape[1])
        elif unit.shape[1] != self.dimension_:
            raise ValueError(
                f"embeddings have {unit.shape[1]} dimensions; the tracker holds {self.dimension_}"
            )
        return unit

    def _start(self, dimension: int) -> None:
        self.dimension_ = dimension
        self._sums = np.zeros((0, dimension))
        self._wire = WireGroups(dimension)

    def _stamps(self, n: int, times: Sequence[object] | None) -> np.ndarray:
        """Each row's time on the clock, which never runs backwards."""
        mode = "rows" if times is None else "times"
        if n and self.mode_ is not None and mode != self.mode_:
            raise ValueError(
                f"this tracker counts {self.mode_}: "
                + ("pass times= with every update" if self.mode_ == "times" else "pass no times")
            )
        if not n:
            return np.zeros(0)
        if times is None:
            raw = np.arange(self.rows_seen_, self.rows_seen_ + n, dtype=np.float64)
        else:
            if len(times) != n:
                raise ValueError(f"{n} headlines but {len(times)} times")
            raw = np.array([_time(t) for t in times], dtype=np.float64)
        self.mode_ = mode  # only once every time was read: a refused update changes nothing
        behind = (
            raw < np.maximum.accumulate(np.concatenate(([self.clock_], raw)))[:-1] - self.quiet_
        )
        if behind.any():
            self.backwards_ += int(behind.sum())
            logger.warning(
                "%d headline(s) came more than the quiet period (%g) after a later one; they "
                "are tracked at the latest time seen",
                int(behind.sum()),
                self.quiet_,
            )
        stamps = np.maximum.accumulate(np.concatenate(([self.clock_], raw)))[1:]
        self.rows_seen_ += n
        return stamps

    def _track_block(self, unit, stamps, story, wire, count) -> None:  # noqa: ANN001 - views
        self._close(stamps[0] - self.quiet_)
        m0 = self._n
        base = unit @ self._sums[:m0].T if m0 else np.zeros((len(unit), 0))
        unit32 = unit.astype(np.float32)
        self._wire.start_batch(unit32)
        dirty: set[int] = set()
        floor = 1.0 - self.distance_threshold
        for i, (x, t) in enumerate(zip(unit, stamps, strict=True)):
            since = t - self.quiet_
            group = self._wire.best(i, unit32[i], since, self.wire_similarity)
            if group >= 0:
                slot = int(self._wire.story[group])
                self._join(slot, x, t)
                count[i] = self._wire.join(group, t)
            else:
                slot = self._best_story(base[i], x, m0, dirty, since, floor)
                if slot < 0:
                    slot = self._open(x, t)
                else:
                    self._join(slot, x, t)
                group = self._wire.open(unit32[i], slot, t, self.next_wire_)
                self.next_wire_ += 1
                count[i] = 1
            if slot < m0:
                dirty.add(slot)
            story[i] = self._ids[slot]
            wire[i] = self._wire.ids[group]
        self.clock_ = float(stamps[-1])

    def _best_story(self, base_row, x, m0, dirty, since, floor) -> int:  # noqa: ANN001
        n = self._n
        if n == 0:
            return -1
        dots = np.empty(n)
        dots[:m0] = base_row
        if dirty:
            changed = np.fromiter(dirty, dtype=np.int64, count=len(dirty))
            dots[changed] = self._sums[changed] @ x
        if n > m0:
            dots[m0:n] = self._sums[m0:n] @ x
        average = dots / self._counts[:n]
        average[self._last[:n] < since] = -np.inf
        slot = int(np.argmax(average))
        return slot if average[slot] >= floor else -1

    def _join(self, slot: int, x: np.ndarray, t: float) -> None:
        self._sums[slot] += x
        self._counts[slot] += 1
        self._last[slot] = t

    def _open(self, x: np.ndarray, t: float) -> int:
        slot = self._n
        self._sums = grown(self._sums, slot + 1)
        self._counts, self._last, self._ids = (
            grown(self._counts, slot + 1),
            grown(self._last, slot + 1),
            grown(self._ids, slot + 1),
        )
        self._sums[slot], self._counts[slot] = x, 1
        self._last[slot], self._ids[slot] = t, self.next_story_
        self.next_story_ += 1
        self._n += 1
        return slot

    def _close(self, since: float) -> None:
        """Forget the stories (and wire groups) quiet since before ``since``."""
        n = self._n
        keep = self._last[:n] >= since
        if keep.all():
            self._wire.close(since, np.arange(n, dtype=np.int64))
            return
        slots = np.full(n, -1, dtype=np.int64)
        slots[keep] = np.arange(int(keep.sum()))
        self._sums = np.ascontiguousarray(self._sums[:n][keep])
        self._counts = self._counts[:n][keep].copy()
        self._last = self._last[:n][keep].copy()
        self._ids = self._ids[:n][keep].copy()
        self._n = int(keep.sum())
        self._wire.close(since, slots)

    def state(self) -> tuple[dict[str, object], dict[str, np.ndarray]]:
        """(settings and counters, the open stories' and wire groups' arrays), for saving."""
        n = self._n
        meta = {name: getattr(self, name) for name in PARAMS + COUNTERS}
        meta["clock_"] = None if self.clock_ == -math.inf else self.clock_
        stories = {"sums": self._sums[:n], "counts": self._counts[:n], "last": self._last[:n]}
        return meta, {**stories, "ids": self._ids[:n], **self._wire.arrays()}

    @classmethod
    def from_state(
        cls, meta: dict[str, object], arrays: dict[str, np.ndarray], encoder: object = None
    ) -> StoryTracker:
        """The tracker :meth:`state` described (the arrays checked by the caller)."""
        tracker = cls(encoder, **{name: meta[name] for name in PARAMS})  # type: ignore[arg-type]
        for name in COUNTERS:
            setattr(tracker, name, meta[name])
        tracker.clock_ = -math.inf if meta["clock_"] is None else float(meta["clock_"])  # type: ignore[arg-type]
        if tracker.dimension_ is not None:
            tracker._start(int(tracker.dimension_))
            tracker._sums = np.array(arrays["sums"], dtype=np.float64)
            tracker._counts = np.array(arrays["counts"], dtype=np.int64)
            tracker._last = np.array(arrays["last"], dtype=np.float64)
            tracker._ids = np.array(arrays["ids"], dtype=np.int64)
            tracker._n = len(tracker._ids)
            tracker._wire = WireGroups.from_arrays(arrays, int(tracker.dimension_))
        return tracker

    # -- persistence ----------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the open stories, the clock and the next ids to the folder ``path``."""
        return save_state(self, Path(path))

    @classmethod
    def load(cls, path: str | Path, encoder: object = None) -> StoryTracker:
        """The tracker :meth:`save` wrote to ``path``, ready to carry on with the same ids."""
        return load_state(cls, Path(path), encoder)


def _time(value: object) -> float:
    """A number as it is; a date, a datetime or an ISO string as days since 1970."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"times must be finite; got {value!r}")
        return number
    return time_in_days(value)
