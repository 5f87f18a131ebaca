"""GET /v1/model: the manifest of the model answering, and how the service holds it."""

from __future__ import annotations

from classifier.topics.store import ModelStore
from tests.service.support import LABELS, svc


def test_model_endpoint_returns_the_manifest(app, client):
    body = client.get("/v1/model").get_json()
    manifest = ModelStore(svc(app).settings.models_dir).read_manifest("v1")
    assert body["version"] == "v1"
    assert body["labels"] == manifest["labels"] == LABELS
    assert body["metrics"] == manifest["metrics"] and "macro_f1" in body["metrics"]
    assert body["embedding"]["name"] == "fake-hash-embedder"
    assert body["thresholds"] == manifest["thresholds"]
    assert body["service"]["pinned"] is False and body["service"]["current_on_disk"] == "v1"
    assert body["service"]["reload_error"] is None
