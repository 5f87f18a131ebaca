"""Defaults from the environment, and the thread count that fits the cores."""

from __future__ import annotations

import logging

import pytest

from classifier.config import encoder_threads


def test_more_encoder_threads_than_cores_is_said_once_not_silently_slow(caplog):
    """``--encoder-threads 1000`` ran 4x slower with no word (issue 19, smaller items)."""
    with caplog.at_level(logging.WARNING, logger="classifier.config"):
        assert encoder_threads(1, 1000, cores=2) == 1000
    assert "1000 threads on 2 cores: they will compete" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="classifier.config"):
        assert encoder_threads(1, None, cores=2) == 2 and encoder_threads(2, 1, cores=2) == 1
    assert caplog.text == ""
    with caplog.at_level(logging.WARNING, logger="classifier.config"):
        assert encoder_threads(3, None, cores=2) == 1  # more workers than cores: said too
    assert "3 worker(s) x 1 encoder threads" in caplog.text


def test_fewer_than_one_thread_is_refused():
    with pytest.raises(ValueError, match="at least 1, not 0"):
        encoder_threads(1, 0, cores=2)


def test_one_headline_length_limit_for_the_service_and_the_commands(monkeypatch):
    """The service capped headlines at 1000 characters and nothing else did (issue 19 #6)."""
    from classifier import config
    from classifier.service.settings import Settings

    monkeypatch.delenv(config.MAX_HEADLINE_CHARS_ENV, raising=False)
    assert config.max_headline_chars() == config.DEFAULT_MAX_HEADLINE_CHARS == 1000
    assert Settings.from_env({}).max_headline_chars == config.DEFAULT_MAX_HEADLINE_CHARS
    monkeypatch.setenv(config.MAX_HEADLINE_CHARS_ENV, "300")
    assert config.max_headline_chars() == 300
    assert Settings.from_env().max_headline_chars == 300  # the same variable
    assert config.max_headline_chars(50) == 50  # an option beats the environment
    monkeypatch.setenv(config.MAX_HEADLINE_CHARS_ENV, "lots")
    with pytest.raises(ValueError, match="MAX_HEADLINE_CHARS must be a whole number, not 'lots'"):
        config.max_headline_chars()
    with pytest.raises(ValueError, match="at least 1, not 0"):
        config.max_headline_chars(0)
