"""create_app and its entry points: no model means no service, and the flask CLI shows the settings."""

from __future__ import annotations

import pytest

from classifier.service import create_app
from classifier.topics.store import ModelError
from tests.service.support import TOKEN, make_app


def test_service_refuses_to_start_without_a_model(tmp_path):
    with pytest.raises(ModelError, match="no current model"):
        make_app(tmp_path / "empty")


def test_flask_cli_shows_the_settings_in_force(runner, models_dir):
    result = runner.invoke(args=["settings"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.output.splitlines())
    assert lines["HEADLINE_TOPICS_MODELS"] == str(models_dir)
    assert lines["HEADLINE_TOPICS_RELOAD_CHECK_MS"] == "0"
    assert lines["HEADLINE_TOPICS_MAX_HEADLINES"] == "256"
    assert lines["HEADLINE_TOPICS_ADMIN_TOKEN"] == "set" and TOKEN not in result.output


def test_dev_server_entry_point_fails_cleanly_without_a_model(tmp_path, monkeypatch, capsys):
    import service

    monkeypatch.setenv("HEADLINE_TOPICS_MODELS", str(tmp_path / "none"))
    assert service.main([]) == 2
    err = capsys.readouterr().err
    assert "no current model" in err and "Traceback" not in err
    assert service.create_app is create_app
