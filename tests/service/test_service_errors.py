"""Every error is JSON of one shape: unknown routes and methods, and a bare 500 for the unexpected."""

from __future__ import annotations

from tests.service.support import assert_json_error, post, svc


def test_unknown_routes_and_methods_get_json_errors(client):
    assert_json_error(client.get("/v1/nothing"), 404, "no such endpoint")
    assert_json_error(client.get("/nothing-here"), 404)
    response = client.get("/v1/predict")
    assert_json_error(response, 405, "allowed: POST")
    assert "POST" in response.headers["Allow"]
    assert_json_error(client.delete("/v1/model"), 405, "allowed: GET")
    assert_json_error(client.put("/healthz"), 405)
    assert_json_error(client.open("/v1/predict", method="BREW"), 405)


def test_an_unexpected_failure_is_a_bare_500_without_details(app, client, monkeypatch):
    def explode(texts, model, timeout=None):
        raise RuntimeError("secret detail in /work/main/classifier/x.py")

    monkeypatch.setattr(svc(app).batcher, "predict_proba", explode)
    response = post(client, {"headline": "anything"})
    error = assert_json_error(response, 500, "internal error")
    assert "secret" not in response.get_data(as_text=True)
    assert error["code"] == "internal_error"
