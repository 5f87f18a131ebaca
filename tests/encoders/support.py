"""Helpers the encoder tests share: probe headlines, subprocesses, a copy of the shipped store."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.support import ROOT, load_project_data, private_store

LONG = " ".join(["the committee debated the tariff schedule again"] * 60)  # > 256 tokens
EDGE_CASES = [
    "",
    "   ",
    "Stocks",
    "Café owners in Zürich protest — again",
    "北京 talks resume",
    LONG,
]


def sample(n: int, seed: int = 3) -> list[str]:
    """``n`` headlines of our own data, then the edge cases (empty, long, non-Latin)."""
    rows = load_project_data()
    return [r["headline"] for r in random.Random(seed).sample(rows, n)] + EDGE_CASES


HEADLINES = sample(120)


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def run_python(
    code: str, timeout: int = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter, so what it imports is its own."""
    return run_cli(["-c", code], timeout=timeout, env=env)


def run_cli(
    argv: list[str], timeout: int = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


def shipped_copy(tmp_path: Path) -> Path:
    """A private store holding the shipped current version only (no exports: they are shared)."""
    root = tmp_path / "models"
    root.mkdir()
    private_store(ROOT / "models", root)
    return root
