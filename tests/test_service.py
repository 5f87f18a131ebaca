"""The Flask service: every endpoint, every kind of bad input, model swaps, micro-batching.

Most tests serve a small model trained with the fast fake embedder in a temporary store (two
versions, v1 current and v2 ready to promote); a few use the real MiniLM on the shipped model.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from prometheus_client.parser import text_string_to_metric_families

from classifier import cli
from classifier.service import create_app
from classifier.service.batcher import BatcherClosed, MicroBatcher
from classifier.service.holder import ModelHolder
from classifier.service.settings import Settings
from classifier.service.state import EXTENSION
from classifier.topics.store import HEAD_FILE, ModelError, ModelStore
from tests.conftest import ROOT, FakeEmbedder, clear_settings_env, load_project_data, save_model

TOKEN = "test-admin-token-0123456789abcdef"
ROWS = load_project_data()
LABELS = sorted({r["topic"] for r in ROWS})
SAMPLE = [r["headline"] for r in ROWS[5::97]][:40]
ERROR_SCHEMA_KEYS = {"status", "code", "message"}


# -- fixtures ------------------------------------------------------------------------------------
def train_version(store: ModelStore, rows, version: str, embedder, *, promote: bool) -> None:
    texts = [r["headline"] for r in rows]
    labels = [r["topic"] for r in rows]
    save_model(store, texts, labels, embedder, version=version, promote=promote)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """The developer's own HEADLINE_TOPICS_* variables must not leak into these tests."""
    clear_settings_env(monkeypatch, "PROMETHEUS_MULTIPROC_DIR")


@pytest.fixture(scope="module")
def base_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("service") / "models"
    store = ModelStore(root)
    embedder = FakeEmbedder()
    train_version(store, ROWS[::36], "v1", embedder, promote=True)
    train_version(store, ROWS[1::50], "v2", embedder, promote=False)
    return root


@pytest.fixture
def models_dir(base_store, tmp_path) -> Path:
    """A private copy of the two-version store, so a test may promote and break things."""
    target = tmp_path / "models"
    shutil.copytree(base_store, target)
    return target


def make_app(models_dir: Path, embedder=None, **settings):
    config = {
        "MODELS_DIR": models_dir,
        "EMBEDDER": embedder or FakeEmbedder(),
        "TESTING": True,
        **{k.upper(): v for k, v in settings.items()},
    }
    return create_app(config)


@pytest.fixture
def app(models_dir):
    app = make_app(models_dir, admin_token=TOKEN, reload_check_ms=0)
    yield app
    app.extensions[EXTENSION].batcher.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def svc(app):
    return app.extensions[EXTENSION]


def post(client, body, **kwargs):
    return client.post("/v1/predict", json=body, **kwargs)


def assert_json_error(response, status: int, message: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text and "/work/" not in text
    error = response.get_json()["error"]
    assert set(error) >= ERROR_SCHEMA_KEYS and error["status"] == status
    if message is not None:
        assert message in error["message"], error["message"]
    return error


# -- /v1/predict ---------------------------------------------------------------------------------
def test_one_headline_gets_every_field_and_matches_the_model(app, client):
    response = post(client, {"headline": "WHO declares measles outbreak an emergency"})
    assert response.status_code == 200
    body = response.get_json()
    model = svc(app).holder.model
    expected = model.predict("WHO declares measles outbreak an emergency").to_dict()
    assert body == expected  # same keys too: model, topic, confidence, scores, topics
    assert body["model"] == "v1" == response.headers["X-Model-Version"]
    assert list(body["scores"]) == LABELS
    assert body["topic"] == body["topics"][0] and body["confidence"] == max(body["scores"].values())


def test_many_headlines_come_back_in_order_from_one_version(app, client):
    response = post(client, {"headlines": SAMPLE})
    assert response.status_code == 200
    body = response.get_json()
    assert body["model"] == "v1"
    expected = [p.to_dict() for p in svc(app).holder.model.predict(SAMPLE)]
    for row in expected:
        row.pop("model")
    assert body["predictions"] == expected
    thresholds = svc(app).holder.model.thresholds
    for row in body["predictions"]:
        over = {t for t in LABELS if row["scores"][t] >= round(thresholds[t], 4) - 1e-4}
        assert set(row["topics"]) - {row["topic"]} <= over


BAD_BODIES = [
    ({"headline": ""}, "'headline' is empty or only whitespace", "headline"),
    ({"headline": " \t\n "}, "'headline' is empty or only whitespace", "headline"),
    ({"headline": 42}, "'headline' must be a string, not number", "headline"),
    ({"headline": None}, "'headline' must be a string, not null", "headline"),
    ({"headline": ["a"]}, "'headline' must be a string, not array", "headline"),
    ({"headline": "x" * 301}, "'headline' is 301 characters long; the limit is 300", "headline"),
    ({"headlines": "one string"}, "'headlines' must be an array of strings", "headlines"),
    ({"headlines": []}, "send at least one headline", "headlines"),
    ({"headlines": ["ok", 7]}, "'headlines[1]' must be a string, not number", "headlines[1]"),
    ({"headlines": ["ok", "  "]}, "'headlines[1]' is empty or only whitespace", "headlines[1]"),
    ({"headlines": ["ok"] * 11}, "too many headlines: 11 sent, at most 10", "headlines"),
    ({"headlines": ["ok", "y" * 301]}, "'headlines[1]' is 301 characters", "headlines[1]"),
    ({}, "missing field: send 'headline'", None),
    ({"headline": "a", "headlines": ["b"]}, "either 'headline' or 'headlines', not both", None),
    ({"headline": "a", "lang": "en"}, "unknown field(s) 'lang'", "lang"),
    ({"headine": "typo"}, "unknown field(s) 'headine'", "headine"),
    (["a list"], "the body must be a JSON object", None),
    ("just a string", "the body must be a JSON object", None),
]


@pytest.mark.parametrize("body, message, field", BAD_BODIES)
def test_bad_fields_get_a_400_that_says_what_is_wrong(models_dir, body, message, field):
    app = make_app(models_dir, max_headline_chars=300, max_headlines=10)
    error = assert_json_error(post(app.test_client(), body), 400, message)
    assert error["code"] == "invalid_input"
    assert error.get("field") == field


@pytest.mark.parametrize(
    "data, message",
    [
        (b"{bad", "malformed JSON: Expecting property name"),
        (b'{"headline": "unterminated', "malformed JSON: Unterminated string"),
        (b"", "the request body is empty"),
        (b"   ", "the request body is empty"),
        (b'{"headline": NaN}', "NaN is not valid JSON"),
        (b"\xff\xfe\xfa not utf-8", "not UTF-8 encoded JSON"),
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b'{"headline": "a"} trailing', "malformed JSON: Extra data"),
    ],
)
def test_malformed_json_is_a_400(client, data, message):
    response = client.post("/v1/predict", data=data, content_type="application/json")
    assert assert_json_error(response, 400, message)["code"] == "malformed_json"


def test_lone_surrogate_is_refused_not_crashed(client):
    data = b'{"headline": "broken \\ud800 text"}'
    response = client.post("/v1/predict", data=data, content_type="application/json")
    assert_json_error(response, 400, "not valid Unicode text")


@pytest.mark.parametrize(
    "kwargs, got",
    [
        ({"data": '{"headline": "x"}', "content_type": "text/plain"}, "'text/plain'"),
        ({"data": {"headline": "x"}}, "'application/x-www-form-urlencoded'"),
        ({"data": '{"headline": "x"}'}, "'none'"),
    ],
)
def test_wrong_content_type_is_a_415(client, kwargs, got):
    response = client.post("/v1/predict", **kwargs)
    assert_json_error(response, 415, f"Content-Type: application/json' (got {got})")


def test_json_with_a_charset_parameter_is_accepted(client):
    response = client.post(
        "/v1/predict",
        data=json.dumps({"headline": "Tariffs rise again"}),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200


def test_body_over_the_limit_is_a_413(models_dir):
    app = make_app(models_dir, max_body_bytes=1024)
    client = app.test_client()
    assert post(client, {"headlines": ["fine"] * 10}).status_code == 200
    response = post(client, {"headlines": ["a long enough headline"] * 100})
    assert_json_error(response, 413, "the limit is 1024 bytes")


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


# -- /v1/model, /healthz, /readyz ----------------------------------------------------------------
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


# -- /metrics ------------------------------------------------------------------------------------
def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    out = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_count_requests_latencies_and_topics(app, client):
    responses = [post(client, {"headline": h}).get_json() for h in SAMPLE[:6]]
    post(client, {"headlines": SAMPLE[6:10]})
    post(client, {"headline": ""})
    client.get("/no-such-page")
    metrics = scrape(client)

    def value(name, **labels):
        return metrics.get((name, tuple(sorted(labels.items()))), 0.0)

    assert (
        value(
            "headline_topics_http_requests_total",
            endpoint="/v1/predict",
            method="POST",
            status="200",
        )
        == 7
    )
    assert (
        value(
            "headline_topics_http_requests_total",
            endpoint="/v1/predict",
            method="POST",
            status="400",
        )
        == 1
    )
    assert (
        value(
            "headline_topics_http_requests_total", endpoint="unmatched", method="GET", status="404"
        )
        == 1
    )
    assert value("headline_topics_http_request_duration_seconds_count", endpoint="/v1/predict") == 8
    by_topic = {
        dict(labels)["topic"]: v
        for (name, labels), v in metrics.items()
        if name == "headline_topics_predictions_total"
    }
    assert sum(by_topic.values()) == 10
    topics = [r["topic"] for r in responses]
    for topic in set(topics):
        assert by_topic[topic] >= topics.count(topic)
    assert value("headline_topics_model_info", version="v1") == 1
    assert value("headline_topics_encoder_batch_headlines_sum") >= 10


# -- /openapi.json -------------------------------------------------------------------------------
def validator(document, name):
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return Draft202012Validator(schema)


def test_openapi_lists_exactly_the_routes_the_app_has(app, client):
    document = client.get("/openapi.json").get_json()
    Draft202012Validator.check_schema({"components": document["components"]})
    routes = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in {"web.static", "web.index"}
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == routes
    assert "/v1/admin/reload" in document["paths"]


def test_openapi_schemas_match_real_responses(app, client):
    document = client.get("/openapi.json").get_json()
    checks = [
        ("PredictOneResponse", post(client, {"headline": SAMPLE[0]})),
        ("PredictManyResponse", post(client, {"headlines": SAMPLE[:3]})),
        ("ModelInfo", client.get("/v1/model")),
        ("Health", client.get("/healthz")),
        ("Ready", client.get("/readyz")),
        ("Error", post(client, {"headline": ""})),
        ("Error", client.get("/missing")),
        ("Reload", client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})),
    ]
    for name, response in checks:
        errors = list(validator(document, name).iter_errors(response.get_json()))
        assert not errors, (name, [e.message for e in errors])
    # and a response of one kind does not pass for the other
    assert not validator(document, "PredictManyResponse").is_valid(checks[0][1].get_json())


@pytest.mark.parametrize(
    "body",
    [
        {"headline": "Trade talks stall"},
        {"headline": ""},
        {"headline": "   "},
        {"headline": "x" * 300},
        {"headline": "x" * 301},
        {"headlines": ["a", "b"]},
        {"headlines": []},
        {"headlines": ["a"] * 10},
        {"headlines": ["a"] * 11},
        {"headlines": ["a", 1]},
        {"headline": "a", "headlines": ["b"]},
        {"headline": "a", "extra": True},
        {"headline": None},
        [],
    ],
)
def test_openapi_request_schema_accepts_what_the_service_accepts(models_dir, body):
    app = make_app(models_dir, max_headline_chars=300, max_headlines=10)
    client = app.test_client()
    document = client.get("/openapi.json").get_json()
    request_schema = document["paths"]["/v1/predict"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    schema = {**request_schema, "components": document["components"]}
    schema_ok = Draft202012Validator(schema).is_valid(body)
    status = post(client, body).status_code
    assert status in (200, 400)
    assert (status == 200) == schema_ok


# -- admin ---------------------------------------------------------------------------------------
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


# -- picking up new versions ---------------------------------------------------------------------
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


def test_service_refuses_to_start_without_a_model(tmp_path):
    with pytest.raises(ModelError, match="no current model"):
        make_app(tmp_path / "empty")


# -- micro-batching ------------------------------------------------------------------------------
class SlowEncoder:
    """Records batch sizes; slow enough that concurrent callers pile up behind a batch."""

    def __init__(self, delay: float = 0.05) -> None:
        self.inner = FakeEmbedder()
        self.delay = delay
        self.batches: list[int] = []

    def __call__(self, texts):
        self.batches.append(len(texts))
        time.sleep(self.delay)
        return self.inner.encode(texts)


def test_batcher_merges_concurrent_requests_with_identical_results():
    encoder = SlowEncoder()
    batcher = MicroBatcher(encoder, max_wait_s=0.01, max_batch=8)
    texts = SAMPLE[:24]
    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(lambda t: batcher.encode([t], timeout=10), texts))
    batcher.close()
    expected = FakeEmbedder().encode(texts)
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_array_equal(got, want[None, :])
    assert sum(encoder.batches) == 24
    assert max(encoder.batches) <= 8 and len(encoder.batches) < 24
    assert max(encoder.batches) > 1


def test_batcher_does_not_wait_when_there_is_one_client():
    encoder = SlowEncoder(delay=0.0)
    batcher = MicroBatcher(encoder, max_wait_s=0.5, max_batch=32)
    started = time.perf_counter()
    for text in SAMPLE[:5]:
        batcher.encode([text], timeout=10)
    elapsed = time.perf_counter() - started
    batcher.close()
    assert encoder.batches == [1, 1, 1, 1, 1]
    assert elapsed < 0.5  # five sequential calls did not each sit out the 0.5 s wait


def test_batcher_splits_big_requests_so_small_ones_take_turns():
    encoder = SlowEncoder(delay=0.03)
    batcher = MicroBatcher(encoder, max_wait_s=0.0, max_batch=4)
    big = SAMPLE[:20]
    with ThreadPoolExecutor(2) as pool:
        big_future = pool.submit(batcher.encode, big, timeout=10)
        time.sleep(0.045)  # the big request is on its second chunk
        small = batcher.encode(SAMPLE[20:21], timeout=10)
        got = big_future.result()
    batcher.close()
    np.testing.assert_array_equal(got, FakeEmbedder().encode(big))
    np.testing.assert_array_equal(small, FakeEmbedder().encode(SAMPLE[20:21]))
    assert max(encoder.batches) <= 4 and sum(encoder.batches) == 21
    # the small request did not wait for all five chunks of the big one
    assert encoder.batches.index(1) < len(encoder.batches) - 1


def test_batcher_scores_each_request_with_its_own_model(models_dir):
    """During a swap one batch can hold requests for two versions: each gets its own head."""
    store = ModelStore(models_dir)
    v1 = store.load("v1", embedder=FakeEmbedder())
    v2 = store.load("v2", embedder=FakeEmbedder())
    encoder = SlowEncoder(delay=0.05)
    batcher = MicroBatcher(encoder, max_wait_s=0.05, max_batch=64)
    blocker = batcher.submit(["occupies the encoder while the others queue up"])
    time.sleep(0.01)
    futures = [
        (v1, SAMPLE[:3], batcher.submit(SAMPLE[:3], v1)),
        (v2, SAMPLE[3:5], batcher.submit(SAMPLE[3:5], v2)),
        (None, SAMPLE[5:7], batcher.submit(SAMPLE[5:7])),
        (v1, SAMPLE[7:8], batcher.submit(SAMPLE[7:8], v1)),
    ]
    blocker.result(timeout=10)
    for model, texts, future in futures:
        got = future.result(timeout=10)
        if model is None:
            np.testing.assert_array_equal(got, FakeEmbedder().encode(texts))
        else:  # the same as that model scoring these headlines on its own
            np.testing.assert_array_equal(got, model.predict_proba(texts))
    batcher.close()
    assert encoder.batches == [1, 8]  # the four requests shared one encoder call


def test_batcher_hands_an_encoder_failure_to_every_waiting_request():
    def broken(texts):
        time.sleep(0.02)
        raise RuntimeError("out of memory")

    batcher = MicroBatcher(broken, max_wait_s=0.01, max_batch=8)
    futures = [batcher.submit([t]) for t in SAMPLE[:5]]
    for future in futures:
        with pytest.raises(RuntimeError, match="out of memory"):
            future.result(timeout=10)
    batcher.close()
    with pytest.raises(BatcherClosed):
        batcher.submit(["late"])


def test_concurrent_http_requests_are_batched_and_identical_to_unbatched(models_dir):
    encoder = SlowEncoder(delay=0.03)
    fake = FakeEmbedder()
    fake.encode = lambda texts, batch_size=None: encoder(list(texts))
    app = make_app(models_dir, embedder=fake, batch_wait_ms=10, batch_max_size=16)
    client = app.test_client()
    with ThreadPoolExecutor(16) as pool:
        bodies = list(pool.map(lambda h: post(client, {"headline": h}).get_json(), SAMPLE[:32]))
    reference = ModelStore(models_dir).load("v1", embedder=FakeEmbedder())
    for headline, body in zip(SAMPLE[:32], bodies, strict=True):
        assert body == reference.predict(headline).to_dict()
    assert max(encoder.batches) > 1
    batches = scrape(client)[("headline_topics_encoder_batch_requests_count", ())]
    assert batches < 32  # one encoder call per request without batching


# -- the real encoder ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped_store(tmp_path_factory) -> Path:
    """A private copy of the shipped model, so retraining in models/ cannot disturb the tests."""
    root = tmp_path_factory.mktemp("shipped") / "models"
    version = ModelStore(ROOT / "models").current_version()
    shutil.copytree(ROOT / "models" / version, root / version)
    ModelStore(root).promote(version)
    return root


@pytest.fixture(scope="module")
def real_app(shipped_store):
    # the encoder the shipped model was trained on (onnx-int8), from the session's export cache
    app = create_app({"MODELS_DIR": shipped_store, "TESTING": True})
    yield app
    app.extensions[EXTENSION].batcher.close()


@pytest.mark.slow
def test_real_model_answers_sensibly(real_app, shipped_store):
    client = real_app.test_client()
    cases = {
        "WHO warns measles cases are rising across Europe": "health",
        "China retaliates with new tariffs on American soybeans": "trade",
        "Asylum seekers wait at the border as new rules take effect": "immigration",
    }
    body = post(client, {"headlines": list(cases)}).get_json()
    assert [p["topic"] for p in body["predictions"]] == list(cases.values())
    assert body["model"] == ModelStore(shipped_store).current_version()
    info = client.get("/v1/model").get_json()
    assert info["embedding"]["name"] == "all-MiniLM-L6-v2" and info["embedding"]["dimension"] == 384


@pytest.mark.slow
def test_real_batched_answers_equal_one_at_a_time(real_app):
    """Concurrent single-headline requests share encoder batches; answers must not change."""
    client = real_app.test_client()
    headlines = [r["headline"] for r in ROWS[3::211]][:24]
    barrier = threading.Barrier(len(headlines))

    def ask(headline):
        barrier.wait()
        return post(client, {"headline": headline}).get_json()

    with ThreadPoolExecutor(len(headlines)) as pool:
        batched = list(pool.map(ask, headlines))
    model = svc(real_app).holder.model
    alone = [model.predict(h).to_dict() for h in headlines]  # encoder at batch 1, no batcher
    for got, want in zip(batched, alone, strict=True):
        # padding a batch moves embeddings by ~2e-7 and scores by ~1e-6: at most one unit in
        # the 4th decimal, and only when a score sits on a rounding edge
        assert (got["model"], got["topic"], got["topics"]) == (
            want["model"],
            want["topic"],
            want["topics"],
        )
        for label in want["scores"]:
            assert abs(got["scores"][label] - want["scores"][label]) <= 1e-4
    sizes = scrape(client)[("headline_topics_encoder_batch_headlines_sum", ())]
    calls = scrape(client)[("headline_topics_encoder_batch_headlines_count", ())]
    assert sizes / calls > 1.5  # the requests really were merged


# -- settings, entry points, CLI -----------------------------------------------------------------
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


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--port", "0"], "--port must be between 1 and 65535"),
        (["--port", "70000"], "--port must be between 1 and 65535"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--encoder-threads", "0"], "--encoder-threads must be at least 1"),
        (["--torch-threads", "0"], "--encoder-threads must be at least 1"),
    ],
)
def test_serve_refuses_bad_options(argv, message, capsys):
    assert cli.main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_serve_refuses_an_empty_store_before_starting_gunicorn(tmp_path, capsys):
    assert cli.main(["serve", "--models-dir", str(tmp_path), "--port", "8099"]) == 2
    assert "no current model" in capsys.readouterr().err
    assert "HEADLINE_TOPICS_MODELS" not in os.environ  # nothing leaked into our environment


def test_serve_refuses_a_bad_environment_value(monkeypatch, capsys):
    monkeypatch.setenv("HEADLINE_TOPICS_MAX_HEADLINES", "many")
    assert cli.main(["serve"]) == 2
    assert "HEADLINE_TOPICS_MAX_HEADLINES must be a whole number" in capsys.readouterr().err


def test_serve_splits_the_cores_between_workers():
    from classifier.cli.serve import gunicorn_options, limit_heap_growth
    from classifier.config import encoder_threads

    if sys.platform.startswith("linux"):
        assert limit_heap_growth() is True  # glibc accepted the fixed mmap threshold

    assert encoder_threads(1, cores=2) == 2
    assert encoder_threads(2, cores=2) == 1
    assert encoder_threads(3, cores=2) == 1
    assert encoder_threads(3, cores=8) == 2
    assert encoder_threads(1, requested=1, cores=2) == 1
    with pytest.raises(ValueError, match="at least 1"):
        encoder_threads(1, requested=0)
    options = gunicorn_options(
        host="::1",
        port=9000,
        workers=2,
        threads=16,
        timeout=60,
        access_log=False,
        multiproc_dir="/tmp/x",
    )
    assert options["bind"] == "[::1]:9000" and options["worker_class"] == "gthread"
    assert options["threads"] == 16 and options["preload_app"] is False
    assert callable(options["child_exit"])


# -- /v1/cluster -----------------------------------------------------------------------------
@pytest.fixture
def fake_cluster_module(monkeypatch):
    """Stand in for classifier.clustering.cluster with a recording function, to test the wiring alone."""
    import classifier.service as service_package

    calls = []

    def cluster_headlines(texts, model, *, level="stories", embeddings=None, **params):
        calls.append((list(texts), model.version, level, np.asarray(embeddings).shape, params))
        return {"level": level, "model": "not this", "clusters": [{"id": 0, "size": len(texts)}]}

    fake = types.ModuleType("classifier.clustering.cluster")
    fake.cluster_headlines = cluster_headlines
    fake.LEVELS = ("stories", "themes")
    monkeypatch.setitem(sys.modules, "classifier.clustering.cluster", fake)
    sys.modules.pop("classifier.service.cluster", None)
    monkeypatch.delattr(service_package, "cluster", raising=False)
    yield calls
    sys.modules.pop("classifier.service.cluster", None)
    if hasattr(service_package, "cluster"):
        delattr(service_package, "cluster")


CLUSTER_TEXTS = ["Senate passes farm bill", "House passes farm bill", "WHO warns of flu"]


def test_cluster_route_passes_embeddings_options_and_the_model(models_dir, fake_cluster_module):
    app = make_app(models_dir, max_cluster_headlines=5)
    client = app.test_client()
    body = {"headlines": CLUSTER_TEXTS, "level": "themes", "n_clusters": 2}
    response = client.post("/v1/cluster", json=body)
    assert response.status_code == 200
    assert response.get_json() == {
        "level": "themes",
        "model": "v1",  # the version that answered, whatever the function says
        "clusters": [{"id": 0, "size": 3}],
    }
    assert response.headers["X-Model-Version"] == "v1"
    assert fake_cluster_module == [(CLUSTER_TEXTS, "v1", "themes", (3, 64), {"n_clusters": 2})]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"headlines": ["one"]}, "send at least 2 headlines"),
        ({"headlines": ["a"] * 6}, "too many headlines: 6 sent, at most 5"),
        ({"headlines": ["a", " "]}, "'headlines[1]' is empty"),
        ({"headlines": CLUSTER_TEXTS, "level": "topics"}, "'level' must be one of 'stories'"),
        ({"headlines": CLUSTER_TEXTS, "level": 3}, "not number"),
        ({"headlines": CLUSTER_TEXTS, "n_clusters": 2.5}, "'n_clusters' must be a whole number"),
        ({"headlines": CLUSTER_TEXTS, "n_clusters": True}, "not boolean"),
        ({"headlines": CLUSTER_TEXTS, "distance_threshold": "0.4"}, "must be a number"),
        ({"texts": CLUSTER_TEXTS}, "unknown field(s) 'texts'"),
        ({"level": "stories"}, "missing field: 'headlines'"),
    ],
)
def test_cluster_refuses_bad_input(models_dir, fake_cluster_module, body, message):
    client = make_app(models_dir, max_cluster_headlines=5).test_client()
    assert_json_error(client.post("/v1/cluster", json=body), 400, message)
    assert fake_cluster_module == []


def test_cluster_with_the_real_clustering_module(app, client):
    pytest.importorskip("classifier.clustering.cluster")
    headlines = [
        "Senate passes farm bill after long debate",
        "Farm bill passes Senate after long debate",
        "WHO warns of flu season in Europe",
        "Flu season in Europe worries WHO",
        "Stocks rally as tariffs are lifted",
    ]
    response = client.post("/v1/cluster", json={"headlines": headlines, "level": "stories"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    document = client.get("/openapi.json").get_json()
    assert not list(validator(document, "ClusterResponse").iter_errors(body))
    assert body["model"] == "v1" and body["level"] == "stories"
    assert len(body["labels"]) == len(headlines) and body["n_headlines"] == len(headlines)
    assert_json_error(
        client.post("/v1/cluster", json={"headlines": headlines, "distance_threshold": 5}),
        400,
        "distance_threshold must be between 0 and 2",
    )


def test_cluster_route_is_absent_without_the_module(models_dir, monkeypatch):
    """Without classifier.clustering.cluster the service still starts, and /v1/cluster is a plain 404."""
    import classifier.service as service_package

    monkeypatch.setitem(sys.modules, "classifier.clustering.cluster", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "classifier.service.cluster", raising=False)
    monkeypatch.delattr(service_package, "cluster", raising=False)
    client = make_app(models_dir).test_client()
    assert_json_error(client.post("/v1/cluster", json={"headlines": ["a", "b"]}), 404)
    assert "/v1/cluster" not in client.get("/openapi.json").get_json()["paths"]
