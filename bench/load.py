"""The two child processes of bench/service.py: the bare encoder, and a load generator.

Both run in their own processes (spawned) so that neither the encoder's threads nor the
generator's sockets share a GIL with the service they are measured against.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing as mp
import os
import statistics
import threading
import time

MAX_REQUESTS_PER_PHASE = 20_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# -- baseline --------------------------------------------------------------------
def encoder_baseline(headlines: list[str], threads: int, backend: str, conn) -> None:
    """Measure the bare encoder on request: ``(batch, seconds)`` in, figures out, ``None`` ends.

    The process stays up for the whole run so that baseline and service can be measured in
    alternating rounds: load from other programs then weighs on both alike. The encoder is used
    exactly as a service worker uses it: loaded and warmed up in the main thread, then called
    from another thread (the batcher's). That matters: on a machine whose cores were busy,
    libgomp's spinning made calls from the thread that first used torch up to 30x slower than
    calls from a second thread, and a baseline measured that way would flatter the service.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from classifier.encoders import make_embedder

    embedder = make_embedder(backend=backend, threads=threads, batch_size=32)
    embedder.encode(headlines[:32])  # load and warm up, in the main thread like create_app

    def serve() -> None:
        embedder.encode(headlines[:32])
        i = 0
        while (request := conn.recv()) is not None:
            batch, duration = request
            times, done = [], 0
            started = time.perf_counter()
            while time.perf_counter() - started < duration or len(times) < 3:
                chunk = [headlines[(i + j) % len(headlines)] for j in range(batch)]
                i += batch
                t0 = time.perf_counter()
                embedder.encode(chunk)
                times.append(time.perf_counter() - t0)
                done += batch
            conn.send(
                {
                    "headlines_per_s": done / (time.perf_counter() - started),
                    "p50_s": statistics.median(times),
                    "calls": len(times),
                }
            )

    thread = threading.Thread(target=serve, name="encoder-baseline")
    thread.start()
    thread.join()


class Baseline:
    """The encoder-baseline process and a way to ask it for one measurement."""

    def __init__(self, headlines: list[str], threads: int, backend: str) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=encoder_baseline, args=(headlines, threads, backend, child)
        )
        self.process.start()

    def measure(self, batch: int, duration: float) -> dict[str, float]:
        self.conn.send((batch, duration))
        if not self.conn.poll(duration + 600):
            raise RuntimeError("the encoder baseline did not answer")
        return self.conn.recv()

    def close(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self.conn.send(None)
        self.process.join(30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(10)


# -- load generator (child process) --------------------------------------------------------------
def load_generator(
    port: int, clients: int, per_request: int, headlines: list[str], duration: float, out
) -> None:
    """``clients`` threads, each with one keep-alive connection, for ``duration`` seconds."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    budget = [MAX_REQUESTS_PER_PHASE]
    start_line = threading.Barrier(clients)
    window: dict[str, float] = {}

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        k = index * 7919
        mine: list[float] = []

        def ask() -> float:
            nonlocal k, conn
            texts = [headlines[(k + j) % len(headlines)] for j in range(per_request)]
            k += per_request
            body = {"headline": texts[0]} if per_request == 1 else {"headlines": texts}
            payload = json.dumps(body).encode()
            t0 = time.perf_counter()
            conn.request("POST", "/v1/predict", payload, {"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - t0
            if response.status != 200:
                raise RuntimeError(f"status {response.status}: {data[:200]!r}")
            return elapsed

        try:
            for _ in range(2):  # warm the connection and the server's threads; not counted
                ask()
            start_line.wait()
            # a fresh connection: waiting at the start line for slower clients may outlast the
            # server's keep-alive, which would close the warm one under a loaded machine
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            if index == 0:
                window["start"] = time.perf_counter()
            stop_at = time.perf_counter() + duration
            while time.perf_counter() < stop_at:
                with lock:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
                mine.append(ask())
        except Exception as exc:  # reported, never hidden
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - window.get("start", time.perf_counter())
    out.put(
        {
            "clients": clients,
            "per_request": per_request,
            "requests": len(latencies),
            "elapsed": elapsed,
            "p50_s": percentile(latencies, 50),
            "p99_s": percentile(latencies, 99),
            "failures": failures[:5],
            "failed": len(failures),
        }
    )


def run_in_child(target, *args, timeout: float = 900):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    try:
        return queue.get(timeout=timeout)
    finally:
        process.join(30)
        if process.is_alive():
            process.terminate()
            process.join(10)
