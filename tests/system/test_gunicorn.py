"""A real ``headline-topics serve`` (gunicorn, two workers) on 127.0.0.1, started and stopped here.

The store holds the shipped model (current) and a second version trained here with the real
encoder. While eight clients keep sending requests, the second version is promoted: no request
may fail, every response must name one version and carry exactly that version's scores, and
both workers must switch within a few seconds, without a restart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from classifier.encoders import embedder_for
from classifier.topics.store import ModelStore
from tests.conftest import ENCODER_CACHE_ENV, ROOT, load_project_data
from tests.service.support import train_version
from tests.support import free_port, start_server, stop_server, wait_ready

pytestmark = pytest.mark.slow

TOKEN = "gunicorn-test-token-9f8e7d6c5b4a"
RELOAD_CHECK_MS = 200
SWITCH_GRACE_S = 5.0  # a worker checks CURRENT every 0.2 s; loading v2 takes well under this
ROWS = load_project_data()
HEADLINES = [r["headline"] for r in ROWS[7::301]][:16]


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log: Path

    def stop(self, timeout: float = 30.0) -> int | None:
        return stop_server(self.process, timeout)


@pytest.fixture(scope="module")
def store(tmp_path_factory, real_embedder):
    """The shipped model (current) and 'v-retrained', trained here on 1 row in 50."""
    root = tmp_path_factory.mktemp("gunicorn") / "models"
    root.mkdir()
    shipped = ModelStore(ROOT / "models").current_version()
    shutil.copytree(ROOT / "models" / shipped, root / shipped)
    store = ModelStore(root)
    store.promote(shipped)
    train_version(store, ROWS[2::50], "v-retrained", real_embedder, promote=False)
    return store, shipped, "v-retrained"


@pytest.fixture(scope="module")
def server(store, tmp_path_factory):
    model_store, _, _ = store
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn-log") / "server.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HEADLINE_TOPICS_") or k == ENCODER_CACHE_ENV
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        HEADLINE_TOPICS_RELOAD_CHECK_MS=str(RELOAD_CHECK_MS),
        HEADLINE_TOPICS_ADMIN_TOKEN=TOKEN,
        HEADLINE_TOPICS_MAX_BODY_BYTES="65536",
    )
    process = start_server(port, 2, 16, model_store.root, log, env=env)
    running = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        try:
            wait_ready(port, process, timeout=180)
        except RuntimeError as exc:  # exited, or not ready in time
            pytest.fail(f"gunicorn: {exc}:\n{log.read_text()}")
        yield running
    finally:
        running.stop()


def predictions_total(url: str) -> float:
    text = requests.get(url + "/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "headline_topics_predictions_total"
    )


def test_serves_the_current_model(server, store):
    _, shipped, _ = store
    response = requests.post(
        server.url + "/v1/predict", json={"headline": "Measles outbreak spreads"}, timeout=30
    )
    assert response.status_code == 200
    assert response.json()["model"] == shipped == response.headers["X-Model-Version"]
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}


def test_bad_input_over_real_http_gets_json_errors(server):
    url = server.url + "/v1/predict"
    cases = [
        (requests.post(url, data="{oops", headers={"Content-Type": "application/json"}), 400),
        (requests.post(url, data="headline=x", headers={"Content-Type": "text/plain"}), 415),
        (requests.post(url, json={"headline": "x" * 70_000}), 413),
        (  # chunked, so no Content-Length to refuse it early: the limit applies while reading
            requests.post(
                url,
                data=(b'{"headline": "' + b"x" * 8192 for _ in range(10)),
                headers={"Content-Type": "application/json"},
            ),
            413,
        ),
        (requests.post(url, json={"headlines": [" "]}), 400),
        (requests.get(url), 405),
        (requests.get(server.url + "/nowhere"), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"]["status"] == status


def test_promotion_while_requests_are_in_flight(server, store):
    model_store, old, new = store
    # the server encodes with the backend of the model it started on (the shipped model's) and
    # keeps that encoder across reloads; int8 vectors do not depend on batching, so scores match
    served = embedder_for(model_store.read_manifest(old), models_dir=model_store.root)
    expected = {}
    for version in (old, new):
        model = model_store.load(version, embedder=served)
        expected[version] = dict(zip(HEADLINES, model.predict(HEADLINES), strict=True))
    differs = max(
        abs(expected[old][h].scores[t] - expected[new][h].scores[t])
        for h in HEADLINES
        for t in expected[old][h].scores
    )
    assert differs > 0.01  # otherwise "carries that version's scores" would prove nothing

    before = predictions_total(server.url)
    results: list[tuple[float, str, int, dict, str | None]] = []
    lock = threading.Lock()
    stop = threading.Event()
    promoted_at: list[float] = []
    deadline = time.monotonic() + 90

    def client(index: int) -> None:
        with requests.Session() as session:
            ask(session, index)

    def ask(session: requests.Session, k: int) -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            headline = HEADLINES[k % len(HEADLINES)]
            k += 1
            started = time.monotonic()
            try:
                response = session.post(
                    server.url + "/v1/predict", json={"headline": headline}, timeout=60
                )
                row = (
                    started,
                    time.monotonic(),
                    headline,
                    response.status_code,
                    response.json(),
                    response.headers.get("X-Model-Version"),
                )
            except requests.RequestException as exc:  # a failure is a result too
                row = (started, time.monotonic(), headline, -1, {"exception": str(exc)}, None)
            with lock:
                results.append(row)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(client, i) for i in range(8)]
        while len(results) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        promote_started = time.monotonic()
        model_store.promote(new)
        promoted_at.append(time.monotonic())
        # keep the load on until enough requests started well after the switch
        while time.monotonic() < deadline:
            with lock:
                late = sum(1 for r in results if r[0] > promoted_at[0] + SWITCH_GRACE_S)
            if late >= 40:
                break
            time.sleep(0.05)
        stop.set()
        for future in futures:
            future.result()

    failures = [r for r in results if r[3] != 200]
    assert not failures, failures[:3]
    seen = set()
    for started, finished, headline, _, body, header in results:
        version = body["model"]
        assert version in (old, new) and header == version
        want = expected[version][headline]
        assert body["topic"] == want.topic and body["topics"] == want.topics
        for topic, score in want.scores.items():
            assert abs(body["scores"][topic] - score) <= 1e-3, (version, headline, topic)
        # answered before promote began: the old model. (A request sent before the promote but
        # answered after it may get either; which one is the worker's to choose, per request.)
        if finished < promote_started:
            assert version == old
        if started > promoted_at[0] + SWITCH_GRACE_S:
            assert version == new, "a worker still served the old model seconds after promote"
        seen.add(version)
    assert seen == {old, new}
    # both workers' counters, summed by prometheus-client's multiprocess mode
    assert predictions_total(server.url) - before == len(results)


def test_admin_reload_over_http(server, store):
    _, _, new = store
    url = server.url + "/v1/admin/reload"
    assert requests.post(url, timeout=10).status_code == 401
    response = requests.post(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert response.status_code == 200
    assert response.json()["version"] == new


def test_server_stops_cleanly(server):
    assert server.stop() == 0
    log = server.log.read_text()
    assert "Traceback" not in log, log
