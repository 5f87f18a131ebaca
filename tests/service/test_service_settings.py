"""Settings: read from HEADLINE_TOPICS_* variables with defaults, and bad values refused by name."""

from __future__ import annotations

import pytest

from classifier.service.settings import Settings


def test_settings_come_from_the_environment_with_defaults(tmp_path):
    defaults = Settings.from_env({})
    assert defaults.max_headlines == 256 and defaults.batch_max_size == 32
    assert defaults.admin_token is None and not defaults.admin_enabled
    env = {
        "HEADLINE_TOPICS_MODELS": str(tmp_path),
        "HEADLINE_TOPICS_MAX_HEADLINES": "12",
        "HEADLINE_TOPICS_BATCH_WAIT_MS": "2.5",
        "HEADLINE_TOPICS_ADMIN_TOKEN": "t0k",
        "HEADLINE_TOPICS_ENCODER_THREADS": "",
        "HEADLINE_TOPICS_ENCODER_BACKEND": "onnx",
    }
    settings = Settings.from_env(env)
    assert settings.models_dir == tmp_path and settings.max_headlines == 12
    assert settings.batch_wait_ms == 2.5 and settings.admin_enabled
    assert settings.encoder_threads is None and settings.encoder_backend == "onnx"
    assert defaults.encoder_backend is None  # None: the backend the model was trained on
    assert "t0k" not in repr(settings)
    assert Settings.from_env(env, max_headlines=3).max_headlines == 3
    variables = {row[0] for row in Settings.table()}
    assert "HEADLINE_TOPICS_MAX_BODY_BYTES" in variables and len(variables) == len(Settings.table())


@pytest.mark.parametrize(
    "env, message",
    [
        (
            {"HEADLINE_TOPICS_MAX_HEADLINES": "lots"},
            "HEADLINE_TOPICS_MAX_HEADLINES must be a whole",
        ),
        (
            {"HEADLINE_TOPICS_MAX_HEADLINES": "0"},
            "HEADLINE_TOPICS_MAX_HEADLINES must be at least 1",
        ),
        ({"HEADLINE_TOPICS_UNCERTAIN_BELOW": "2"}, "UNCERTAIN_BELOW must be from 0 to 1"),
        ({"HEADLINE_TOPICS_BATCH_WAIT_MS": "nan"}, "BATCH_WAIT_MS must be a finite number"),
        ({"HEADLINE_TOPICS_BATCH_WAIT_MS": "-1"}, "BATCH_WAIT_MS must be at least 0"),
        ({"HEADLINE_TOPICS_MAX_BODY_BYTES": "1e6"}, "MAX_BODY_BYTES must be a whole number"),
        ({"HEADLINE_TOPICS_ENCODER_BACKEND": "tensorrt"}, "ENCODER_BACKEND must be one of torch"),
        ({"HEADLINE_TOPICS_ENCODER_THREADS": "0"}, "ENCODER_THREADS must be at least 1"),
    ],
)
def test_bad_settings_are_refused_by_name(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_every_setting_is_in_the_services_reference_page():
    from tests.support import ROOT

    page = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    missing = [row[0] for row in Settings.table() if f"`{row[0]}`" not in page]
    assert not missing, f"docs/service.md does not list {missing}"
