"""A bounded soak: 32 clients against a real gunicorn on 127.0.0.1, with a model reload mid-way.

Starts ``headline-topics serve`` (2 workers x 16 threads) on a private copy of the shipped
model plus a second version trained here with the real encoder. For ``--seconds`` (default 60),
``--clients`` threads (default 32) each keep one connection and post 1-8 project headlines at a
time. Half-way through, the second version is promoted and ``POST /v1/admin/reload`` is called;
the other worker follows CURRENT by itself. The worker RSS is sampled every second.

Prints: requests, failures (non-200 or connection errors), p50/p99 latency, the versions that
answered, and the workers' RSS at start and end with the growth between the mean of the first
and of the last quarter of the run (target: zero failures, growth under 10%).

    .venv/bin/python bench/soak.py [--seconds 60] [--clients 32]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_line, table  # noqa: E402
from bench.load import percentile  # noqa: E402
from tests.support import (  # noqa: E402
    free_port,
    private_store,
    start_server,
    wait_ready,
    worker_pids,
)

TOKEN = "soak-admin-token-" + os.urandom(8).hex()
RELOAD_CHECK_MS = 500


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def train_second_version(models: Path) -> str:
    """A second model version (1 project row in 10, the served model's own encoder) to reload to
    mid-soak."""
    from classifier.encoders import embedder_for
    from classifier.topics.store import ModelStore
    from tests.support import load_project_data, save_model

    rows = load_project_data()[3::10]
    texts = [r["headline"] for r in rows]
    labels = [r["topic"] for r in rows]
    store = ModelStore(models)
    encoder = embedder_for(store.read_manifest(), models_dir=ROOT / "models")
    return save_model(store, texts, labels, encoder, version="v-soak-reload", promote=False)


class Load:
    """The client threads and what they saw."""

    def __init__(self, url: str, headlines: list[str], clients: int) -> None:
        self.url = url
        self.headlines = headlines
        self.clients = clients
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.failures: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()

    def client(self, seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        while not self.stop.is_set():
            k = rng.randint(1, 8)
            body = (
                {"headline": rng.choice(self.headlines)}
                if k == 1
                else {"headlines": rng.sample(self.headlines, k)}
            )
            started = time.perf_counter()
            try:
                response = session.post(self.url + "/v1/predict", json=body, timeout=30)
                status = response.status_code
                version = response.headers.get("X-Model-Version", "?")
            except requests.RequestException as exc:
                status, version = type(exc).__name__, None
            elapsed = time.perf_counter() - started
            with self.lock:
                if status == 200:
                    self.latencies.append(elapsed)
                    self.versions[version] += 1
                else:
                    self.failures[str(status)] += 1

    def run(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self.client, args=(i,), daemon=True)
            for i in range(self.clients)
        ]
        for thread in threads:
            thread.start()
        return threads


def main() -> int:
    print(machine_line(), flush=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    from tests.support import load_project_data

    headlines = [r["headline"] for r in load_project_data()]
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    models = workdir / "models"
    models.mkdir()
    shipped = private_store(ROOT / "models", models)
    second = train_second_version(models)
    os.environ.update(
        HEADLINE_TOPICS_ADMIN_TOKEN=TOKEN,
        HEADLINE_TOPICS_RELOAD_CHECK_MS=str(RELOAD_CHECK_MS),
    )
    port = free_port()
    process = start_server(port, args.workers, args.threads, models, workdir / "server.log")
    try:
        wait_ready(port, process)
        url = f"http://127.0.0.1:{port}"
        workers = worker_pids(process.pid)
        load = Load(url, headlines, args.clients)
        started = time.monotonic()
        threads = load.run()
        samples: list[tuple[float, float]] = []  # (seconds since start, total worker RSS MB)
        reload_result = None
        while (now := time.monotonic() - started) < args.seconds:
            samples.append((now, sum(rss_mb(pid) for pid in workers)))
            if reload_result is None and now >= args.seconds / 2:
                from classifier.topics.store import ModelStore

                ModelStore(models).promote(second)
                reply = requests.post(
                    url + "/v1/admin/reload",
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=60,
                )
                reload_result = f"{reply.status_code} {reply.json()}"
            time.sleep(1.0)
        load.stop.set()
        for thread in threads:
            thread.join(60)
        samples.append((time.monotonic() - started, sum(rss_mb(pid) for pid in workers)))
        alive = process.poll() is None and sorted(worker_pids(process.pid)) == sorted(workers)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except Exception:
                os.killpg(process.pid, signal.SIGKILL)  # our own session only
        log = (workdir / "server.log").read_text(errors="replace")
        shutil.rmtree(workdir, ignore_errors=True)

    quarter = max(1, len(samples) // 4)
    first = sum(r for _, r in samples[:quarter]) / quarter
    last = sum(r for _, r in samples[-quarter:]) / quarter
    requests_total = len(load.latencies) + sum(load.failures.values())
    growth = (last - first) / first * 100
    print(
        table(
            ["measure", "value"],
            [
                ["seconds", f"{args.seconds:.0f}"],
                ["clients", args.clients],
                ["workers x threads", f"{args.workers} x {args.threads}"],
                ["requests", requests_total],
                ["requests/s", f"{requests_total / args.seconds:.1f}"],
                ["failures", sum(load.failures.values())],
                ["p50 ms", f"{percentile(load.latencies, 50) * 1000:.1f}"],
                ["p99 ms", f"{percentile(load.latencies, 99) * 1000:.1f}"],
                ["worker RSS start MB", f"{samples[0][1]:.0f}"],
                ["worker RSS end MB", f"{samples[-1][1]:.0f}"],
                ["RSS growth Q1->Q4", f"{growth:+.1f}%"],
                ["same workers alive", alive],
            ],
        )
    )
    print(f"reload mid-soak ({shipped} -> {second}): {reload_result}")
    print(f"answers by version: {dict(load.versions)}")
    if load.failures:
        print(f"failures by kind: {dict(load.failures)}")
        print("server log tail:\n" + log[-2000:])
    ok = not load.failures and growth < 10 and alive and load.versions.get(second, 0) > 0
    print("PASS" if ok else "FAIL: failures, RSS growth >= 10%, a dead worker or no reload")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
