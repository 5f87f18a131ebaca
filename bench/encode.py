"""Encoder backends side by side, in one run: speed, start-up, memory, agreement and accuracy.

    .venv/bin/python bench/encode.py [--rounds 3] [--threads N] [--cache-dir DIR]
        [--backends torch,onnx,onnx-int8[,onnx-int8-dynamic,torch-bf16]]

For each backend (``torch`` = sentence-transformers fp32, the reference; ``onnx`` = the fp32
export; ``onnx-int8`` = the per-token int8 export, the default; and, measured here only,
``onnx-int8-dynamic`` = onnxruntime's own dynamic int8 (one activation scale per batch) and
``torch-bf16`` = torch with bf16 weights, for AMX, measured only on a CPU with native bf16):

1. start to ready: a fresh process imports the encoder, reads its fingerprint and embeds one
   headline; wall time from spawning it until it says so, and its RSS then (median of rounds);
2. headlines/s at batch 1, 32 and 128 on real headlines (../shared/data/cap_nyt_dev.csv), each
   backend in its own process, the backends taking turns in every round so that load from other
   programs weighs on all alike (medians over rounds);
3. agreement with torch fp32: cosine between the two vectors of each headline (mean, minimum);
4. on all of cap_nyt_dev.csv: a head trained the shipped way (data/headlines.csv, the shipped
   manifest's head parameters and priors) on torch vectors, fed this backend's vectors; and a
   head trained the same way on this backend's vectors: share of headlines whose top topic equals
   the torch head's on torch vectors, and macro-F1;
5. batch context: 2,000 headlines encoded one by one and in calls of 32 random headlines; the
   share whose top topic (backend's own head) differs between the two. A service batches
   concurrent requests, so anything above 0 means the same headline can get another answer.

Targets, as ratios against torch in the same run: >= 2x headlines/s at batch 32 and >= 4x at
batch 1 (issue 12, on an AVX2-only CPU), macro-F1 within 0.005 of torch's (fp32) and >= 98%
identical top topics, ready in under 2 s. The first line names the CPU and its kernels.
Skips (exit 0) when the shared data is absent. Exports are made first if missing (not timed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, read_cap, shared_file, table  # noqa: E402
from bench.encode_accuracy import accuracy_rows  # noqa: E402
from bench.encode_child import DYNAMIC, child, make_dynamic_export  # noqa: E402
from classifier.encoders.base import BACKENDS as PRODUCT_BACKENDS  # noqa: E402
from classifier.topics.data import read_labelled  # noqa: E402

BACKENDS = (*PRODUCT_BACKENDS, "onnx-int8-dynamic", "torch-bf16")
# The product's backends; the two bench-only comparisons are measured on request (their results
# are in docs/speed.md), so that a default run finishes in under 10 minutes on 2 cores.
DEFAULT_BACKENDS = PRODUCT_BACKENDS
CONTEXT_HEADLINES = 1000
SPEED_HEADLINES = 1024
BATCH1_HEADLINES = 128


class Child:
    """A running backend process and its command pipe."""

    def __init__(
        self,
        backend: str,
        threads: int,
        cache_dir: str,
        ready_only: bool = False,
        dynamic_dir: Path | None = None,
    ):
        command = [sys.executable, __file__, "--child", backend, "--threads", str(threads)]
        command += ["--cache-dir", cache_dir] + (["--ready-only"] if ready_only else [])
        if backend == DYNAMIC:
            command += ["--dynamic-dir", str(dynamic_dir)]
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        line = self.proc.stdout.readline()
        self.ready_s = time.perf_counter() - started
        if not line:
            raise RuntimeError(f"the {backend} child died before it was ready")
        self.ready = json.loads(line)

    def ask(self, **command) -> dict:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(BrokenPipeError, json.JSONDecodeError):
                self.ask(op="quit")
            self.proc.wait(timeout=30)


# -- the parent ------------------------------------------------------------------------------------
def ensure_exports(backends: list[str], cache_dir: str) -> None:
    from classifier.encoders.export import export_encoder

    wanted = {"onnx" if b == DYNAMIC else b for b in backends}
    for backend in sorted(wanted):
        if backend.startswith("onnx"):
            result = export_encoder(backend=backend, cache_dir=cache_dir)
            state = "exported" if result.created else "found"
            print(f"{backend}: {state} {result.folder}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=len(os.sched_getaffinity(0)), help="encoder threads"
    )
    parser.add_argument(
        "--backends",
        default=",".join(DEFAULT_BACKENDS),
        help=f"comma-separated, from {', '.join(BACKENDS)}",
    )
    parser.add_argument("--cache-dir", help="ONNX exports (default: <models>/encoders)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dynamic-dir", help=argparse.SUPPRESS)
    parser.add_argument("--ready-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    print(machine_line(), flush=True)
    started = time.perf_counter()

    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from classifier.cpu import cpu_info
    from classifier.encoders.exports import default_cache_dir

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if unknown := set(backends) - set(BACKENDS):
        parser.error(f"unknown backends {sorted(unknown)}; choose from {', '.join(BACKENDS)}")
    if "torch" not in backends:
        backends.insert(0, "torch")  # the baseline every ratio is against
    if "torch-bf16" in backends and not cpu_info().native_bf16:
        # emulated bf16 took over 15 minutes on an AVX2-only EPYC: measure it only where it runs
        backends.remove("torch-bf16")
        print("torch-bf16 skipped: this CPU has no native bf16 (avx512_bf16 or amx_bf16)")
    texts, truth = read_cap(shared_file("cap_nyt_dev.csv"))
    train = read_labelled(ROOT / "data" / "headlines.csv")
    cache_dir = str(args.cache_dir or default_cache_dir())
    ensure_exports(backends, cache_dir)
    work = Path(tempfile.mkdtemp(prefix="bench-encode-"))
    dynamic_dir = make_dynamic_export(cache_dir, work) if DYNAMIC in backends else None
    sample = [t for t in texts if t.strip()]
    random.Random(13).shuffle(sample)
    context_idx = random.Random(14).sample(range(len(texts)), CONTEXT_HEADLINES)
    files = {
        "speed": sample[:SPEED_HEADLINES],
        "cap": texts,
        "train": train.texts,
        "context": [texts[i] for i in context_idx],
    }
    for name, items in files.items():
        (work / f"{name}.json").write_text(json.dumps(items), encoding="utf-8")
    print(
        f"{len(texts)} headlines from cap_nyt_dev.csv; {args.threads} encoder threads; "
        f"{args.rounds} rounds; load average now {os.getloadavg()[0]:.1f} "
        f"(other programs on the CPU make every figure noisier; ratios share the noise)"
    )

    ready: dict[str, list[tuple[float, float]]] = {b: [] for b in backends}
    for _ in range(args.rounds):
        for backend in backends:
            c = Child(backend, args.threads, cache_dir, True, dynamic_dir)
            ready[backend].append((c.ready_s, c.ready["rss_mb"]))
            c.proc.wait(timeout=60)

    children = {b: Child(b, args.threads, cache_dir, False, dynamic_dir) for b in backends}
    try:
        for c in children.values():
            c.ask(op="texts", name="speed", path=str(work / "speed.json"))
        speed: dict[str, dict[int, list[float]]] = {b: {1: [], 32: [], 128: []} for b in backends}
        for _ in range(args.rounds):
            for batch, n in ((1, BATCH1_HEADLINES), (32, SPEED_HEADLINES), (128, SPEED_HEADLINES)):
                for backend, c in children.items():
                    speed[backend][batch].append(
                        c.ask(op="speed", name="speed", batch=batch, n=n)["hps"]
                    )
        peak = {b: c.ask(op="rss")["rss_mb"] for b, c in children.items()}
        vectors: dict[str, dict[str, np.ndarray]] = {}
        for backend, c in children.items():
            vectors[backend] = {}
            for name, op in (
                ("cap", "embed"),
                ("train", "embed"),
                ("context", "embed1"),
                ("context", "embed32"),
            ):
                c.ask(op="texts", name=name, path=str(work / f"{name}.json"))
                out = work / f"{backend}-{name}-{op}.npy"
                c.ask(op=op, name=name, out=str(out))
                vectors[backend][name if op == "embed" else op] = np.load(out)
    finally:
        for c in children.values():
            c.close()
        shutil.rmtree(work, ignore_errors=True)

    base = {k: statistics.median(v) for k, v in speed["torch"].items()}
    rows = []
    for backend in backends:
        med = {k: statistics.median(v) for k, v in speed[backend].items()}
        ready_s = statistics.median(r[0] for r in ready[backend])
        ready_rss = statistics.median(r[1] for r in ready[backend])
        rows.append(
            [backend, med[1], med[32], med[128]]
            + [f"{med[k] / base[k]:.2f}x" for k in (1, 32, 128)]
            + [f"{ready_s:.2f}", f"{ready_rss:.0f}", f"{peak[backend]:.0f}"]
        )
    print("\n1. speed (headlines/s, medians of rounds; x = ratio to torch fp32 in this run)")
    print(
        table(
            [
                "backend",
                "b1 h/s",
                "b32 h/s",
                "b128 h/s",
                "b1 x",
                "b32 x",
                "b128 x",
                "start-to-ready s",
                "RSS ready MB",
                "RSS after bench MB",
            ],
            rows,
        )
    )
    accuracy = accuracy_rows(backends, vectors, texts, truth, train, files["context"])
    print("\n2. agreement with torch fp32 and accuracy on all of cap_nyt_dev.csv")
    print(
        "   same top = share of headlines whose top topic equals the torch head's on torch vectors;"
        f"\n   context flips = share of {CONTEXT_HEADLINES} headlines whose top topic (own head) "
        "differs between one-by-one and calls of 32"
    )
    headers = ["backend", "cos mean", "cos min", "torch head: same top", "macro-F1", "dF1"]
    headers += ["own head: same top", "macro-F1", "dF1", "context flips"]
    shown = [[f"{v:.2%}" if i in (3, 6, 9) else v for i, v in enumerate(row)] for row in accuracy]
    print(table(headers, shown))
    print(f"\n(measured in {time.perf_counter() - started:.0f} s)")
    print("\n3. targets (issue 12) per backend")
    for row, acc in zip(rows, accuracy, strict=True):
        if row[0] == "torch":
            continue
        b1, b32 = float(row[4][:-1]), float(row[5][:-1])
        ok = {
            "b1 >= 4x": b1 >= 4,
            "b32 >= 2x": b32 >= 2,
            "own head F1 within 0.005": abs(acc[8]) <= 0.005,
            "ready < 2 s": float(row[7]) < 2.0,
            "own head same top >= 98%": acc[6] >= 0.98,
            "no context flips": acc[9] == 0,
        }
        print(
            f"   {row[0]:<11} "
            + "; ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in ok.items())
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
