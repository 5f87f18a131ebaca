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
import time
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


def tricky_csv_bytes(n: int = 1200, *, bom: bool = True, crlf: bool = True) -> bytes:
    """A CSV that a line-by-line split gets wrong: headlines with quoted line breaks (LF, CRLF and
    lone CR, every few rows, so some straddle any block edge), a BOM, CRLF row ends, blank lines,
    rows with too many and too few fields, a stray quote, undecodable bytes and a headline that
    is one long quoted field of many lines."""
    end = b"\r\n" if crlf else b"\n"
    out = [b"\xef\xbb\xbf" if bom else b"", b"id,headline,source" + end]
    for i in range(n):
        text = HEADLINES[i % len(HEADLINES)].encode()
        kind = i % 11
        if kind == 1:
            cell = b'"' + text.replace(b" ", b"\n", 2) + b'"'
        elif kind == 3:
            cell = b'"' + text.replace(b" ", b"\r\n", 1) + b', "quoted" ""words"""'
            cell = b'"' + text.replace(b" ", b"\r\n", 1) + b' ""quoted"""'
        elif kind == 5:
            cell = b'"' + text.replace(b" ", b"\r", 1) + b'"'
        elif kind == 7 and i % 3 == 0:
            cell = text + b" caf\xe9 \xff"  # latin-1 bytes in a UTF-8 file
        elif kind == 9 and i % 2:
            cell = b'"' + b"\n".join([text] * 12) + b'"'
        else:
            cell = text
        row = str(i).encode() + b"," + cell + b",s" + str(i % 3).encode()
        if i % 97 == 13:
            row += b",extra,fields"
        elif i % 89 == 7:
            row = str(i).encode() + b"," + cell
        elif i % 83 == 5:
            row = str(i).encode() + b',ab"c "d,s1'  # a quote inside an unquoted field
        out.append(row + end)
        if i % 61 == 0:
            out.append(end)  # a blank line is no row
    return b"".join(out)


def tricky_jsonl_bytes(n: int = 900) -> bytes:
    """JSONL with what the local reader must keep: broken lines, non-objects, blank lines,
    undecodable bytes, CRLF ends, keys that appear late, nested and typed values, and a
    ``topic`` field that tag's own column must not overwrite."""
    lines = []
    for i in range(n):
        record: dict = {"id": i, "headline": HEADLINES[i % len(HEADLINES)]}
        if i % 7 == 0:
            record["meta"] = {"n": i, "tags": ["a", "b"]}
        if i % 13 == 0:
            record["topic"] = "given"
        if i > n // 2 and i % 5 == 0:
            record["late"] = i * 0.5
        line = json.dumps(record, ensure_ascii=i % 2 == 0).encode()
        if i % 53 == 4:
            line = b'{"id": ' + str(i).encode() + b', "headline": "cut off'
        elif i % 59 == 6:
            line = b"[1, 2, 3]"
        elif i % 67 == 8:
            line = b'{"id": 1, "headline": "caf\xe9"}'
        lines.append(line + (b"\r\n" if i % 4 == 0 else b"\n"))
        if i % 31 == 0:
            lines.append(b"   \n")
    return b"".join(lines)


class DaskProcesses:
    """``dask scheduler`` and ``dask worker`` processes, and a client connected to them."""

    def __init__(self, folder: Path, workers: int = 2, env: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.env = env or {}
        self.n_workers = workers
        self.processes: list[subprocess.Popen] = []
        self.client = None
        self.address = ""

    def _spawn(self, *args: str, log: str) -> subprocess.Popen:
        dask = Path(sys.executable).with_name("dask")
        if not dask.exists():
            pytest.skip("no `dask` command next to this Python")
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),  # the workers import this checkout (and tests.support)
            "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
            "MALLOC_ARENA_MAX": "2",
            **self.env,
        }
        handle = open(self.folder / log, "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [str(dask), *args], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
        handle.close()
        self.processes.append(process)
        return process

    def start(self) -> None:
        from distributed import Client

        scheduler_file = self.folder / "scheduler.json"
        self._spawn(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
            log="scheduler.log",
        )
        for _ in range(600):
            if scheduler_file.is_file() and scheduler_file.stat().st_size:
                try:
                    self.address = json.loads(scheduler_file.read_text())["address"]
                    break
                except (ValueError, KeyError):
                    pass
            if self.processes[0].poll() is not None:
                break
            time.sleep(0.1)
        if not self.address:
            raise RuntimeError((self.folder / "scheduler.log").read_text())
        for i in range(self.n_workers):
            self._spawn(
                "worker",
                self.address,
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--memory-limit",
                "1.5GiB",
                "--no-dashboard",
                "--name",
                f"w{i}",
                "--local-directory",
                str(self.folder / f"w{i}"),
                log=f"worker{i}.log",
            )
        self.client = Client(self.address, set_as_default=False, timeout=60)
        self.client.wait_for_workers(self.n_workers, timeout=120)

    def worker_pids(self) -> dict[str, int]:
        return self.client.run(os.getpid)

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


class SlowEmbedder(FakeEmbedder):
    """The fake encoder, slowed down, so that a test can kill a process while a job runs."""

    def encode(self, texts, *, batch_size=None):
        time.sleep(0.05)
        return super().encode(texts, batch_size=batch_size)


# a Dask client in a child process that a test can SIGKILL part way
DASK_DRIVER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from classifier.tagging import dask as tag_dask
    from tests.tagging.support import SlowEmbedder

    spec = tag_dask.ModelSpec({store!r}, "vfake-1", embedder_factory=SlowEmbedder)
    tag_dask.tag_dask({source!r}, {output!r}, spec, scheduler={address!r}, blocksize={blocksize})
    """
)


def start_hidden_worker(cluster: DaskProcesses, hidden: list[Path]) -> subprocess.Popen:
    """One more ``dask worker`` that cannot see the ``hidden`` folders, as on another machine
    (an empty tmpfs mounted over each, in a user and mount namespace of its own)."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare command")
    probe = subprocess.run(
        ["unshare", "-r", "-m", "mount", "-t", "tmpfs", "none", str(hidden[0])],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode().strip()}")
    mounts = " && ".join(f"mount -t tmpfs none '{folder}'" for folder in hidden)
    dask = Path(sys.executable).with_name("dask")
    command = (
        f"{mounts} && exec '{dask}' worker {cluster.address} --nthreads 1 --no-nanny "
        f"--no-dashboard --name hidden --memory-limit 1GiB"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cluster.client.wait_for_workers(cluster.n_workers, timeout=120)  # one may be restarting
    log = open(cluster.folder / "hidden-worker.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        ["unshare", "-r", "-m", "sh", "-c", command],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    cluster.client.wait_for_workers(cluster.n_workers + 1, timeout=120)
    return process
