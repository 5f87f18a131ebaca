"""Fixtures for the command's tests: run it in-process with the session's real encoder."""

from __future__ import annotations

import io

import pytest

from classifier import cli
from classifier.cli import _util


@pytest.fixture
def run(monkeypatch, real_embedder, capsys):
    """Call the CLI in-process with the session's encoder; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(_util, "new_encoder", lambda *a, **k: real_embedder)
    monkeypatch.setattr(_util, "model_encoder", lambda *a, **k: real_embedder)

    def _run(*argv: str, stdin: str | None = None):
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            code = cli.main(list(argv))
        except SystemExit as exit_info:  # argparse refused an option, as a process would exit
            code = exit_info.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


@pytest.fixture(scope="session")
def trained(tmp_path_factory, small_labelled, real_embedder):
    """A store with one model trained by the CLI on 200 of our headlines, shared by the CLI tests.

    Tests that add versions leave the first one current, so the others can rely on it.
    """
    store = tmp_path_factory.mktemp("models")
    original = _util.new_encoder
    _util.new_encoder = lambda *a, **k: real_embedder
    try:
        assert cli.main(["train", str(small_labelled), "--models-dir", str(store)]) == 0
    finally:
        _util.new_encoder = original
    return store
