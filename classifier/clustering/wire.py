"""Wire copies: the same story reworded slightly by many outlets, grouped under its first headline.

Agencies' stories are reprinted with a word changed here and there; counting each reprint as a
separate headline inflates a story and hides how many outlets ran it. A wire group is a
headline (its *canonical*: the first seen) and every later headline whose embedding is at least
``wire_similarity`` cosine-similar to it (0.9 by default: a reworded copy, not another report of
the event; a normalised-text duplicate has similarity 1). Groups live inside the
:class:`~classifier.clustering.tracker.StoryTracker`: a copy joins its canonical's story, and a
group closes after the same quiet period as stories, so memory stays bounded by the open ones.

The canonical vectors never change, so a whole batch is compared with the groups open at its
start in one product; only the groups the batch itself opens are compared row by row.
"""

from __future__ import annotations

import numpy as np

DEFAULT_WIRE_SIMILARITY = 0.9


def grown(array: np.ndarray, need: int) -> np.ndarray:
    """``array`` with room for at least ``need`` rows (capacity doubles; contents kept)."""
    if len(array) >= need:
        return array
    capacity = max(need, 2 * len(array), 16)
    out = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    out[: len(array)] = array
    return out


class WireGroups:
    """The open wire groups: canonical vector, story slot, copies so far, last seen, stable id."""

    ARRAYS = ("canon", "story", "count", "last", "ids")

    def __init__(self, dimension: int) -> None:
        self.n = 0
        self.canon = np.zeros((0, dimension), dtype=np.float32)
        self.story = np.zeros(0, dtype=np.int64)  # slot of the story, in the tracker's table
        self.count = np.zeros(0, dtype=np.int64)
        self.last = np.zeros(0, dtype=np.float64)
        self.ids = np.zeros(0, dtype=np.int64)
        self._base: np.ndarray | None = None
        self._batch_start = 0

    def open(self, vector: np.ndarray, story: int, time: float, group_id: int) -> int:
        """Open a group with ``vector`` as its canonical; returns its slot."""
        slot = self.n
        self.canon = grown(self.canon, slot + 1)
        for name in ("story", "count", "last", "ids"):
            setattr(self, name, grown(getattr(self, name), slot + 1))
        self.canon[slot] = vector
        self.story[slot], self.count[slot] = story, 1
        self.last[slot], self.ids[slot] = time, group_id
        self.n += 1
        return slot

    def join(self, slot: int, time: float) -> int:
        """Count one more copy in group ``slot``; returns the copies so far."""
        self.count[slot] += 1
        self.last[slot] = max(self.last[slot], time)
        return int(self.count[slot])

    def start_batch(self, unit: np.ndarray) -> None:
        """Compare a batch with every group open now, once (canonicals never move)."""
        self._batch_start = self.n
        self._base = unit @ self.canon[: self.n].T if self.n else None

    def best(self, row: int, vector: np.ndarray, since: float, floor: float) -> int:
        """The open group (last seen at or after ``since``) most similar to row ``row`` of the
        batch, if at least ``floor`` similar; else -1. Ties go to the older group."""
        m0 = self._batch_start
        parts = []
        if self._base is not None:
            parts.append(self._base[row])
        if self.n > m0:
            parts.append(self.canon[m0 : self.n] @ vector)
        if not parts:
            return -1
        sims = np.concatenate(parts) if len(parts) > 1 else parts[0]
        sims = np.where(self.last[: self.n] >= since, sims, -np.inf)
        slot = int(np.argmax(sims))
        return slot if sims[slot] >= floor else -1

    def close(self, since: float, story_slots: np.ndarray) -> None:
        """Drop groups quiet since before ``since``; ``story_slots`` maps old story slots to new
        ones (-1: the story closed, and its groups with it)."""
        n = self.n
        if n == 0:
            return
        remapped = story_slots[self.story[:n]]
        keep = (self.last[:n] >= since) & (remapped >= 0)
        self.story[:n] = remapped
        if keep.all():
            return
        for name in self.ARRAYS:
            array = getattr(self, name)
            setattr(self, name, np.ascontiguousarray(array[:n][keep]))
        self.n = int(keep.sum())

    def arrays(self) -> dict[str, np.ndarray]:
        """The open groups' arrays, trimmed, for saving."""
        return {f"wire_{name}": getattr(self, name)[: self.n] for name in self.ARRAYS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], dimension: int) -> WireGroups:
        groups = cls(dimension)
        for name in cls.ARRAYS:
            setattr(groups, name, np.array(arrays[f"wire_{name}"]))
        groups.n = len(groups.ids)
        return groups

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.ARRAYS)
