"""POST /v1/predict with ``explain``: the answer gains an explanation, is otherwise unchanged, and
the field is checked like every other; the shipped model explains with its real encoder."""

from __future__ import annotations

import pytest

from classifier.config import EXPLAIN_MAX_HEADLINES
from classifier.topics.explain import NO_INDEX_NOTE, explain
from classifier.topics.store import ModelStore
from classifier.topics.training import train_model
from tests.conftest import FakeEmbedder
from tests.service.support import ROWS, SAMPLE, assert_json_error, make_app, post, svc, validator


def test_explain_adds_an_explanation_and_changes_nothing_else(app, client):
    plain = post(client, {"headline": SAMPLE[0]}).get_json()
    response = post(client, {"headline": SAMPLE[0], "explain": True})
    assert response.status_code == 200
    body = response.get_json()
    explanation = body.pop("explanation")
    assert body == plain
    expected = explain(svc(app).holder.model, SAMPLE[0])[0].to_dict()
    assert explanation == expected
    assert explanation["topic"] == plain["topic"]
    assert len(explanation["neighbours"]) == 3 and "note" not in explanation
    document = client.get("/openapi.json").get_json()
    errors = list(validator(document, "PredictOneResponse").iter_errors(response.get_json()))
    assert not errors, [e.message for e in errors]


def test_each_of_many_headlines_gets_its_own_explanation(app, client):
    plain = post(client, {"headlines": SAMPLE[:4]}).get_json()
    response = post(client, {"headlines": SAMPLE[:4], "explain": True})
    body = response.get_json()
    expected = [e.to_dict() for e in explain(svc(app).holder.model, SAMPLE[:4])]
    assert [row.pop("explanation") for row in body["predictions"]] == expected
    assert body == plain
    document = client.get("/openapi.json").get_json()
    errors = list(validator(document, "PredictManyResponse").iter_errors(response.get_json()))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("value", [False, None])
def test_explain_false_or_null_is_the_plain_answer(client, value):
    body = post(client, {"headline": SAMPLE[0], "explain": value}).get_json()
    assert "explanation" not in body


@pytest.mark.parametrize(
    "value, shown", [("yes", "string"), (1, "number"), (0, "number"), ([True], "array")]
)
def test_a_non_boolean_explain_is_a_400_naming_the_field(client, value, shown):
    error = assert_json_error(
        post(client, {"headline": SAMPLE[0], "explain": value}),
        400,
        f"'explain' must be true or false, not {shown}",
    )
    assert error["field"] == "explain"


def test_too_many_headlines_to_explain_is_a_400_before_any_work(models_dir):
    app = make_app(models_dir, max_headlines=EXPLAIN_MAX_HEADLINES + 1)
    client = app.test_client()
    headlines = [r["headline"] for r in ROWS[: EXPLAIN_MAX_HEADLINES + 1]]
    error = assert_json_error(
        post(client, {"headlines": headlines, "explain": True}),
        400,
        f"'explain' takes at most {EXPLAIN_MAX_HEADLINES} headlines per request",
    )
    assert error["field"] == "explain"
    assert post(client, {"headlines": headlines}).status_code == 200  # without explain: fine
    svc(app).batcher.close()


def test_the_document_lists_the_field_and_the_explanation(client):
    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for body in ("PredictOne", "PredictMany"):
        assert schemas[body]["properties"]["explain"]["type"] == ["boolean", "null"]
    assert schemas["Prediction"]["properties"]["explanation"] == {
        "$ref": "#/components/schemas/Explanation"
    }
    assert set(schemas["Explanation"]["required"]) == {"topic", "neighbours", "words"}


def test_a_model_saved_without_an_index_explains_with_a_note(tmp_path):
    rows = ROWS[::40]
    model, manifest = train_model(
        [r["headline"] for r in rows], [r["topic"] for r in rows], FakeEmbedder(), source="test"
    )
    model.neighbours = None
    manifest["version"] = "old"
    ModelStore(tmp_path).save(model, manifest, promote=True)
    app = make_app(tmp_path)
    response = post(app.test_client(), {"headline": "Senate passes tariff bill", "explain": True})
    assert response.status_code == 200
    explanation = response.get_json()["explanation"]
    assert explanation["neighbours"] == [] and explanation["note"] == NO_INDEX_NOTE
    svc(app).batcher.close()


@pytest.mark.slow
def test_the_shipped_model_explains_a_trade_headline_by_its_tariffs(real_app):
    client = real_app.test_client()
    body = post(
        client, {"headline": "Senate votes to raise tariffs on imported steel", "explain": True}
    ).get_json()
    assert body["topic"] == body["explanation"]["topic"] == "trade"
    assert body["explanation"]["words"][0]["word"] == "tariffs"
    assert all(n["topics"][0] == "trade" for n in body["explanation"]["neighbours"])
