"""GET /openapi.json: exactly the routes there are, schemas real responses pass, and request
schemas that accept exactly what the endpoints accept (both come from one declaration).
"""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from classifier.clustering.levels import LEVELS
from classifier.encoders import BACKENDS
from tests.service.support import SAMPLE, TOKEN, make_app, post, validator


def request_validator(client, path: str) -> Draft202012Validator:
    """The document's schema of the body ``path`` takes, ready to check bodies with."""
    document = client.get("/openapi.json").get_json()
    content = document["paths"][path]["post"]["requestBody"]["content"]
    schema = {**content["application/json"]["schema"], "components": document["components"]}
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
    schema_ok = request_validator(client, "/v1/predict").is_valid(body)
    status = post(client, body).status_code
    assert status in (200, 400)
    assert (status == 200) == schema_ok


CLUSTER_BODIES = [
    {"headlines": ["Senate passes farm bill", "House passes farm bill"]},
    {"headlines": ["a b", "c d", "e f"], "level": "themes", "n_clusters": 2},
    {"headlines": ["a b", "c d"], "level": "stories", "distance_threshold": 0.5},
    {"headlines": ["a b", "c d"], "min_cluster_size": 2, "n_clusters": None},
    {"headlines": ["a b", "c d"], "distance_threshold": 5},
    {"headlines": ["a b", "c d"], "distance_threshold": 0},
    {"headlines": ["a b", "c d"], "n_clusters": 0},
    {"headlines": ["a b", "c d"], "min_cluster_size": 0},
    {"headlines": ["a b", "c d"], "n_clusters": 2.5},
    {"headlines": ["a b", "c d"], "level": "topics"},
    {"headlines": ["a b", "c d"], "level": None},
    {"headlines": ["a b"]},
    {"headlines": ["a b"] * 6},
    {"headlines": ["a b", "x" * 301]},
    {"headlines": ["a b", " "]},
    {"headlines": ["a b", "c d"], "texts": []},
    {"level": "stories"},
    [],
]


@pytest.mark.parametrize("body", CLUSTER_BODIES)
def test_openapi_cluster_schema_accepts_what_the_service_accepts(models_dir, body):
    app = make_app(models_dir, max_headline_chars=300, max_cluster_headlines=5)
    client = app.test_client()
    schema_ok = request_validator(client, "/v1/cluster").is_valid(body)
    response = client.post("/v1/cluster", json=body)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert (response.status_code == 200) == schema_ok, response.get_data(as_text=True)


def test_openapi_lists_the_backends_and_levels_from_their_one_home(client):
    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    embedding = schemas["ModelInfo"]["properties"]["embedding"]["properties"]
    encoder = schemas["ModelInfo"]["properties"]["service"]["properties"]["encoder"]["properties"]
    assert embedding["backend"]["enum"] == encoder["backend"]["enum"] == list(BACKENDS)
    assert schemas["ClusterRequest"]["properties"]["level"]["enum"] == list(LEVELS)
    assert schemas["ClusterResponse"]["properties"]["level"]["enum"] == list(LEVELS)
