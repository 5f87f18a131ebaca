"""Micro-batching on the way to the encoder (and through the head).

A transformer encodes 32 headlines in one call far faster than 32 headlines one call at a time,
but HTTP clients send one headline per request. Each request hands its headlines to this batcher
and waits; one thread takes whatever requests are queued (up to ``max_batch`` headlines), waits up
to ``max_wait_s`` for more only while concurrent traffic is being seen, encodes them in one call,
and hands every request back its own rows.

A request may also name the model that must score its rows (``predict_proba``): the rows of all
requests naming the same model object then go through that model's head in one call too, since
the head has a fixed cost per call (0.34 ms for one headline, 2 ms for 32: docs/speed.md).
Requests naming different versions (during a swap) are scored by their own model each.
The head works row by row (sparse products, per-row softmax), so batching does not change its
results; the encoder pads a batch to its longest headline and masks the padding, which moves
torch's vectors by about 1e-7, below the 4 decimals the API returns, and the default onnx-int8
encoder's not at all (it scales each token on its own: classifier/quantise.py). All encoder calls
go through the one thread, which also keeps the tokenizer single-threaded.

With ``recent`` (:mod:`classifier.service.recent`) a headline seen lately, or twice in one batch,
is not encoded again: its vector is reused, and only the others go to the encoder.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from classifier.service.recent import RecentEmbeddings

logger = logging.getLogger(__name__)

Encode = Callable[[list[str]], np.ndarray]


class BatcherClosed(RuntimeError):
    """The batcher was shut down; no more headlines are encoded."""


@dataclass
class _Job:
    texts: list[str]
    model: Any = None  # when set, the job wants model.predict_proba of its rows, not embeddings
    future: Future = field(default_factory=Future)


_STOP = object()


class MicroBatcher:
    """Merge concurrent encode calls into batches handled by one background thread."""

    def __init__(
        self,
        encode: Encode,
        *,
        max_wait_s: float = 0.005,
        max_batch: int = 32,
        on_batch: Callable[[int, int, float], None] | None = None,
        recent: RecentEmbeddings | None = None,
        on_recent: Callable[[int, int], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        if max_wait_s < 0:
            raise ValueError(f"max_wait_s must not be negative, not {max_wait_s}")
        self._encode = encode
        self.max_wait_s = max_wait_s
        self.max_batch = max_batch
        self._on_batch = on_batch
        self._recent = recent  # used by the batcher's thread only
        self._on_recent = on_recent
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._busy_recently = False

    # -- callers -----------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], *, timeout: float | None = None) -> np.ndarray:
        """Embeddings for ``texts`` (shape ``(n, d)``), computed in shared batches.

        More than ``max_batch`` headlines go in chunks of ``max_batch``, one after the other, so
        a big request (a 2,000-headline clustering call) takes turns with the small ones instead
        of holding the encoder for its whole length.
        """
        texts = list(texts)
        if len(texts) <= self.max_batch:
            return self.submit(texts).result(timeout=timeout)
        parts = [
            self.submit(texts[i : i + self.max_batch]).result(timeout=timeout)
            for i in range(0, len(texts), self.max_batch)
        ]
        return np.concatenate(parts)

    def predict_proba(
        self, texts: Sequence[str], model: Any, *, timeout: float | None = None
    ) -> np.ndarray:
        """``model.scores`` of ``texts`` (what ``model.describe`` takes), encoded and scored in
        shared batches."""
        texts = list(texts)
        if len(texts) > self.max_batch:  # encoded in turns; its head runs once, here
            return model.scores(texts, embeddings=self.encode(texts, timeout=timeout))
        return self.submit(texts, model).result(timeout=timeout)

    def submit(self, texts: Sequence[str], model: Any = None) -> Future:
        if self._closed:
            raise BatcherClosed("the encoder batcher is closed")
        job = _Job(list(texts), model)
        if not job.texts:
            job.future.set_result(np.zeros((0, 0), dtype=np.float32))
            return job.future
        self._ensure_thread()
        self._queue.put(job)
        return job.future

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop the encoder thread after the jobs already queued."""
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
        while True:  # anything queued after the stop will never be encoded: say so
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not _STOP and not job.future.done():
                job.future.set_exception(BatcherClosed("the encoder batcher is closed"))

    # -- the encoder thread ------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        # started on first use, so that a process forked after create_app (gunicorn) owns it
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="encoder-batcher", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        carried: _Job | None = None
        while True:
            job = carried if carried is not None else self._queue.get()
            carried = None
            if job is _STOP:
                return
            jobs, carried, stop = self._collect(job)
            self._encode_jobs(jobs)
            if stop:
                return

    def _collect(self, first: _Job) -> tuple[list[_Job], _Job | None, bool]:
        """Gather queued jobs behind ``first`` up to ``max_batch`` headlines.

        Waiting is only worth it under concurrency: with one client nothing else will arrive,
        so the wait applies only when the previous batch merged requests or more are queued.
        """
        jobs, size = [first], len(first.texts)
        deadline = time.monotonic() + (self.max_wait_s if self._busy_recently else 0.0)
        while size < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                nxt = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if nxt is _STOP:
                return jobs, None, True
            if size + len(nxt.texts) > self.max_batch:
                self._busy_recently = True
                return jobs, nxt, False
            jobs.append(nxt)
            size += len(nxt.texts)
            if remaining <= 0 and self.max_wait_s > 0:
                # more were already queued: concurrent traffic, so allow the wait from here
                deadline = time.monotonic() + self.max_wait_s
        self._busy_recently = len(jobs) > 1
        return jobs, None, False

    def _encode_jobs(self, jobs: list[_Job]) -> None:
        texts = [text for job in jobs for text in job.texts]
        started = time.perf_counter()
        hits, encoded = 0, len(texts)
        try:
            if self._recent is not None:
                vectors, hits, encoded = self._recent.encode(self._encode, texts)
            else:
                vectors = np.asarray(self._encode(texts))
            if vectors.ndim != 2 or vectors.shape[0] != len(texts):
                raise RuntimeError(
                    f"encoder returned shape {vectors.shape} for {len(texts)} headlines"
                )
        except BaseException as exc:  # hand the failure to every waiting request
            logger.exception("encoding a batch of %d headlines failed", len(texts))
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        seconds = time.perf_counter() - started
        rows: dict[int, tuple[int, int]] = {}
        start = 0
        for job in jobs:
            rows[id(job)] = (start, start + len(job.texts))
            start += len(job.texts)
        by_model: dict[int, list[_Job]] = {}
        for job in jobs:
            if job.model is None:
                begin, end = rows[id(job)]
                job.future.set_result(vectors[begin:end])
            else:
                by_model.setdefault(id(job.model), []).append(job)
        for group in by_model.values():
            self._score(group, vectors, rows)
        try:
            if self._on_batch is not None and encoded:
                self._on_batch(len(jobs), encoded, seconds)
            if self._on_recent is not None and self._recent is not None:
                self._on_recent(hits, len(texts) - hits)
        except Exception:
            logger.exception("batch listener failed")

    @staticmethod
    def _score(group: list[_Job], vectors: np.ndarray, rows: dict[int, tuple[int, int]]) -> None:
        """One head call for every job that names the same model; each gets its own rows."""
        model = group[0].model
        texts = [text for job in group for text in job.texts]
        embeddings = np.concatenate([vectors[slice(*rows[id(job)])] for job in group])
        try:
            proba = model.scores(texts, embeddings=embeddings)
        except Exception as exc:
            for job in group:
                job.future.set_exception(exc)
            return
        start = 0
        for job in group:
            job.future.set_result(proba[start : start + len(job.texts)])
            start += len(job.texts)
