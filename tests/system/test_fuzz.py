"""Fuzzing the HTTP service: generated requests from its own OpenAPI document, then nasty ones.

Schemathesis reads ``/openapi.json`` from the Flask app (WSGI, no socket) and generates requests
for every operation, both valid ones and ones that break the schema. Every response must be
free of 5xx, have a status, content type, headers and body the document allows, and the app
must keep answering afterwards. The hand-made cases cover what a generator rarely reaches:
deep nesting, huge numbers, NUL bytes, invalid UTF-8, a 10 MB body, 100,000 headlines, emoji,
right-to-left text and markup. Everything runs on the fast fake embedder.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from jsonschema import Draft202012Validator
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from classifier.service.state import EXTENSION
from classifier.topics.store import ModelStore
from tests.conftest import ENCODER_CACHE_ENV, FakeEmbedder
from tests.service.support import ROWS, TOKEN, make_app, train_version

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MIN_GENERATED = 1000  # the floor, summed over every operation
LEAKS = ("Traceback", "/work/", "/tmp/", 'File "', "<html")


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    saved = {
        k: os.environ.pop(k)
        for k in list(os.environ)
        if k.startswith("HEADLINE_TOPICS_") and k != ENCODER_CACHE_ENV
    }
    root = tmp_path_factory.mktemp("fuzz") / "models"
    store = ModelStore(root)
    train_version(store, ROWS[::36], "v1", FakeEmbedder(), promote=True)
    app = make_app(root, admin_token=TOKEN, reload_check_ms=0)
    yield app
    app.extensions[EXTENSION].batcher.close()
    os.environ.update(saved)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def document(fuzz_app) -> dict:
    return fuzz_app.test_client().get("/openapi.json").get_json()


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_generated_requests_never_get_a_5xx_and_match_the_document(fuzz_app):
    """At least MIN_GENERATED requests over every operation, positive and negative data.

    The checks were seen to bite: with an after_request hook that renamed "confidence" in
    /v1/predict bodies, this test failed with ST108 "Response violates schema".
    """
    operations = _operations(fuzz_app)
    assert len(operations) >= 6, [op.label for op in operations]
    with_input = [op for op in operations if op.method.upper() != "GET"]
    # GETs here take no parameters, so a few tries exhaust them; the budget goes to the POSTs
    per_post = -(-MIN_GENERATED // (2 * len(with_input))) + 50
    sent: dict[str, int] = {}
    statuses: dict[int, int] = {}
    skipped: list[str] = []

    for operation, mode in itertools.product(operations, GenerationMode):
        # schema-valid data (positive) and data that breaks the schema on purpose (negative)
        strategy = operation.as_strategy(generation_mode=mode)
        label = f"{operation.label} [{mode.value}]"

        @settings(
            max_examples=per_post if operation in with_input else 25,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests on every run: a failure reproduces
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case):  # called right below, inside this iteration: the loop variables hold
            # the positive admin calls carry the token, so the reload itself is fuzzed too
            token = "admin" in label and mode is GenerationMode.POSITIVE  # noqa: B023
            headers = {"Authorization": f"Bearer {TOKEN}"} if token else None
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            sent[label] = sent.get(label, 0) + 1  # noqa: B023
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert not any(leak in response.text for leak in LEAKS), response.text[:500]

        try:
            run()
        except Unsatisfiable:  # no parameters and no body: nothing can break the schema
            assert mode is GenerationMode.NEGATIVE and operation.method.upper() == "GET"
            skipped.append(label)

    total = sum(sent.values())
    print(f"\nschemathesis {schemathesis.__version__}: {total} requests, statuses {statuses}")
    print(f"per operation {sent}; no negative data possible for {skipped}")
    assert total >= MIN_GENERATED
    assert not any(code >= 500 for code in statuses)
    assert fuzz_app.test_client().get("/healthz").status_code == 200


# -- hand-made nasty cases -----------------------------------------------------------------------
def _error_valid(document: dict, response) -> dict:
    """A 4xx whose body is the document's Error schema, with no trace or path in it."""
    assert 400 <= response.status_code < 500, (response.status_code, response.data[:300])
    assert response.mimetype == "application/json"
    body = response.get_json()
    schema = {"$ref": "#/components/schemas/Error", "components": document["components"]}
    Draft202012Validator(schema).validate(body)
    text = response.get_data(as_text=True)
    assert not any(leak in text for leak in LEAKS), text[:300]
    return body["error"]


def _raw(client, data: bytes, content_type: str = "application/json"):
    return client.post("/v1/predict", data=data, headers={"Content-Type": content_type})


NASTY_BODIES = {
    "deeply nested arrays": b"[" * 100_000 + b"]" * 100_000,
    "deeply nested objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "nested headline": b'{"headline":' + b"[" * 5000 + b'"x"' + b"]" * 5000 + b"}",
    "huge integer": b'{"headline": ' + b"9" * 5000 + b"}",
    "huge float": b'{"headline": 1e999999}',
    "NaN": b'{"headline": NaN}',
    "huge headlines count": b'{"headlines": 1e308}',
    "NUL in JSON escape": b'{"headline": "bad\\u0000news"}',
    "raw NUL byte": b'{"headline": "bad\x00news"}',
    "invalid UTF-8": b'{"headline": "caf\xc3\x28 \xff\xfe"}',
    "lone surrogate": b'{"headline": "\\ud800"}',
    "UTF-16 body": '{"headline": "Tariffs rise"}'.encode("utf-16"),
    "BOM": b'\xef\xbb\xbf{"headline": "Tariffs rise"}',
    "duplicate keys": b'{"headline": "a", "headline": {"x": 1}}',
    "empty": b"",
    "just null": b"null",
    "number": b"42",
    "truncated": b'{"headline": "Tariffs',
}


@pytest.mark.parametrize("name", list(NASTY_BODIES))
def test_nasty_bodies_get_a_clear_answer_never_a_5xx(fuzz_app, document, name):
    client = fuzz_app.test_client()
    response = _raw(client, NASTY_BODIES[name])
    if response.status_code == 200:  # some are legitimately readable (NUL escape, BOM, ...)
        assert response.get_json()["model"] == "v1"
    else:
        _error_valid(document, response)
    assert client.get("/healthz").status_code == 200


def test_a_10_mb_body_is_a_413_and_the_app_stays_up(fuzz_app, document):
    client = fuzz_app.test_client()
    body = json.dumps({"headline": "x" * (10 * 1024 * 1024)}).encode()
    error = _error_valid(document, _raw(client, body))
    assert error["status"] == 413
    assert client.post("/v1/predict", json={"headline": "Tariffs rise"}).status_code == 200


def test_100000_headlines_are_refused_by_the_limit_not_processed(fuzz_app, document):
    limit = fuzz_app.extensions[EXTENSION].settings
    client = fuzz_app.test_client()
    headlines = [f"Headline number {i}" for i in range(100_000)]
    body = json.dumps({"headlines": headlines}).encode()
    if len(body) > limit.max_body_bytes:
        assert _error_valid(document, _raw(client, body))["status"] == 413
    # under the byte limit, the item limit must still say no (short headlines fit 100,000 in ~700 KB)
    short = json.dumps({"headlines": ["a"] * 100_000}).encode()
    assert len(short) < limit.max_body_bytes
    error = _error_valid(document, _raw(client, short))
    assert error["status"] == 400 and str(limit.max_headlines) in error["message"]


UNUSUAL_HEADLINES = [
    "🚨🌍 Trade war escalates 📉🇺🇸🇨🇳",
    "👨‍👩‍👧‍👦" * 50,
    "الرئيس يعلن رسوما جمركية جديدة على الواردات",
    "בריאות הציבור: התפרצות חצבת בעיר",
    "\u202eedart no sffirat\u202c mixed \u200f RTL override",
    "<script>alert('x')</script> Tariffs rise",
    '"><img src=x onerror=alert(1)> Vaccine approved',
    "{{7*7}} ${jndi:ldap://127.0.0.1/a} '; DROP TABLE headlines; --",
    "Zalgo t̸̡̛e̷̢͝x̴̧̛t̵̨̛ headline",
    "\u0000 NUL inside a headline \u0000",
    "tab\tand\nnewline\rand\x0bvertical",
]


def test_unusual_headlines_are_classified_and_come_back_as_data(fuzz_app, document):
    """Emoji, RTL, markup and control characters are text: classified, returned as JSON."""
    client = fuzz_app.test_client()
    response = client.post("/v1/predict", json={"headlines": UNUSUAL_HEADLINES})
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/json"
    schema = {
        "$ref": "#/components/schemas/PredictManyResponse",
        "components": document["components"],
    }
    Draft202012Validator(schema).validate(response.get_json())
    assert len(response.get_json()["predictions"]) == len(UNUSUAL_HEADLINES)
    raw = response.get_data(as_text=True)
    assert "<script>" not in raw and "<img" not in raw  # never reflected as markup
    for headline in UNUSUAL_HEADLINES:
        one = client.post("/v1/predict", json={"headline": headline})
        assert one.status_code == 200, (headline, one.data[:300])


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer " + "A" * 100_000},
        {"Authorization": "Bearer \x00" + TOKEN},
        {"Authorization": "Bearer " + TOKEN[:-1]},
        {"Authorization": "Basic " + TOKEN},
        {"Authorization": "Bearer " + TOKEN + "\u00e9"},
        {"X-Model-Version": "../../etc/passwd"},
    ],
)
def test_admin_refuses_odd_tokens_without_a_5xx(fuzz_app, document, headers):
    client = fuzz_app.test_client()
    try:
        response = client.post("/v1/admin/reload", headers=headers)
    except ValueError:  # werkzeug refuses to *send* some header values: nothing reached the app
        return
    assert _error_valid(document, response)["status"] == 401
