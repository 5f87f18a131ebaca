"""POST /v1/admin/reload: off without a token, refuses wrong tokens, swaps or keeps the old model."""

from __future__ import annotations

import pytest

from classifier.topics.store import HEAD_FILE, ModelStore
from tests.service.support import TOKEN, assert_json_error, make_app, post, scrape


def test_admin_is_off_without_a_token(models_dir):
    app = make_app(models_dir)
    client = app.test_client()
    assert_json_error(client.post("/v1/admin/reload"), 404)
    paths = client.get("/openapi.json").get_json()["paths"]
    assert not any(path.startswith("/v1/admin") for path in paths)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer \u00e9t\u00e9"},
    ],
)
def test_admin_refuses_a_missing_or_wrong_token(client, headers):
    response = client.post("/v1/admin/reload", headers=headers)
    assert_json_error(response, 401, "Authorization: Bearer")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_admin_reload_switches_to_a_promoted_version(models_dir):
    app = make_app(models_dir, admin_token=TOKEN, reload_check_ms=3_600_000)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/v1/admin/reload", headers=auth).get_json() == {
        "previous": "v1",
        "version": "v1",
        "changed": False,
    }
    ModelStore(models_dir).promote("v2")
    # the periodic check is an hour away: still v1 until someone asks for a reload
    assert post(client, {"headline": "x y"}).get_json()["model"] == "v1"
    assert client.post("/v1/admin/reload", headers=auth).get_json() == {
        "previous": "v1",
        "version": "v2",
        "changed": True,
    }
    assert post(client, {"headline": "x y"}).get_json()["model"] == "v2"
    assert client.get("/v1/model").get_json()["version"] == "v2"


def test_a_broken_new_version_keeps_the_old_one_serving(models_dir):
    app = make_app(models_dir, admin_token=TOKEN, reload_check_ms=0)
    client = app.test_client()
    store = ModelStore(models_dir)
    store.promote("v2")
    head = models_dir / "v2" / HEAD_FILE
    head.write_bytes(head.read_bytes()[:-50])  # damaged after promotion
    response = post(client, {"headline": "Border talks resume"})
    assert response.status_code == 200 and response.get_json()["model"] == "v1"
    info = client.get("/v1/model").get_json()
    assert "cannot switch to model 'v2'" in info["service"]["reload_error"]
    assert "head.npz differs" in info["service"]["reload_error"]
    assert client.get("/readyz").get_json()["reload_error"] == info["service"]["reload_error"]
    response = client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert_json_error(response, 409, "still serving v1")
    metrics = scrape(client)
    assert metrics[("headline_topics_model_reloads_total", (("outcome", "failed"),))] >= 1
    store.promote("v1")  # rolled back: the error clears
    assert client.get("/v1/model").get_json()["service"]["reload_error"] is None
