"""A progress bar with an ETA on every long command, on a terminal only (issue 19): ``evaluate``,
``cluster`` and ``train`` show one as ``tag`` does, while they embed the headlines."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest

from classifier import cli
from classifier.cli import _util
from classifier.topics.store import ModelStore
from tests.conftest import ROOT, FakeEmbedder, load_project_data, save_model, write_csv

ROWS = load_project_data()[::20][:150]


def _bar(desc: str, n: int) -> re.Pattern:
    """tqdm's finished bar: the share, the count, the time taken and the ETA."""
    return re.compile(rf"{desc}: 100%\|[^|]*\| {n}/{n} \[\d\d:\d\d<\d\d:\d\d")


@pytest.fixture
def fake_encoders(monkeypatch):
    monkeypatch.setattr(_util, "new_encoder", lambda *a, **k: FakeEmbedder())
    monkeypatch.setattr(_util, "model_encoder", lambda *a, **k: FakeEmbedder())


@pytest.fixture
def labelled(tmp_path):
    return write_csv(tmp_path / "labelled.csv", [(r["headline"], r["topic"]) for r in ROWS])


@pytest.fixture
def store(tmp_path):
    store = ModelStore(tmp_path / "models")
    texts, labels = [r["headline"] for r in ROWS], [r["topic"] for r in ROWS]
    save_model(store, texts, labels, FakeEmbedder(), head_params={"calibration_folds": 2})
    return store


def _commands(labelled, store, tmp_path):
    models = ["--models-dir", str(store.root)]
    n = len(ROWS)
    return {
        "evaluate": (["evaluate", str(labelled), *models], _bar("evaluating", n)),
        "cluster": (["cluster", str(labelled), "--no-topics", *models], _bar("embedding", n)),
        "train": (
            ["train", str(labelled), "--no-promote", "--no-cache", *models],
            _bar("embedding", n),
        ),
    }


@pytest.mark.parametrize("command", ["evaluate", "cluster", "train"])
def test_a_long_command_shows_a_bar_on_a_terminal_only(
    command, fake_encoders, labelled, store, tmp_path, capsys, monkeypatch
):
    argv, bar = _commands(labelled, store, tmp_path)[command]
    assert cli.main([*argv, "--progress"]) == 0
    assert bar.search(capsys.readouterr().err)
    assert cli.main(argv) == 0  # stderr is no terminal here: no bar
    assert "100%|" not in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.main(argv) == 0  # a terminal: a bar without asking
    assert bar.search(capsys.readouterr().err)
    assert cli.main([*argv, "--no-progress"]) == 0
    assert "100%|" not in capsys.readouterr().err


def test_long_lists_are_embedded_in_slices_to_the_same_vectors(capsys):
    texts = [
        f"headline number {i} about {i % 7} things" for i in range(2 * _util.PROGRESS_SLICE + 5)
    ]
    encoder = FakeEmbedder()
    sliced = _util.EncodingProgress(encoder, True, desc="embedding").encode(texts)
    assert encoder.calls == 3
    assert np.array_equal(sliced, FakeEmbedder().encode(texts))
    assert _bar("embedding", len(texts)).search(capsys.readouterr().err)
    assert _util.EncodingProgress(encoder, True, desc="x").dimension == encoder.dimension


def test_the_bar_is_drawn_on_a_real_terminal(tmp_path):
    """``cluster`` in its own process with stderr on a pseudo-terminal, as a person runs it."""
    source = write_csv(tmp_path / "in.csv", [(r["headline"], r["topic"]) for r in ROWS])
    leader, follower = pty.openpty()
    # a terminal 120 columns wide (a new pseudo-terminal has none, and the bar fits its width)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "classifier.cli", "cluster", str(source), "--no-topics"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=follower,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        os.close(follower)
        err = b""
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # EIO: the process closed its end
                break
            if not data:
                break
            err += data
        out, _ = process.communicate(timeout=300)
    finally:
        os.close(leader)
    assert process.returncode == 0, err
    assert _bar("embedding", len(ROWS)).search(err.decode())
    assert b"clusters in" in out
