"""How commands end when the world says no (issue 19): a port taken or a host that is not ours
stops ``serve`` with one line and exit 2; a reader that closes the pipe ends a command quietly."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from classifier import cli
from classifier.cli._util import CLOSED_PIPE_EXIT
from tests.conftest import ROOT


def test_serve_refuses_a_port_in_use_in_one_line_before_the_model_loads(tmp_path, capsys):
    """gunicorn logged three [ERROR] lines and exited 1."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        # an empty store: had the bind not been checked first, the error would be the model's
        code = cli.main(["serve", "--port", str(port), "--models-dir", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"headline-topics serve: error: cannot listen on 127.0.0.1:{port}: Address already in "
        "use (another program is listening there; choose another --port)\n"
    )


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("256.1.1.1", "--host 256.1.1.1: not an address this machine can resolve"),
        ("203.0.113.7", "cannot listen on 203.0.113.7:8000: Cannot assign requested address"),
    ],
)
def test_serve_refuses_a_host_it_cannot_listen_on(host, message, tmp_path, capsys):
    assert cli.main(["serve", "--host", host, "--models-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"headline-topics serve: error: {message}") and err.count("\n") == 1


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "classifier.cli", *args]


@pytest.mark.parametrize(
    "args", [("models",), ("models", "--json"), ("predict", "Tariffs on steel rise")]
)
def test_a_closed_pipe_ends_a_command_quietly(args, onnx_cache):
    """``models | head -1`` printed a message and exited 2.

    The session's exports are handed over, so a fresh clone's one-time "exporting" note (the
    first predict of a new checkout) is not mistaken for noise from the closed pipe.
    """
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes a byte: EPIPE, every time
    try:
        done = subprocess.run(
            _command(*args),
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=300,
            env=_with_exports(onnx_cache),
        )
    finally:
        os.close(write_end)
    assert done.stderr == b""
    assert done.returncode == CLOSED_PIPE_EXIT == 141


def _with_exports(cache) -> dict[str, str]:
    return {**os.environ, "HEADLINE_TOPICS_ENCODER_CACHE": str(cache)}


def test_predict_on_an_endless_stream_into_head_stops_quietly(tmp_path, onnx_cache):
    """The shell pipeline a user types: ``yes HEADLINE | headline-topics predict | head -1``."""
    err = tmp_path / "err"
    script = (
        f"yes 'Tariffs on steel rise' | {' '.join(_command('predict'))} 2>{err} | head -1; "
        'echo "exit=${PIPESTATUS[1]}"'
    )
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env=_with_exports(onnx_cache),
    )
    first, status = done.stdout.splitlines()
    assert '"topic": "trade"' in first
    assert status == f"exit={CLOSED_PIPE_EXIT}"
    assert err.read_text() == ""
