"""POST /v1/predict: one headline or many, and every kind of bad field refused with a clear 400."""

from __future__ import annotations

import pytest

from classifier.topics.store import ModelStore
from tests.service.support import LABELS, SAMPLE, assert_json_error, make_app, post, svc


def test_one_headline_gets_every_field_and_matches_the_model(app, client):
    response = post(client, {"headline": "WHO declares measles outbreak an emergency"})
    assert response.status_code == 200
    body = response.get_json()
    model = svc(app).holder.model
    expected = model.predict("WHO declares measles outbreak an emergency").to_dict()
    assert body == expected  # same keys too: model, topic, confidence, scores, topics, ...
    assert body["model"] == "v1" == response.headers["X-Model-Version"]
    assert list(body["scores"]) == list(body["applies"]) == LABELS
    assert body["confidence"] == max(body["scores"].values())
    # the primary topic leads the list, unless it is 'other' and a real topic applies instead
    assert body["topic"] == body["topics"][0] or body["topic"] == "other" not in body["topics"]
    assert body["uncertain"] == (body["confidence"] < 0.5)


def test_many_headlines_come_back_in_order_from_one_version(app, client):
    response = post(client, {"headlines": SAMPLE})
    assert response.status_code == 200
    body = response.get_json()
    assert body["model"] == "v1"
    expected = [p.to_dict() for p in svc(app).holder.model.predict(SAMPLE)]
    for row in expected:
        row.pop("model")
    assert body["predictions"] == expected
    model = svc(app).holder.model
    bars = dict(zip(model.labels, model.applies.thresholds_, strict=True))
    for row in body["predictions"]:
        over = {t for t in LABELS if row["applies"][t] >= round(bars[t], 4) - 1e-4}
        assert set(row["topics"]) - {row["topic"]} <= over
        assert "other" not in row["topics"] or row["topics"] == ["other"]


def test_uncertain_is_set_by_the_request_else_by_the_service(models_dir):
    app = make_app(models_dir, uncertain_below=1.0)
    client = app.test_client()
    assert post(client, {"headline": "Tariffs"}).get_json()["uncertain"] is True
    body = post(client, {"headlines": SAMPLE, "uncertain_below": 0}).get_json()
    assert not any(row["uncertain"] for row in body["predictions"])
    body = post(client, {"headline": "Tariffs", "uncertain_below": 1}).get_json()
    assert body["uncertain"] is True


BAD_BODIES = [
    ({"headline": ""}, "'headline' is empty or only whitespace", "headline"),
    ({"headline": " \t\n "}, "'headline' is empty or only whitespace", "headline"),
    # invisible characters alone were once 'other' at 91% (issue 19)
    ({"headline": "\u200b"}, "'headline' is empty or only whitespace", "headline"),
    ({"headline": "\ufeff \u200d"}, "'headline' is empty or only whitespace", "headline"),
    ({"headline": "\u0000"}, "'headline' is empty or only whitespace", "headline"),
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
    ({}, "missing field: send 'headline'", "headline"),
    (
        {"headline": "a", "headlines": ["b"]},
        "either 'headline' or 'headlines', not both",
        "headlines",
    ),
    (
        {"headline": "a", "uncertain_below": 2},
        "'uncertain_below' must be from 0 to 1",
        "uncertain_below",
    ),
    (
        {"headline": "a", "uncertain_below": "hi"},
        "'uncertain_below' must be a number",
        "uncertain_below",
    ),
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


def test_a_5000_digit_number_is_refused_by_field_without_python_hints(client):
    data = b'{"headlines": ["ok", ' + b"9" * 5000 + b"]}"
    response = client.post("/v1/predict", data=data, content_type="application/json")
    error = assert_json_error(response, 400, "'headlines[1]' must be a string, not number")
    assert error["field"] == "headlines[1]"
    assert "sys." not in error["message"] and "digits" not in error["message"]


def test_lone_surrogate_is_refused_not_crashed(client):
    data = b'{"headline": "broken \\ud800 text"}'
    response = client.post("/v1/predict", data=data, content_type="application/json")
    assert_json_error(response, 400, "not valid Unicode text")


# -- the real encoder ----------------------------------------------------------------------------


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
