"""The model holder: new versions picked up without a restart, pins, and one model per request."""

from __future__ import annotations

from classifier.service.holder import ModelHolder
from classifier.topics.store import ModelStore
from tests.conftest import FakeEmbedder
from tests.service.support import SAMPLE, TOKEN, make_app, post, svc


def test_a_promoted_version_is_picked_up_without_restart(app, client, models_dir):
    before = post(client, {"headlines": SAMPLE}).get_json()
    ModelStore(models_dir).promote("v2")
    after = post(client, {"headlines": SAMPLE}).get_json()
    assert (before["model"], after["model"]) == ("v1", "v2")
    assert before["predictions"] != after["predictions"]  # really another model answered
    v2 = ModelStore(models_dir).load("v2", embedder=FakeEmbedder())
    assert after["predictions"][0]["scores"] == v2.predict(SAMPLE[0]).scores


def test_a_pinned_version_ignores_current(models_dir):
    app = make_app(models_dir, model_version="v2", reload_check_ms=0, admin_token=TOKEN)
    client = app.test_client()
    assert post(client, {"headline": "a b"}).get_json()["model"] == "v2"
    ModelStore(models_dir).promote("v2")
    ModelStore(models_dir).promote("v1")
    assert post(client, {"headline": "a b"}).get_json()["model"] == "v2"
    reload = client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reload.get_json()["changed"] is False
    assert client.get("/v1/model").get_json()["service"]["pinned"] is True


def test_a_request_keeps_its_model_when_a_swap_happens_mid_request(app, client, models_dir):
    """The swap lands while the request waits for the encoder: it still answers as v1, wholly."""
    state = svc(app)
    original = state.batcher.predict_proba
    swapped = []

    def swap_then_score(texts, model, timeout=None):
        if not swapped:  # the request already holds its model; the service moves on to v2
            ModelStore(models_dir).promote("v2")
            swapped.append(state.holder.reload())
        return original(texts, model, timeout=timeout)

    state.batcher.predict_proba = swap_then_score
    body = post(client, {"headlines": SAMPLE}).get_json()
    assert swapped[0].version == "v2" and state.holder.model.version == "v2"
    v1 = ModelStore(models_dir).load("v1", embedder=FakeEmbedder())
    expected = [p.to_dict() for p in v1.predict(SAMPLE)]
    for row in expected:
        row.pop("model")
    assert body == {"model": "v1", "predictions": expected}
    assert post(client, {"headline": SAMPLE[0]}).get_json()["model"] == "v2"


def test_holder_checks_current_no_more_often_than_its_interval(models_dir):
    now = [100.0]
    store = ModelStore(models_dir)
    holder = ModelHolder(store, FakeEmbedder(), check_interval_s=5.0, clock=lambda: now[0])
    holder.start()
    store.promote("v2")
    now[0] += 4.9
    assert holder.get().version == "v1"
    now[0] += 0.2
    assert holder.get().version == "v2"
