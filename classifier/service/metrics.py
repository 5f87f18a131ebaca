"""Prometheus metrics: requests, latencies, predictions per topic, encoder batches, recent
headlines reused, model swaps.

Each app gets its own registry, so several apps in one process (tests) do not collide. Under
gunicorn with several workers each worker is its own process with its own counters; the ``serve``
command then turns on prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set
before the library is imported) so that /metrics, whichever worker answers it, reports the sum
over all workers. Without that mode the figures are those of the one process that answered.
The route that serves them is :mod:`classifier.service.metrics_endpoint`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from flask import Flask, Response, g, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import values as prometheus_values

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def multiprocess_mode() -> bool:
    """True when prometheus-client was imported with PROMETHEUS_MULTIPROC_DIR set."""
    return prometheus_values.ValueClass is not prometheus_values.MutexValue and bool(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    )


class ServiceMetrics:
    """The service's metric objects and how to render them."""

    def __init__(self) -> None:
        self.multiprocess = multiprocess_mode()
        # in multiprocess mode values live in files and are gathered at scrape time
        self.registry = None if self.multiprocess else CollectorRegistry(auto_describe=True)
        reg = {"registry": self.registry}
        self.requests = Counter(
            "headline_topics_http_requests",
            "HTTP requests answered, by endpoint, method and status",
            ["endpoint", "method", "status"],
            **reg,
        )
        self.latency = Histogram(
            "headline_topics_http_request_duration_seconds",
            "Time to answer a request, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            **reg,
        )
        self.predictions = Counter(
            "headline_topics_predictions",
            "Headlines classified, by top topic and model version",
            ["topic", "model"],
            **reg,
        )
        self.batch_headlines = Histogram(
            "headline_topics_encoder_batch_headlines",
            "Headlines per encoder call (micro-batches merge concurrent requests)",
            buckets=BATCH_BUCKETS,
            **reg,
        )
        self.batch_requests = Histogram(
            "headline_topics_encoder_batch_requests",
            "Requests merged into one encoder call",
            buckets=BATCH_BUCKETS,
            **reg,
        )
        self.batch_seconds = Histogram(
            "headline_topics_encoder_batch_seconds",
            "Time of one encoder call",
            buckets=LATENCY_BUCKETS,
            **reg,
        )
        self.recent_headlines = Counter(
            "headline_topics_recent_headlines",
            "Headlines looked up among the recent ones (hit: not encoded again; miss: encoded)",
            ["result"],
            **reg,
        )
        gauge_mode = {"multiprocess_mode": "liveall"} if self.multiprocess else {}
        self.model_info = Gauge(
            "headline_topics_model_info",
            "1 for the model version being served (per process in multiprocess mode)",
            ["version"],
            **reg,
            **gauge_mode,
        )
        self.reloads = Counter(
            "headline_topics_model_reloads",
            "Model loads by outcome: start, swapped (a new CURRENT), failed (old one kept)",
            ["outcome"],
            **reg,
        )

    # -- hooks ---------------------------------------------------------------------------------
    def on_model(self, previous: str | None, version: str | None, outcome: str) -> None:
        self.reloads.labels(outcome=outcome).inc()
        if outcome != "failed":
            if previous and previous != version:
                self.model_info.labels(version=previous).set(0)
            if version:
                self.model_info.labels(version=version).set(1)

    def on_batch(self, requests: int, headlines: int, seconds: float) -> None:
        self.batch_requests.observe(requests)
        self.batch_headlines.observe(headlines)
        self.batch_seconds.observe(seconds)

    def on_recent(self, hits: int, misses: int) -> None:
        if hits:
            self.recent_headlines.labels(result="hit").inc(hits)
        if misses:
            self.recent_headlines.labels(result="miss").inc(misses)

    def count_predictions(self, topics: Iterable[str], model: str | None) -> None:
        for topic in topics:
            self.predictions.labels(topic=topic, model=model or "unknown").inc()

    # -- output --------------------------------------------------------------------------------
    def render(self) -> bytes:
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def install(self, app: Flask) -> None:
        """Time and count every request of ``app``, including errors."""

        @app.before_request
        def _start_timer() -> None:
            g.metrics_started = time.perf_counter()

        @app.after_request
        def _record(response: Response) -> Response:
            started = g.pop("metrics_started", None)
            # the route pattern, not the path, so unknown URLs cannot blow up label cardinality
            endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
            method = request.method if request.method in KNOWN_METHODS else "other"
            self.requests.labels(
                endpoint=endpoint, method=method, status=str(response.status_code)
            ).inc()
            if started is not None:
                self.latency.labels(endpoint=endpoint).observe(time.perf_counter() - started)
            return response
