"""A :class:`~classifier.clustering.tracker.StoryTracker` on disk: a folder of JSON and ``.npz``.

The state is what a later run needs to carry on with the same ids: the settings, the clock, the
next story and wire-group ids, and the open stories' summed vectors, counts and last-seen times
(and the wire groups'). Anyone may hand a run a state folder, so nothing in it is unpickled:
``tracker.json`` holds the settings and the SHA-256 of ``tracker.npz``, the arrays are read
with ``allow_pickle=False`` and every shape is checked before the tracker is built. Both files
are written atomically, the arrays first, so a crash leaves the old state or the new one.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from classifier.errors import DataError
from classifier.files import atomic_file, sha256_file


class SavedTracker(Protocol):
    """What this module needs of a tracker (it does not import the tracker, which imports it)."""

    n_open: int
    n_open_wire: int

    def state(self) -> tuple[dict[str, object], dict[str, np.ndarray]]: ...


STATE_FORMAT = "headline-topics story tracker"
STATE_VERSION = 1
STATE_JSON, STATE_ARRAYS = "tracker.json", "tracker.npz"
_STORY = ("sums", "counts", "last", "ids")
_WIRE = ("wire_canon", "wire_story", "wire_count", "wire_last", "wire_ids")


def save_state(tracker: SavedTracker, folder: Path) -> Path:
    """Write ``tracker`` to ``folder`` (created if needed); returns the folder."""
    meta, arrays = tracker.state()
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with atomic_file(folder / STATE_ARRAYS) as handle:
        handle.write(buffer.getvalue())
    document = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        **meta,
        "open_stories": tracker.n_open,
        "open_wire_groups": tracker.n_open_wire,
        "arrays": {"file": STATE_ARRAYS, "sha256": sha256_file(folder / STATE_ARRAYS)},
    }
    with atomic_file(folder / STATE_JSON, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    return folder


def load_state(cls: Any, folder: Path, encoder: object = None) -> Any:
    """The tracker saved in ``folder`` (``cls.from_state`` builds it); DataError naming what is
    wrong with a damaged one."""
    manifest = folder / STATE_JSON
    if not manifest.is_file():
        raise DataError(f"{folder} is not a story tracker state: no {STATE_JSON} in it")
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{manifest} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != STATE_FORMAT:
        raise DataError(f"{manifest} is not a story tracker state")
    if meta.get("version") != STATE_VERSION:
        raise DataError(
            f"{manifest} is version {meta.get('version')!r} of the state; this build reads "
            f"version {STATE_VERSION}"
        )
    arrays_path = folder / STATE_ARRAYS
    recorded = (meta.get("arrays") or {}).get("sha256")
    if not arrays_path.is_file() or sha256_file(arrays_path) != recorded:
        raise DataError(f"{arrays_path} is missing or does not match {STATE_JSON} (changed?)")
    try:
        with np.load(arrays_path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in _STORY + _WIRE}
    except (KeyError, ValueError, OSError) as exc:
        raise DataError(f"{arrays_path} cannot be read as a story state: {exc}") from exc
    _check_counters(meta, manifest)
    _check_arrays(arrays, meta.get("dimension_"), arrays_path)
    try:
        return cls.from_state(meta, arrays, encoder)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{manifest} has bad settings: {exc}") from exc


def _check_counters(meta: dict, where: Path) -> None:
    """The mode and the counters a tracker can have, or DataError."""
    if meta.get("mode_") not in (None, "rows", "times"):
        raise DataError(f"{where}: mode_ must be rows, times or null, not {meta.get('mode_')!r}")
    for name in ("rows_seen_", "next_story_", "next_wire_", "backwards_"):
        value = meta.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DataError(f"{where}: {name} must be a whole number >= 0, not {value!r}")
    clock = meta.get("clock_")
    if clock is not None and (isinstance(clock, bool) or not isinstance(clock, int | float)):
        raise DataError(f"{where}: clock_ must be a number or null, not {clock!r}")


def _check_arrays(arrays: dict[str, np.ndarray], dimension: object, where: Path) -> None:
    """Shapes and kinds that agree with one another, or DataError."""
    if dimension is None:
        return
    if not isinstance(dimension, int) or dimension < 1:
        raise DataError(f"{where}: bad dimension {dimension!r}")
    for name, array in arrays.items():
        if array.dtype.kind not in "iuf":
            raise DataError(f"{where}: {name} is not numeric ({array.dtype})")
    n, w = len(arrays["ids"]), len(arrays["wire_ids"])
    shapes = {
        "sums": (n, dimension),
        "counts": (n,),
        "last": (n,),
        "wire_canon": (w, dimension),
        "wire_story": (w,),
        "wire_count": (w,),
        "wire_last": (w,),
    }
    for name, shape in shapes.items():
        if arrays[name].shape != shape:
            raise DataError(f"{where}: {name} has shape {arrays[name].shape}, expected {shape}")
    story = arrays["wire_story"]
    if w and (story.min() < 0 or story.max() >= n):
        raise DataError(f"{where}: a wire group points at a story that is not there")
    if n and arrays["counts"].min() < 1:
        raise DataError(f"{where}: a story has no headlines")
