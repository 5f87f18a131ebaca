"""``headline-topics serve``: bad options and a missing model refused before gunicorn starts."""

from __future__ import annotations

import os
import sys

import pytest

from classifier import cli


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--port", "0"], "--port must be between 1 and 65535"),
        (["--port", "70000"], "--port must be between 1 and 65535"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--encoder-threads", "0"], "--encoder-threads must be at least 1"),
        (["--torch-threads", "0"], "--encoder-threads must be at least 1"),
    ],
)
def test_serve_refuses_bad_options(argv, message, capsys):
    assert cli.main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_serve_refuses_an_empty_store_before_starting_gunicorn(tmp_path, capsys):
    assert cli.main(["serve", "--models-dir", str(tmp_path), "--port", "8099"]) == 2
    assert "no current model" in capsys.readouterr().err
    assert "HEADLINE_TOPICS_MODELS" not in os.environ  # nothing leaked into our environment


def test_serve_refuses_a_bad_environment_value(monkeypatch, capsys):
    monkeypatch.setenv("HEADLINE_TOPICS_MAX_HEADLINES", "many")
    assert cli.main(["serve"]) == 2
    assert "HEADLINE_TOPICS_MAX_HEADLINES must be a whole number" in capsys.readouterr().err


def test_serve_splits_the_cores_between_workers():
    from classifier.cli.serve import gunicorn_options, limit_heap_growth
    from classifier.config import encoder_threads

    if sys.platform.startswith("linux"):
        assert limit_heap_growth() is True  # glibc accepted the fixed mmap threshold

    assert encoder_threads(1, cores=2) == 2
    assert encoder_threads(2, cores=2) == 1
    assert encoder_threads(3, cores=2) == 1
    assert encoder_threads(3, cores=8) == 2
    assert encoder_threads(1, requested=1, cores=2) == 1
    with pytest.raises(ValueError, match="at least 1"):
        encoder_threads(1, requested=0)
    options = gunicorn_options(
        host="::1",
        port=9000,
        workers=2,
        threads=16,
        timeout=60,
        access_log=False,
        multiproc_dir="/tmp/x",
    )
    assert options["bind"] == "[::1]:9000"
    assert options["worker_class"] == "classifier.service.worker.JsonThreadWorker"
    assert options["threads"] == 16 and options["preload_app"] is False
    assert callable(options["child_exit"])
