"""The feedback store: people's corrections of headlines' topics, in one SQLite file.

Every correction is a new row, never an update, so the history of a headline is all its rows and
its current correction the newest of them (by id: ids only grow, whatever the clock does).
Headlines are matched in :func:`classifier.text.normalise_headline` form, the same form in which
a correction replaces a training row.

Durability is SQLite's: WAL journal, ``synchronous=FULL`` and one ``BEGIN IMMEDIATE`` transaction
per correction, so a process killed at any moment leaves the row either committed whole or not
there at all, and :meth:`FeedbackStore.add` returns only after the commit (the service answers
2xx only then). Several processes (gunicorn workers, a training run reading) share the file;
SQLite lets one write at a time and the others wait up to :data:`BUSY_TIMEOUT_MS`. Like the
embedding cache, it is not meant to sit on a network file system.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifier.config import store_is_read_only
from classifier.errors import InputError
from classifier.text import PROBLEM_WORDS, headline_problem, normalise_headline

logger = logging.getLogger(__name__)

FILE_NAME = "feedback.sqlite3"
ENV = "HEADLINE_TOPICS_FEEDBACK_DB"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
MAX_NOTE_CHARS = 2000
MAX_LABELLER_CHARS = 100
MAX_TOPICS = 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS correction (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    key TEXT NOT NULL,
    headline TEXT NOT NULL,
    topics TEXT NOT NULL,
    note TEXT,
    labeller TEXT,
    model TEXT,
    model_topics TEXT
);
CREATE INDEX IF NOT EXISTS correction_by_key ON correction (key, id);
"""
_COLUMNS = "id, created, headline, topics, note, labeller, model, model_topics"


class CorrectionError(InputError):
    """A correction that cannot be stored; ``field`` names the offending part (HTTP ``field``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Correction:
    """One stored correction: what a person said the topics are, and what the model had said."""

    id: int
    created: str
    headline: str
    topics: list[str]
    note: str | None
    labeller: str | None
    model: str | None
    model_topics: list[str] | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Correction:
        id_, created, headline, topics, note, labeller, model, model_topics = row
        return cls(
            id_,
            created,
            headline,
            json.loads(topics),
            note,
            labeller,
            model,
            None if model_topics is None else json.loads(model_topics),
        )


@dataclass(frozen=True)
class Summary:
    """How many corrections there are, and how many a model has not been trained on yet."""

    corrections: int  # every row, history included
    headlines: int  # distinct headlines corrected
    newest_id: int | None
    newest: str | None
    untrained: int  # headlines whose newest correction is newer than the model's

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_path(models_dir: str | os.PathLike[str]) -> Path:
    """``<models>/feedback.sqlite3``; for the read-only bundled store, the user's data folder
    (corrections must not be written into an installed package)."""
    if store_is_read_only(models_dir):
        data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        return Path(data) / "headline-topics" / FILE_NAME
    return Path(models_dir) / FILE_NAME


def path_from_env(models_dir: str | os.PathLike[str]) -> Path:
    """``$HEADLINE_TOPICS_FEEDBACK_DB``, else :func:`default_path` (what the service uses too)."""
    explicit = os.environ.get(ENV, "").strip()
    return Path(explicit).expanduser() if explicit else default_path(models_dir)


def check_correction(
    headline: object,
    topics: object,
    *,
    labels: Sequence[str],
    none_label: str | None = None,
    note: object = None,
    labeller: object = None,
    max_chars: int | None = None,
) -> tuple[str, list[str]]:
    """The headline and topic list of a correction, or :class:`CorrectionError` saying why not.

    ``labels`` are the topics a model can learn; ``none_label`` (``other``) means "none of them"
    and so cannot stand beside a real topic.
    """
    problem = headline_problem(headline, max_chars)
    if problem is not None:
        words = (
            f"is longer than {max_chars} characters"
            if problem == "too long"
            else PROBLEM_WORDS[problem]
        )
        raise CorrectionError("headline", f"'headline' {words}")
    if not isinstance(topics, list) or not topics:
        raise CorrectionError(
            "topics", "'topics' must be a non-empty array of topics, primary first"
        )
    if len(topics) > MAX_TOPICS:
        raise CorrectionError("topics", f"'topics' has {len(topics)} items; at most {MAX_TOPICS}")
    for i, topic in enumerate(topics):
        if topic not in labels:
            shown = repr(topic) if isinstance(topic, str) else type(topic).__name__
            raise CorrectionError(
                f"topics[{i}]", f"unknown topic {shown}; the topics are {', '.join(labels)}"
            )
    if len(set(topics)) != len(topics):
        raise CorrectionError("topics", "a topic is repeated in 'topics'")
    if none_label is not None and none_label in topics and len(topics) > 1:
        raise CorrectionError(
            "topics", f"{none_label!r} means none of the topics: it cannot stand beside one"
        )
    for name, value, limit in (
        ("note", note, MAX_NOTE_CHARS),
        ("labeller", labeller, MAX_LABELLER_CHARS),
    ):
        if value is None:
            continue
        if not isinstance(value, str) or headline_problem(value) == "not UTF-8":
            raise CorrectionError(name, f"{name!r} must be text")
        if len(value) > limit:
            raise CorrectionError(
                name, f"{name!r} is {len(value)} characters long; the limit is {limit}"
            )
    return headline, list(topics)  # type: ignore[return-value]  # both checked above


class FeedbackStore:
    """Append corrections, read the newest per headline or the whole history, count the untrained.

    One connection per store object, opened on first use, shared by threads under a lock; make
    one object per process (a forked worker must open its own).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid: int | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is not None and self._pid == os.getpid():
            return self._db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("BEGIN IMMEDIATE")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise OSError(
                    f"feedback store {self.path} was written by a newer version (schema "
                    f"{version}); upgrade headline-topics"
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            db.close()
            raise OSError(f"feedback store {self.path} is not usable: {exc}") from exc
        except BaseException:
            db.close()
            raise
        self._db, self._pid = db, os.getpid()
        return db

    def add(
        self,
        headline: str,
        topics: Sequence[str],
        *,
        note: str | None = None,
        labeller: str | None = None,
        model: str | None = None,
        model_topics: Sequence[str] | None = None,
    ) -> tuple[Correction, Correction | None]:
        """Store a correction (already checked: :func:`check_correction`); returns it, committed,
        and the correction of the same headline it supersedes, if any."""
        created = datetime.now(UTC).isoformat(timespec="microseconds")
        key = normalise_headline(headline)
        row = (
            created,
            key,
            headline,
            json.dumps(list(topics)),
            note,
            labeller,
            model,
            None if model_topics is None else json.dumps(list(model_topics)),
        )
        with self._lock:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                before = db.execute(
                    f"SELECT {_COLUMNS} FROM correction WHERE key = ? ORDER BY id DESC LIMIT 1",
                    (key,),
                ).fetchone()
                cursor = db.execute(
                    "INSERT INTO correction "
                    "(created, key, headline, topics, note, labeller, model, model_topics) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                new_id = cursor.lastrowid
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        stored = Correction.from_row((new_id, created, *row[2:]))
        logger.info("correction %d stored (%s)", new_id, labeller or "no labeller")
        return stored, None if before is None else Correction.from_row(before)

    def _select(self, sql: str, params: Iterable[Any] = ()) -> list[Correction]:
        with self._lock:
            rows = self._connection().execute(sql, tuple(params)).fetchall()
        return [Correction.from_row(row) for row in rows]

    def latest(self) -> list[Correction]:
        """The current correction of every headline (its newest), oldest first."""
        return self._select(
            f"SELECT {_COLUMNS} FROM correction WHERE id IN "
            "(SELECT MAX(id) FROM correction GROUP BY key) ORDER BY id"
        )

    def history(self, headline: str | None = None) -> list[Correction]:
        """Every correction (of ``headline`` only, when given), oldest first."""
        if headline is None:
            return self._select(f"SELECT {_COLUMNS} FROM correction ORDER BY id")
        return self._select(
            f"SELECT {_COLUMNS} FROM correction WHERE key = ? ORDER BY id",
            (normalise_headline(headline),),
        )

    def summary(self, trained_through: int | None = None) -> Summary:
        """Counts, with ``untrained``: headlines whose newest correction has an id over
        ``trained_through`` (the newest correction a model was trained on; None: none)."""
        after = trained_through or 0
        with self._lock:
            db = self._connection()
            total, newest_id = db.execute("SELECT COUNT(*), MAX(id) FROM correction").fetchone()
            headlines, untrained = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(latest > ?), 0) FROM "
                "(SELECT MAX(id) AS latest FROM correction GROUP BY key)",
                (after,),
            ).fetchone()
            newest = None
            if newest_id is not None:
                newest = db.execute(
                    "SELECT created FROM correction WHERE id = ?", (newest_id,)
                ).fetchone()[0]
        return Summary(total, headlines, newest_id, newest, int(untrained))

    def close(self) -> None:
        with self._lock:
            if self._db is not None and self._pid == os.getpid():
                self._db.close()
            self._db = None


def corrections_record(corrections: Sequence[Correction], source: str) -> dict[str, Any]:
    """What a model's manifest says about the corrections it was trained on: how many, a hash
    of their ids and contents, the newest (id and time) and where they came from."""
    digest = hashlib.sha256()
    for c in corrections:
        digest.update(f"{c.id}\x1f{c.headline}\x1f{';'.join(c.topics)}\x1e".encode())
    newest = max(corrections, key=lambda c: c.id, default=None)
    return {
        "source": source,
        "count": len(corrections),
        "sha256": digest.hexdigest(),
        "newest_id": None if newest is None else newest.id,
        "newest": None if newest is None else newest.created,
    }
