"""Micro-batching: concurrent requests share encoder calls, and the answers do not change.

The tests about the order of events use :class:`GatedEncoder`, whose calls wait until the test
lets them through, so what they check does not hang on how fast a loaded machine runs threads.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from classifier.service.batcher import BatcherClosed, MicroBatcher
from classifier.topics.store import ModelStore
from tests.conftest import FakeEmbedder
from tests.service.support import ROWS, SAMPLE, make_app, post, scrape, svc


class SlowEncoder:
    """Records batch sizes; slow enough that concurrent callers pile up behind a batch."""

    def __init__(self, delay: float = 0.05) -> None:
        self.inner = FakeEmbedder()
        self.delay = delay
        self.batches: list[int] = []

    def __call__(self, texts):
        self.batches.append(len(texts))
        time.sleep(self.delay)
        return self.inner.encode(texts)


class GatedEncoder:
    """Records batch sizes; every call waits until the test lets it through, so the test decides
    what is queued while the encoder is busy."""

    def __init__(self) -> None:
        self.inner = FakeEmbedder()
        self.batches: list[int] = []
        self._started: queue.Queue[int] = queue.Queue()
        self._gate = threading.Semaphore(0)

    def __call__(self, texts):
        self.batches.append(len(texts))
        self._started.put(len(texts))
        if not self._gate.acquire(timeout=10):
            raise TimeoutError("the test never let this encoder call through")
        return self.inner.encode(texts)

    def next_call(self) -> int:
        """Wait for the encoder's next call (it is now blocked); the size of its batch."""
        return self._started.get(timeout=10)

    def let_through(self, calls: int = 1) -> None:
        for _ in range(calls):
            self._gate.release()


def test_batcher_merges_concurrent_requests_with_identical_results():
    encoder = SlowEncoder()
    batcher = MicroBatcher(encoder, max_wait_s=0.01, max_batch=8)
    texts = SAMPLE[:24]
    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(lambda t: batcher.encode([t], timeout=10), texts))
    batcher.close()
    expected = FakeEmbedder().encode(texts)
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_array_equal(got, want[None, :])
    assert sum(encoder.batches) == 24
    assert max(encoder.batches) <= 8 and len(encoder.batches) < 24
    assert max(encoder.batches) > 1


def test_batcher_does_not_wait_when_there_is_one_client():
    """With one client nothing else will arrive, so no batch may sit out the wait for more.

    The wait is an hour long: a call that waited would fail on its 10 s timeout.
    """
    encoder = SlowEncoder(delay=0.0)
    batcher = MicroBatcher(encoder, max_wait_s=3600.0, max_batch=32)
    for text in SAMPLE[:5]:
        batcher.encode([text], timeout=10)
    batcher.close()
    assert encoder.batches == [1, 1, 1, 1, 1]


def test_batcher_splits_big_requests_so_small_ones_take_turns():
    encoder = GatedEncoder()
    batcher = MicroBatcher(encoder, max_wait_s=0.0, max_batch=4)
    big = SAMPLE[:20]
    with ThreadPoolExecutor(1) as pool:
        big_future = pool.submit(batcher.encode, big, timeout=10)
        assert encoder.next_call() == 4  # the big request's first chunk
        encoder.let_through()
        assert encoder.next_call() == 4  # the big request is on its second chunk
        small_future = batcher.submit(SAMPLE[20:21])
        encoder.let_through(5)  # the second chunk, the small request and the last three chunks
        got = big_future.result(timeout=10)
        small = small_future.result(timeout=10)
    batcher.close()
    np.testing.assert_array_equal(got, FakeEmbedder().encode(big))
    np.testing.assert_array_equal(small, FakeEmbedder().encode(SAMPLE[20:21]))
    assert max(encoder.batches) <= 4 and sum(encoder.batches) == 21
    # the small request did not wait for all five chunks of the big one: it went next
    assert encoder.batches.index(1) < len(encoder.batches) - 1
    assert encoder.batches == [4, 4, 1, 4, 4, 4]


def test_batcher_scores_each_request_with_its_own_model(models_dir):
    """During a swap one batch can hold requests for two versions: each gets its own head."""
    store = ModelStore(models_dir)
    v1 = store.load("v1", embedder=FakeEmbedder())
    v2 = store.load("v2", embedder=FakeEmbedder())
    encoder = GatedEncoder()
    batcher = MicroBatcher(encoder, max_wait_s=0.05, max_batch=64)
    blocker = batcher.submit(["occupies the encoder while the others queue up"])
    assert encoder.next_call() == 1  # the blocker is in the encoder; the others queue behind it
    futures = [
        (v1, SAMPLE[:3], batcher.submit(SAMPLE[:3], v1)),
        (v2, SAMPLE[3:5], batcher.submit(SAMPLE[3:5], v2)),
        (None, SAMPLE[5:7], batcher.submit(SAMPLE[5:7])),
        (v1, SAMPLE[7:8], batcher.submit(SAMPLE[7:8], v1)),
    ]
    encoder.let_through(2)
    blocker.result(timeout=10)
    for model, texts, future in futures:
        got = future.result(timeout=10)
        if model is None:
            np.testing.assert_array_equal(got, FakeEmbedder().encode(texts))
        else:  # the same as that model scoring these headlines on its own
            np.testing.assert_array_equal(got, model.scores(texts))
    batcher.close()
    assert encoder.batches == [1, 8]  # the four requests shared one encoder call


def test_batcher_hands_an_encoder_failure_to_every_waiting_request():
    def broken(texts):
        time.sleep(0.02)
        raise RuntimeError("out of memory")

    batcher = MicroBatcher(broken, max_wait_s=0.01, max_batch=8)
    futures = [batcher.submit([t]) for t in SAMPLE[:5]]
    for future in futures:
        with pytest.raises(RuntimeError, match="out of memory"):
            future.result(timeout=10)
    batcher.close()
    with pytest.raises(BatcherClosed):
        batcher.submit(["late"])


def test_concurrent_http_requests_are_batched_and_identical_to_unbatched(models_dir):
    encoder = SlowEncoder(delay=0.03)
    fake = FakeEmbedder()
    fake.encode = lambda texts, batch_size=None: encoder(list(texts))
    app = make_app(models_dir, embedder=fake, batch_wait_ms=10, batch_max_size=16)
    client = app.test_client()
    with ThreadPoolExecutor(16) as pool:
        bodies = list(pool.map(lambda h: post(client, {"headline": h}).get_json(), SAMPLE[:32]))
    reference = ModelStore(models_dir).load("v1", embedder=FakeEmbedder())
    for headline, body in zip(SAMPLE[:32], bodies, strict=True):
        assert body == reference.predict(headline).to_dict()
    assert max(encoder.batches) > 1
    batches = scrape(client)[("headline_topics_encoder_batch_requests_count", ())]
    assert batches < 32  # one encoder call per request without batching


# -- the real encoder ----------------------------------------------------------------------------


@pytest.mark.slow
def test_real_batched_answers_equal_one_at_a_time(real_app):
    """Concurrent single-headline requests share encoder batches; answers must not change."""
    client = real_app.test_client()
    headlines = [r["headline"] for r in ROWS[3::211]][:24]
    barrier = threading.Barrier(len(headlines))

    def ask(headline):
        barrier.wait()
        return post(client, {"headline": headline}).get_json()

    with ThreadPoolExecutor(len(headlines)) as pool:
        batched = list(pool.map(ask, headlines))
    model = svc(real_app).holder.model
    alone = [model.predict(h).to_dict() for h in headlines]  # encoder at batch 1, no batcher
    for got, want in zip(batched, alone, strict=True):
        # padding a batch moves embeddings by ~2e-7 and scores by ~1e-6: at most one unit in
        # the 4th decimal, and only when a score sits on a rounding edge
        assert (got["model"], got["topic"], got["topics"]) == (
            want["model"],
            want["topic"],
            want["topics"],
        )
        for label in want["scores"]:
            assert abs(got["scores"][label] - want["scores"][label]) <= 1e-4
    sizes = scrape(client)[("headline_topics_encoder_batch_headlines_sum", ())]
    calls = scrape(client)[("headline_topics_encoder_batch_headlines_count", ())]
    assert sizes / calls > 1.5  # the requests really were merged
