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


def _installed(tmp_path, monkeypatch):
    """The package as if installed in ``tmp_path/site-packages``, run from ``tmp_path/work``."""
    from classifier import config

    for key in ("HEADLINE_TOPICS_MODELS", "HEADLINE_TOPICS_ENCODER_CACHE"):
        monkeypatch.delenv(key, raising=False)
    install = tmp_path / "site-packages"
    (install / "models").mkdir(parents=True)
    monkeypatch.setattr(config, "PROJECT_ROOT", install)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return install / "models", work


def test_the_models_dir_is_the_current_folders_models_else_the_bundled_store(tmp_path, monkeypatch):
    """The default once was the folder the package is installed in, whatever --help said."""
    from classifier import config

    bundled, work = _installed(tmp_path, monkeypatch)
    assert config.models_dir() == bundled and config.store_is_read_only(bundled)
    (work / "models").mkdir()
    assert config.models_dir().resolve() == (work / "models").resolve()
    assert not config.store_is_read_only(config.models_dir())
    assert config.store_is_read_only(bundled)  # named by path from elsewhere: still not written
    monkeypatch.setenv("HEADLINE_TOPICS_MODELS", str(bundled))  # as serve hands it to workers
    assert config.models_dir() == bundled and config.store_is_read_only(bundled)
    monkeypatch.setenv("HEADLINE_TOPICS_MODELS", str(work / "mine"))
    assert config.models_dir() == work / "mine" and not config.store_is_read_only(work / "mine")


def test_a_source_checkout_run_from_its_root_writes_to_its_own_models(tmp_path, monkeypatch):
    from classifier import config

    bundled, _ = _installed(tmp_path, monkeypatch)
    monkeypatch.chdir(bundled.parent)
    assert config.models_dir().resolve() == bundled.resolve()
    assert not config.store_is_read_only(config.models_dir())


def test_encoder_exports_for_the_bundled_store_go_to_the_user_cache(tmp_path, monkeypatch):
    """An ONNX export is written on first use: never into the installed package."""
    from classifier import config

    bundled, work = _installed(tmp_path, monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    expected = tmp_path / "cache" / "headline-topics" / "encoders"
    assert config.encoder_cache_dir() == expected
    assert config.encoder_cache_dir(bundled) == expected
    assert config.encoder_cache_dir(work / "mine") == work / "mine" / "encoders"
