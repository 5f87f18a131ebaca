"""Helpers shared by the tests and the benchmarks: data, a fake encoder, models, a server.

Fixtures stay in the conftest files; what a benchmark needs as well lives here, so that
``bench/`` imports this module and the tests import nothing from ``bench/``.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from classifier.encoders import EncoderInfo

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "headlines.csv"


# -- data, a fake encoder, models ----------------------------------------------------------------
class FakeEmbedder:
    """Deterministic bag-of-hashed-words vectors: fast, and topic words still cluster together."""

    name = "fake-hash-embedder"

    def __init__(self, dimension: int = 64, salt: str = "") -> None:
        self.dim = dimension
        self.salt = salt
        self.path = Path("/nonexistent/fake-encoder")
        self.calls = 0

    @property
    def dimension(self) -> int:
        return self.dim

    def info(self) -> EncoderInfo:
        fingerprint = hashlib.sha256(f"fake{self.dim}{self.salt}".encode()).hexdigest()
        return EncoderInfo(self.name, fingerprint, self.dim)

    def encode(self, texts, *, batch_size=None):
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        self.calls += 1
        out = np.zeros((len(batch), self.dim), dtype=np.float32)
        for i, text in enumerate(batch):
            for word in text.lower().split():
                h = int(hashlib.md5((self.salt + word).encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0 if (h >> 8) % 2 else -1.0
            norm = np.linalg.norm(out[i]) or 1.0
            out[i] /= norm
        return out[0] if single else out


def load_project_data() -> list[dict[str, str]]:
    with open(DATA, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[tuple], header=("headline", "topic")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def save_model(
    store,
    texts: list[str],
    labels: list[str],
    embedder,
    *,
    version: str | None = None,
    promote: bool = True,
    head_params: dict | None = None,
) -> str:
    """Train a model on ``texts``/``labels`` and write it to ``store``; returns its version."""
    from classifier.topics.training import train_model

    model, manifest = train_model(texts, labels, embedder, head_params=head_params, source="test")
    if version:
        manifest["version"] = version
    return store.save(model, manifest, promote=promote)


# -- a server ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_store(source: Path, target: Path) -> str:
    """Copy the current version of ``source`` into ``target``: retraining elsewhere cannot
    change the model under the benchmark. Returns the version."""
    from classifier.topics.store import ModelStore

    store = ModelStore(source)
    version = store.resolve(None)
    store.read_manifest(version)
    shutil.copytree(source / version, target / version)
    ModelStore(target).promote(version)
    return version


def start_server(
    port: int,
    workers: int,
    threads: int,
    models: Path,
    log_path: Path,
    backend: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen:
    """``headline-topics serve`` on ``models`` (its model's own backend unless ``backend``), in
    its own process group, logging to ``log_path``; ``env`` replaces this process's environment.
    """
    from classifier import config

    env = dict(
        os.environ if env is None else env, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false"
    )
    # the exports of the store the model came from, as a deployed service has them: otherwise
    # the private copy's first start would include making one (~10 s, not what is measured)
    env.setdefault("HEADLINE_TOPICS_ENCODER_CACHE", str(config.encoder_cache_dir()))
    command = [
        sys.executable,
        "-m",
        "classifier.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--models-dir",
        str(models),
        *(["--backend", backend] if backend else []),
    ]
    log = open(log_path, "w")  # noqa: SIM115 - stays open for the server's life
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 300) -> float:
    """Seconds from now until /readyz answers 200 (call it right after starting the server)."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("the server did not become ready")


def worker_pids(master: int) -> list[int]:
    pids = []
    task_dir = Path(f"/proc/{master}/task")
    for task in task_dir.iterdir() if task_dir.is_dir() else []:
        children = (task / "children").read_text().split()
        pids += [int(pid) for pid in children]
    return pids


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop_server(process: subprocess.Popen, timeout: float = 30.0) -> int | None:
    """SIGTERM, then SIGKILL to the server's own process group; returns its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this script started
            process.wait(10)
    return process.returncode
