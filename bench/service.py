"""Throughput and latency of the HTTP service against the encoder's own, measured in one run.

    .venv/bin/python bench/service.py [--rounds 3] [--duration 5] [--workers 1] [--strict]
                                      [--backends onnx-int8] [--profile DIR]

Everything below runs for each encoder backend (default: onnx-int8, the default model's; with
``--backends torch,onnx-int8`` both, interleaved round by round, ending with the end-to-end gain
of each backend over the first one).

1. Baseline, in a child process: the encoder alone at batch 1 and at batch 32 on real headlines
   (../shared/data/cap_nyt_dev.csv), with the service's encoder threads and backend.
2. ``headline-topics serve`` on 127.0.0.1 (gunicorn, a private copy of the current shipped model),
   and a load generator in another process: 1, 8 and 32 concurrent clients sending one headline
   per request, and 1 client sending 32 per request. Each phase is bounded in time and requests
   and sends headlines the service has not seen lately (a fresh stretch of the 13,774), so the
   recent-headlines cache cannot flatter it: its hits are printed per phase.
3. Baseline and service phases alternate, in rounds, so that load from other programs weighs on
   both; the table shows medians over the rounds: requests/s, headlines/s, p50/p99 latency, the
   worker's peak RSS, and each target as a ratio against the baseline of the same round, PASS or
   MISS. The load average (``uptime``) is printed with every round.

Targets (issue 18): 32 single-headline clients >= 0.85x the encoder's batch-32 headlines/s;
1 client p50 <= the encoder's batch-1 call + 1.5 ms; 1 client x 32 headlines >= 0.95x batch-32
headlines/s; peak RSS of one worker <= 291 MB (the figure before issue 18). ``--profile DIR``
also records where the worker's time goes during the last round's 32-client phase
(:mod:`bench.worker_profile`: CPU per thread and py-spy's GIL samples). Skips (exit 0) when the shared
data is absent.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import Baseline, load_generator, run_in_child  # noqa: E402
from tests.support import (  # noqa: E402 - needs the repo root on the path, as a script
    free_port,
    peak_rss_mb,
    private_store,
    start_server,
    stop_server,
    wait_ready,
    worker_pids,
)

DATA = ROOT.parent / "shared" / "data" / "cap_nyt_dev.csv"
RSS_LIMIT_MB = 291  # the worker's peak before issue 18: no higher
THROUGHPUT_32X1 = 0.85  # x the encoder's batch-32 headlines/s
LATENCY_EXTRA_MS = 1.5  # over the encoder's batch-1 call
THROUGHPUT_1X32 = 0.95
STRIDE = 4099  # headlines between the start of one phase's stretch and the next


def uptime() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def fresh(headlines: list[str], phase: int) -> list[str]:
    """The headlines rotated so that each phase starts on a stretch the last ones did not use."""
    start = (phase * STRIDE) % len(headlines)
    return headlines[start:] + headlines[:start]


def recent_hits(port: int) -> float:
    """The worker's recent-headline hits so far (from /metrics; 0 when it has none)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    for line in text.splitlines():
        if line.startswith('headline_topics_recent_headlines_total{result="hit"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# -- data ----------------------------------------------------------------------------------------
def load_headlines(n: int | None = None, seed: int = 13) -> list[str]:
    with open(DATA, newline="", encoding="utf-8") as handle:
        rows = [row["headline"] for row in csv.DictReader(handle) if row["headline"].strip()]
    random.Random(seed).shuffle(rows)
    return rows if n is None else rows[:n]


# -- report --------------------------------------------------------------------------------------
SHAPES = ((1, 1), (8, 1), (32, 1), (1, 32))


def main(argv: list[str] | None = None) -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench.common import machine_line

    print(machine_line(), flush=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase")
    parser.add_argument("--rounds", type=int, default=3, help="baseline+service rounds")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=32, help="request threads per worker")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument(
        "--backends", default="onnx-int8", help="encoder backends; the first is the reference"
    )
    parser.add_argument(
        "--profile", metavar="DIR", help="record the worker during the last 32-client phase"
    )
    parser.add_argument(
        "--models-dir", default=str(ROOT / "models"), help="store whose current model is served"
    )
    args = parser.parse_args(argv)
    if not DATA.is_file():
        print(f"skipped: {DATA} is not there (the shared measurement data)")
        return 0

    from classifier.config import available_cores, encoder_threads
    from classifier.encoders import BACKENDS

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - set(BACKENDS):
        parser.error(f"--backends: choose from {', '.join(BACKENDS)}")
    cores = available_cores()
    threads = encoder_threads(args.workers, cores=cores)
    # the baseline gets the service's whole encoder budget: all its workers' threads
    baseline_threads = min(cores, args.workers * threads)
    headlines = load_headlines()
    print(
        f"{len(headlines)} headlines from {DATA.name}; {cores} cores, {uptime()} "
        f"before the run; service: {args.workers} worker(s) x {args.threads} threads, "
        f"{threads} encoder thread(s) each; encoder baseline with {baseline_threads} "
        f"thread(s); backends {', '.join(backends)}; {args.rounds} rounds of "
        f"{args.duration:g} s phases",
        flush=True,
    )

    scratch = Path(tempfile.mkdtemp(prefix="bench-service-"))
    atexit.register(shutil.rmtree, scratch, True)
    try:
        version = private_store(Path(args.models_dir), scratch / "models")
    except Exception as exc:
        print(f"cannot use the model store {args.models_dir}: {exc}")
        return 2
    print(f"serving model {version} (a private copy)", flush=True)

    servers: dict[str, tuple[int, subprocess.Popen, Path]] = {}
    baselines: dict[str, Baseline] = {}
    ready_s: dict[str, float] = {}
    rounds: dict[str, list[dict]] = {b: [] for b in backends}
    rss: dict[str, dict[int, float]] = {}
    try:
        for backend in backends:
            port, log_path = free_port(), scratch / f"server-{backend}.log"
            server = start_server(
                port, args.workers, args.threads, scratch / "models", log_path, backend
            )
            servers[backend] = (port, server, log_path)
            # one server starting at a time, and before any baseline loads its encoder
            ready_s[backend] = wait_ready(port, server)
        for backend in backends:
            baselines[backend] = Baseline(headlines, baseline_threads, backend)
        for number in range(1, args.rounds + 1):
            for backend in backends:
                port, server, _ = servers[backend]
                profile = None
                if args.profile and number == args.rounds:
                    profile = (Path(args.profile), worker_pids(server.pid)[0], backend)
                row = measure_round(
                    baselines[backend], port, headlines, args.duration, number, profile
                )
                rounds[backend].append(row)
                print(
                    f"round {number} {backend}: encoder b1 {row['b1']['headlines_per_s']:.1f}/s, "
                    f"b32 {row['b32']['headlines_per_s']:.1f}/s; service "
                    + ", ".join(
                        f"{c}x{n} {row[(c, n)]['hps']:.1f}/s ({row[(c, n)]['failed']} failed, "
                        f"{row[(c, n)]['recent_hits']:.0f} recent hits)"
                        for c, n in SHAPES
                    )
                    + f"; {uptime()}",
                    flush=True,
                )
        for backend, (_, server, _) in servers.items():
            rss[backend] = {pid: peak_rss_mb(pid) for pid in worker_pids(server.pid)}
    except Exception:
        for backend, (_, _, log_path) in servers.items():
            if log_path.exists():
                print(f"{backend} server log:\n{log_path.read_text()[-3000:]}")
        raise
    finally:
        for _, server, _ in servers.values():
            stop_server(server)
        for baseline in baselines.values():
            baseline.close()
    missed = 0
    for backend in backends:
        print(f"\n== {backend} (started and ready in {ready_s[backend]:.2f} s)")
        missed += report(rounds[backend], rss[backend], args.strict)
    if len(backends) > 1:
        compare(backends, rounds, rss, ready_s)
    print(f"\n{uptime()} after the run")
    return 1 if missed else 0


def measure_round(
    baseline: Baseline,
    port: int,
    headlines: list[str],
    duration: float,
    number: int,
    profile: tuple[Path, int, str] | None = None,
) -> dict:
    row: dict = {"b1": baseline.measure(1, duration), "b32": baseline.measure(32, duration)}
    for index, (clients, per_request) in enumerate(SHAPES):
        texts = fresh(headlines, number * len(SHAPES) + index)
        hits = recent_hits(port)
        if profile is not None and (clients, per_request) == (32, 1):
            result = profiled(profile, port, clients, per_request, texts, duration)
        else:
            result = run_in_child(load_generator, port, clients, per_request, texts, duration)
        result["recent_hits"] = recent_hits(port) - hits
        result["rps"] = result["requests"] / result["elapsed"] if result["elapsed"] else 0
        result["hps"] = result["rps"] * per_request
        row[(clients, per_request)] = result
    return row


def profiled(profile, port, clients, per_request, texts, duration) -> dict:
    """One load phase with the worker recorded (bench/worker_profile.py); the summary is printed."""
    from bench import worker_profile as spy

    folder, pid, backend = profile
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / f"service-{backend}-{clients}x{per_request}.txt"
    names = spy.thread_names(pid)
    before = spy.thread_cpu(pid)
    recorder = spy.start_record(pid, duration, raw)
    result = run_in_child(load_generator, port, clients, per_request, texts, duration)
    after = spy.thread_cpu(pid)
    if recorder is not None:
        recorder.wait(timeout=120)
    names.update(spy.thread_names(pid))  # threads started during the phase
    kinds = spy.cpu_by_kind(before, after, names)
    samples, counts = spy.categorise(raw) if raw.exists() else (0, {})
    print(f"profile of {clients}x{per_request} ({backend}), stacks in {raw}:")
    print(spy.report(kinds, result["elapsed"], samples, counts), flush=True)
    return result


def compare(backends: list[str], rounds: dict, rss: dict, ready_s: dict) -> None:
    """End to end: each backend's service against the first backend's service, same run."""
    reference = backends[0]

    def med(backend: str, shape, key: str) -> float:
        return statistics.median(r[shape][key] for r in rounds[backend])

    print(f"\nend to end, each backend's service against the {reference} service (medians)")
    header = f"{'backend':<12}" + "".join(f"{f'{c}x{n} h/s':>14}" for c, n in SHAPES)
    header += f"{'1x1 p50':>10}{'ready s':>9}{'worker RSS MB':>15}"
    print(header)
    for backend in backends:
        cells = "".join(
            f"{med(backend, s, 'hps'):>8.0f} {med(backend, s, 'hps') / med(reference, s, 'hps'):>4.2f}x"
            for s in SHAPES
        )
        p50 = med(backend, (1, 1), "p50_s") * 1000
        worker = max(rss[backend].values()) if rss[backend] else float("nan")
        print(f"{backend:<12}{cells}{p50:>8.1f}ms{ready_s[backend]:>9.2f}{worker:>15.0f}")


def report(rounds: list[dict], rss: dict[int, float], strict: bool) -> int:
    """Medians over the rounds, and each target as a ratio (with its range over the rounds)."""

    def med(values) -> float:
        return statistics.median(list(values))

    print()
    print(f"medians over {len(rounds)} rounds")
    print(f"{'phase':<30}{'req/s':>9}{'headl./s':>10}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}")
    for key, name in (("b1", "encoder alone, batch 1"), ("b32", "encoder alone, batch 32")):
        batch = 1 if key == "b1" else 32
        hps = med(r[key]["headlines_per_s"] for r in rounds)
        p50 = med(r[key]["p50_s"] for r in rounds) * 1000
        print(f"{name:<30}{hps / batch:>9.1f}{hps:>10.1f}{p50:>9.1f}{'':>9}{'':>8}")
    for clients, per_request in SHAPES:
        runs = [r[(clients, per_request)] for r in rounds]
        name = f"service, {clients} client(s) x {per_request}"
        print(
            f"{name:<30}{med(x['rps'] for x in runs):>9.1f}{med(x['hps'] for x in runs):>10.1f}"
            f"{med(x['p50_s'] for x in runs) * 1000:>9.1f}"
            f"{med(x['p99_s'] for x in runs) * 1000:>9.1f}{sum(x['failed'] for x in runs):>8}"
        )
    for pid, mb in rss.items():
        print(f"worker {pid}: peak RSS {mb:.0f} MB")

    def ratios(fn) -> list[float]:
        return [fn(r) for r in rounds]

    targets = [
        (
            "32 clients x 1: headlines/s / encoder batch 32",
            ratios(lambda r: r[(32, 1)]["hps"] / r["b32"]["headlines_per_s"]),
            ">=",
            THROUGHPUT_32X1,
        ),
        (
            "1 client x 1: p50 - encoder batch-1 call, ms",
            ratios(lambda r: (r[(1, 1)]["p50_s"] - r["b1"]["p50_s"]) * 1000),
            "<=",
            LATENCY_EXTRA_MS,
        ),
        (
            "(info) 1 client x 1: p50 / encoder batch-1 call",
            ratios(lambda r: r[(1, 1)]["p50_s"] / r["b1"]["p50_s"]),
            "",
            None,
        ),
        (
            "1 client x 32: headlines/s / encoder batch 32",
            ratios(lambda r: r[(1, 32)]["hps"] / r["b32"]["headlines_per_s"]),
            ">=",
            THROUGHPUT_1X32,
        ),
        (
            "peak RSS of one worker, MB",
            [max(rss.values()) if rss else float("nan")],
            "<=",
            RSS_LIMIT_MB,
        ),
        (
            "(info) 32 clients x 1 / encoder batch 1",
            ratios(lambda r: r[(32, 1)]["hps"] / r["b1"]["headlines_per_s"]),
            "",
            None,
        ),
    ]
    print()
    print(f"{'target':<48}{'median':>9}{'range':>16}{'goal':>9}  result")
    missed = 0
    for name, values, op, goal in targets:
        value = med(values)
        spread = f"{min(values):.2f}-{max(values):.2f}" if len(values) > 1 else ""
        if goal is None:
            print(f"{name:<48}{value:>9.2f}{spread:>16}")
            continue
        ok = value >= goal if op == ">=" else value <= goal if op == "<=" else value < goal
        missed += not ok
        verdict = "PASS" if ok else "MISS"
        print(f"{name:<48}{value:>9.2f}{spread:>16}{op + ' ' + format(goal, 'g'):>9}  {verdict}")
    failed = sum(r[shape]["failed"] for r in rounds for shape in SHAPES)
    if failed:
        examples = [f for r in rounds for shape in SHAPES for f in r[shape]["failures"]]
        print(f"{failed} client(s) failed, e.g. {examples[:2]}")
    return 1 if strict and (missed or failed) else 0


if __name__ == "__main__":
    sys.exit(main())
