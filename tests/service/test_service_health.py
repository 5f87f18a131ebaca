"""GET /healthz (the process answers) and GET /readyz (a prediction really goes through)."""

from __future__ import annotations

import pytest

from tests.service.support import svc


def test_health_and_readiness(app, client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready", "model": "v1"}


def test_not_ready_when_the_encoder_fails(app, client, monkeypatch):
    def broken(texts):
        raise RuntimeError("encoder crashed")

    monkeypatch.setattr(svc(app).batcher, "_encode", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "not ready",
        "reason": "RuntimeError: encoder crashed",
    }
    assert client.get("/healthz").status_code == 200  # the process itself is still up


@pytest.mark.parametrize("damage", ["missing", "empty"])
def test_a_missing_or_empty_current_is_explained_without_paths(app, client, models_dir, damage):
    """Issue 10: the store's absolute path and Python's None were shown to clients."""
    marker = models_dir / "CURRENT"
    if damage == "missing":
        marker.unlink()
    else:
        marker.write_text("\n", encoding="utf-8")
    ready, info = client.get("/readyz"), client.get("/v1/model")
    for response in (ready, info):
        assert response.status_code == 200  # the model loaded before keeps answering
        text = response.get_data(as_text=True)
        assert str(models_dir.resolve()) not in text and "None" not in text
    assert ready.get_json()["model"] == info.get_json()["version"] == "v1"
    for error in (ready.get_json()["reload_error"], info.get_json()["service"]["reload_error"]):
        assert error.startswith("no current model:"), error
        assert "run headline-topics promote VERSION" in error
        assert "/" not in error
