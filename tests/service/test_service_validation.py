"""Reading request bodies: content type (415), size (413) and JSON syntax (400), before any field."""

from __future__ import annotations

import json

import pytest

from tests.service.support import assert_json_error, make_app, post


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
