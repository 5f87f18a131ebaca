"""Helpers the tagging tests share (and tests/system/test_faults.py): archives, a light model, the command.

Plain functions and constants, not fixtures: the fault tests and the subprocess drivers import
them too. The fixtures built from them are in this folder's conftest.py.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifier.topics.store import ModelError, ModelStore
from tests.conftest import ROOT, FakeEmbedder, load_project_data, save_model

ROWS = load_project_data()
TRAIN = ROWS[::16]
HEADLINES = [r["headline"] for r in ROWS[1::7][:400]]
FAST_HEAD = {"C": 1.0, "calibration_folds": 2}

# a tagging run in a child process that a test can SIGKILL part way (slow encoder, checkpoint
# after every chunk)
DRIVER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from classifier.topics.store import ModelStore
    from classifier.tagging import tag_file
    from tests.conftest import FakeEmbedder

    class SlowEmbedder(FakeEmbedder):
        def encode(self, texts, *, batch_size=None):
            time.sleep(0.15)
            return super().encode(texts, batch_size=batch_size)

    model = ModelStore({store!r}).load("vfake-1", embedder=SlowEmbedder())
    tag_file({source!r}, {output!r}, model, chunk_size=40, checkpoint_seconds=0)
    """
)


class CountingEmbedder(FakeEmbedder):
    """The fake encoder, counting how many texts it was asked to embed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.texts = 0

    def encode(self, texts, *, batch_size=None):
        if not isinstance(texts, str):
            self.texts += len(texts)
        return super().encode(texts, batch_size=batch_size)


def train(store: ModelStore, embedder, rows=TRAIN, version=None) -> str:
    """Save a model with a light head: these tests are about the tagger, not about accuracy."""
    texts = [r["headline"] for r in rows]
    labels = [r["topic"] for r in rows]
    return save_model(store, texts, labels, embedder, version=version, head_params=FAST_HEAD)


def archive_rows(n: int = 600) -> list[dict[str, str]]:
    """Rows with an id, a headline (with case/space variants of earlier ones) and a label."""
    out = []
    for i in range(n):
        text = HEADLINES[i % len(HEADLINES)]
        if i >= len(HEADLINES):
            text = "  " + text.upper() if i % 2 else text.replace(" ", "   ")
        out.append({"id": str(i), "headline": text, "source": f"s{i % 3}"})
    return out


def write_rows(path: Path, rows: list[dict], header=("id", "headline", "source")) -> Path:
    """Write ``rows`` in the format ``path``'s name says (CSV, JSONL, either gzip, Parquet)."""
    name = path.name
    if name.endswith((".csv", ".csv.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "wt", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(header))
            writer.writeheader()
            writer.writerows(rows)
    elif name.endswith((".jsonl", ".jsonl.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "wt", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
    elif name.endswith(".parquet"):
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=150)
    return path


def read_rows(path: Path) -> list[dict]:
    """The rows of a tagging output, whatever its format."""
    name = path.name
    if name.endswith(".parquet"):
        return pq.read_table(path).to_pylist()
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        if ".jsonl" in name:
            return [json.loads(line) for line in handle]
        return list(csv.DictReader(handle))


def topics_cell(row: dict) -> list[str]:
    """A row's ``topics``: a list in JSONL and Parquet, ``;``-separated in CSV."""
    value = row["topics"]
    return value if isinstance(value, list) else [t for t in value.split(";") if t]


def run_tag_command(*args, env=None) -> subprocess.CompletedProcess:
    """``headline-topics tag ARGS`` in a separate process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "classifier.cli", "tag", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        timeout=240,
    )


def shipped_model_copy(tmp_path: Path) -> ModelStore:
    """A copy of the shipped model store, so the test never reads a store being rewritten."""
    shipped = ModelStore(ROOT / "models")
    try:
        version = shipped.resolve(None)
        shipped.read_manifest(version)
    except ModelError as exc:
        pytest.skip(f"no usable shipped model: {exc}")
    copy = ModelStore(tmp_path / "models")
    copy.root.mkdir()
    shutil.copytree(shipped.path_of(version), copy.root / version)
    (copy.root / "CURRENT").write_text(version + "\n")
    return copy
