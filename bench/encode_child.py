"""The child side of bench/encode.py: one backend in its own process, answering on stdin/stdout.

Each backend gets a fresh interpreter, so its start-up, memory and threads are its own and one
backend's imports (torch) never slow another's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

DYNAMIC = "onnx-int8-dynamic"
EMBED_BATCH = 64


# -- the child ------------------------------------------------
def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class DynamicInt8:
    """onnxruntime's quantize_dynamic of our fp32 export, run like the other ONNX backends."""

    def __init__(self, folder: Path, threads: int) -> None:
        from classifier.encoders.onnx import OnnxSession

        meta = json.loads((folder / "meta.json").read_text())
        self.session = OnnxSession(folder, meta, threads=threads)

    def info(self):
        return None

    def encode(self, texts, *, batch_size=EMBED_BATCH):
        single = isinstance(texts, str)
        vectors = self.session.encode([texts] if single else list(texts), batch_size)
        return vectors[0] if single else vectors


def make_dynamic_export(cache_dir: str, work: Path) -> Path:
    """The rejected alternative, for comparison: dynamic int8 made from our fp32 export."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from classifier.encoders.exports import find_export

    source, meta = find_export(None, "onnx", cache_dir)
    folder = work / DYNAMIC
    folder.mkdir()
    shutil.copy(source / "tokenizer.json", folder / "tokenizer.json")
    (folder / "meta.json").write_text(json.dumps({**meta, "backend": DYNAMIC}))
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it logs a pre-processing hint on the root logger
    try:
        quantize_dynamic(
            source / "model.onnx",
            folder / "model.onnx",
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
    finally:
        root.setLevel(level)
    return folder


def make_encoder(backend: str, threads: int, cache_dir: str | None):
    from classifier.encoders import make_embedder

    if backend == DYNAMIC:
        return DynamicInt8(Path(cache_dir), threads)
    if backend == "torch-bf16":
        import torch

        encoder = make_embedder(backend="torch", threads=threads, batch_size=EMBED_BATCH)
        encoder._load().to(torch.bfloat16)  # bench-only: AMX bf16 matmuls
        return encoder
    kwargs = {"cache_dir": cache_dir, "auto_export": False} if backend.startswith("onnx") else {}
    return make_embedder(backend=backend, threads=threads, batch_size=EMBED_BATCH, **kwargs)


def speed(encoder, items: list[str], batch: int) -> float:
    """Headlines/s when they arrive in batches of ``batch`` (one string at batch 1)."""
    started = time.perf_counter()
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        encoder.encode(chunk[0] if batch == 1 else chunk, batch_size=batch)
    return len(items) / (time.perf_counter() - started)


def in_calls(encoder, items: list[str], size: int) -> np.ndarray:
    return np.concatenate([encoder.encode(items[i : i + size]) for i in range(0, len(items), size)])


def child(args: argparse.Namespace) -> int:
    """Load, say READY, then answer commands (one JSON object per line) until told to quit."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    warnings.filterwarnings("ignore")
    encoder = make_encoder(args.child, args.threads, args.dynamic_dir or args.cache_dir)
    encoder.info()  # what loading a head does: fingerprint and dimension
    encoder.encode("Warm-up headline so the first request is not the slow one")
    ready = {"ready": True, "rss_mb": rss_mb()}
    print(json.dumps(ready), flush=True)
    if args.ready_only:
        return 0
    # Later calls come from another thread, as in the service (warm-up in the main thread, then
    # the micro-batcher's thread): under load, libgomp made torch calls from the thread that
    # first used it many times slower than calls from a second one (see bench/service.py).
    worker = ThreadPoolExecutor(max_workers=1)
    texts = {}
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "quit":
            return 0
        if op == "texts":
            with open(command["path"], encoding="utf-8") as handle:
                texts[command["name"]] = json.load(handle)
            reply = {"n": len(texts[command["name"]])}
        elif op == "speed":
            batch, items = command["batch"], texts[command["name"]][: command["n"]]
            reply = {"hps": worker.submit(speed, encoder, items, batch).result()}
        elif op in ("embed", "embed1", "embed32"):
            items = texts[command["name"]]
            if op == "embed":
                job = worker.submit(encoder.encode, items, batch_size=EMBED_BATCH)
            else:  # one by one, or calls of 32 in the given (random) order, like micro-batches
                job = worker.submit(in_calls, encoder, items, 1 if op == "embed1" else 32)
            vectors = job.result()
            if args.child == "torch-bf16":  # normalised in bf16; a head expects length 1 in fp32
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            np.save(command["out"], vectors)
            reply = {"shape": list(vectors.shape)}
        elif op == "rss":
            reply = {"rss_mb": rss_mb()}
        else:
            reply = {"error": f"unknown op {op}"}
        print(json.dumps(reply), flush=True)
    return 0
