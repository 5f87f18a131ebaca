"""Reading request bodies: content type (415), size (413) and JSON syntax (400), before any field."""

from __future__ import annotations

import io
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


class StallingStream(io.BytesIO):
    """A request body that gives its first bytes, then times out as a socket read does."""

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if chunk:
            return chunk
        raise TimeoutError("timed out")

    def readinto(self, buffer) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_that_stops_arriving_is_a_408(client, chunked):
    """Under gunicorn a stalled read times out (classifier.service.worker); the app answers 408."""
    # the test client measures a stream's length itself: the declared one goes in the environ
    environ = (
        {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""}
        if chunked
        else {"CONTENT_LENGTH": "100"}
    )
    response = client.post(
        "/v1/predict",
        input_stream=StallingStream(b'{"headline": "Sen'),
        content_type="application/json",
        environ_overrides=environ,
    )
    error = assert_json_error(response, 408, "the request body stopped arriving")
    assert error["code"] == "request_timeout"


def test_a_client_that_goes_away_is_still_a_400_not_a_408(client):
    response = client.post(
        "/v1/predict",
        input_stream=io.BytesIO(b'{"headline": "Sen'),
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": "100"},
    )
    assert assert_json_error(response, 400)["code"] != "request_timeout"
