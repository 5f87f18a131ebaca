"""GET /healthz (the process answers) and GET /readyz (a prediction really goes through)."""

from __future__ import annotations

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
