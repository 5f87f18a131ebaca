"""The model being served: loaded once, swapped whole when CURRENT names another version.

Requests take the model object once (``holder.get()``) and use that object for their whole life,
so a response always names the one version that produced it even while a swap happens. A swap is
a single reference assignment; the new version is loaded beside the old one first, and a version
that fails to load leaves the old one serving (the failure is recorded for /v1/model and /readyz).

CURRENT is looked at no more often than every ``check_interval_s`` seconds (reading a few bytes),
and only one thread loads at a time: the others keep answering with the model they have.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from classifier.topics.model import TopicModel
from classifier.topics.store import CURRENT, ModelError, ModelStore

logger = logging.getLogger(__name__)

LOAD_ERRORS = (ModelError, OSError, ValueError, KeyError)
NO_CURRENT = (
    "no current model: the store's CURRENT file is missing or empty; "
    "run headline-topics promote VERSION (still serving the model loaded before)"
)


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: the version before and after, and why nothing changed if it did not."""

    previous: str | None
    version: str | None
    changed: bool
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "previous": self.previous,
            "version": self.version,
            "changed": self.changed,
        }
        if self.error:
            out["error"] = self.error
        return out


Listener = Callable[[str | None, str | None, str], None]


class ModelHolder:
    """Holds the current :class:`TopicModel` behind a lock and follows the store's CURRENT."""

    def __init__(
        self,
        store: ModelStore,
        embedder,
        *,
        pinned: str | None = None,
        check_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.pinned = pinned
        self.check_interval_s = check_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._model: TopicModel | None = None
        self._next_check = 0.0
        self._seen_marker: tuple[str | None, int] | None = None
        self.loaded_at: str | None = None
        self.last_error: str | None = None
        self.listeners: list[Listener] = []

    # -- start-up ----------------------------------------------------------------------------
    def start(self) -> TopicModel:
        """Load the pinned or current version; a failure here stops the service (ModelError)."""
        with self._lock:
            self._seen_marker = self._read_marker()
            version = self.pinned or self._seen_marker[0]
            if version is None:
                self.store.resolve(None)  # raises the store's own "no current model" message
            model = self.store.load(version, embedder=self.embedder)
            self._install(model, outcome="start")
            self._next_check = self._clock() + self.check_interval_s
        return model

    # -- per request ---------------------------------------------------------------------------
    def get(self) -> TopicModel:
        """The model to use for one whole request; picks up a new CURRENT when it is time."""
        model = self._model
        if model is None:
            raise ModelError("no model loaded yet")
        if self.pinned is None and self._clock() >= self._next_check:
            model = self._follow(force=False, blocking=False)[0]
        return model

    @property
    def model(self) -> TopicModel | None:
        return self._model

    # -- explicit reload -----------------------------------------------------------------------
    def reload(self) -> ReloadOutcome:
        """Look at CURRENT now (waiting for a reload already running) and load it if it changed."""
        previous = self._model.version if self._model else None
        if self.pinned is not None:
            return ReloadOutcome(previous, previous, False, None)
        model, error = self._follow(force=True, blocking=True)
        return ReloadOutcome(previous, model.version, model.version != previous, error)

    # -- internals -----------------------------------------------------------------------------
    def _read_marker(self) -> tuple[str | None, int]:
        """CURRENT's content and modification time: a change in either is worth a look."""
        try:
            mtime = os.stat(self.store.root / CURRENT).st_mtime_ns
        except OSError:
            mtime = -1
        try:
            version = self.store.current_version()
        except (OSError, UnicodeDecodeError):
            version = None
        return version, mtime

    def _follow(self, *, force: bool, blocking: bool) -> tuple[TopicModel, str | None]:
        if not self._lock.acquire(blocking=blocking):
            return self._model, None  # another thread is checking or loading; keep answering
        try:
            self._next_check = self._clock() + self.check_interval_s
            marker = self._read_marker()
            if marker == self._seen_marker and not force:
                return self._model, None
            self._seen_marker = marker
            version = marker[0]
            current = self._model
            if version is None:
                # the path goes to the log only: clients of /readyz and /v1/model see no paths
                logger.error("%s is missing or empty", self.store.root / CURRENT)
                self._fail(current, None, NO_CURRENT)
                return current, self.last_error
            if current is not None and version == current.version:
                self.last_error = None
                return current, None
            started = time.perf_counter()
            try:
                model = self.store.load(version, embedder=self.embedder)
            except LOAD_ERRORS as exc:
                logger.warning("cannot load model %s: %s", version, exc)
                self._fail(current, version, public_message(exc, self.store.root))
                return current, self.last_error
            self._install(model, outcome="swapped")
            logger.info(
                "now serving model %s (was %s; loaded in %.2fs)",
                model.version,
                current.version if current else None,
                time.perf_counter() - started,
            )
            return model, None
        finally:
            self._lock.release()

    def _install(self, model: TopicModel, *, outcome: str) -> None:
        previous = self._model.version if self._model else None
        self._model = model
        self.loaded_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.last_error = None
        self._notify(previous, model.version, outcome)

    def _fail(self, current: TopicModel | None, version: str | None, message: str) -> None:
        self.last_error = (
            message if version is None else f"cannot switch to model {version!r}: {message}"
        )
        serving = current.version if current else "nothing"
        logger.error("%s; still serving %s", self.last_error, serving)
        self._notify(current.version if current else None, version, "failed")

    def _notify(self, previous: str | None, version: str | None, outcome: str) -> None:
        for listener in self.listeners:
            try:
                listener(previous, version, outcome)
            except Exception:  # a metrics hiccup must never stop a model swap
                logger.exception("model listener failed")


def public_message(exc: BaseException, root) -> str:
    """An error as clients may see it: no file system paths (they stay in the log)."""
    text = (exc.strerror or type(exc).__name__) if isinstance(exc, OSError) else str(exc)
    for path in {str(root), str(Path(root).resolve())}:
        text = text.replace(path, "the model store")
    return text
