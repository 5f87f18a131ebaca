"""An on-disk cache of sentence embeddings, so re-tagging an archive skips the encoder.

Embeddings depend only on the encoder and the text, not on the head, so a new model version
trained on the same encoder can re-tag an archive from the cache alone. Each encoder gets its
own SQLite file named after its :attr:`~classifier.encoders.base.EncoderInfo.cache_key`; rows are keyed by a 128-bit hash of the exact text
that was embedded. SQLite gives transactions (a killed run leaves a consistent cache) and
lets several processes on one machine share the file (WAL mode); it is not meant to sit on a
network file system.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifier.encoders.base import EncoderInfo

logger = logging.getLogger(__name__)

_QUERY_BATCH = 500


def text_key(text: str) -> bytes:
    """128-bit key of a text; collisions are astronomically unlikely at archive sizes."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class EmbeddingCache:
    """``get_many``/``put_many`` of float32 vectors for one encoder, stored in ``directory``.

    ``fingerprint`` is the encoder's cache key: open one with :meth:`for_encoder`.
    """

    def __init__(self, directory: str | os.PathLike[str], fingerprint: str, dimension: int):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.dimension = int(dimension)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"embeddings-{fingerprint[:16]}-{self.dimension}.sqlite"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._db:
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS embedding "
                    "(key BLOB PRIMARY KEY, vector BLOB NOT NULL) WITHOUT ROWID"
                )
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('fingerprint', ?), ('dimension', ?)",
                    (fingerprint, str(self.dimension)),
                )
            stored = dict(self._db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise OSError(f"embedding cache {self.path} is not usable: {exc}") from exc
        if stored.get("fingerprint") != fingerprint or stored.get("dimension") != str(
            self.dimension
        ):
            self._db.close()
            raise OSError(
                f"embedding cache {self.path} belongs to another encoder "
                f"({stored.get('fingerprint', '?')[:12]}); remove it or use another --cache folder"
            )
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_encoder(cls, directory: str | os.PathLike[str], info: EncoderInfo) -> EmbeddingCache:
        """The cache of the encoder ``info`` describes, in ``directory``."""
        return cls(directory, info.cache_key, info.dimension)

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The vectors found for ``keys``; a damaged entry counts as missing."""
        found: dict[bytes, np.ndarray] = {}
        width = self.dimension * 4
        with self._lock:
            for i in range(0, len(keys), _QUERY_BATCH):
                part = list(keys[i : i + _QUERY_BATCH])
                marks = ",".join("?" * len(part))
                for key, blob in self._db.execute(
                    f"SELECT key, vector FROM embedding WHERE key IN ({marks})", part
                ):
                    if len(blob) == width:
                        found[key] = np.frombuffer(blob, dtype=np.float32)
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(keys), self.dimension):
            raise ValueError(
                f"expected {len(keys)} vectors of {self.dimension}, got {vectors.shape}"
            )
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embedding VALUES (?, ?)",
                ((key, vector.tobytes()) for key, vector in zip(keys, vectors, strict=True)),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM embedding").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
