"""POST /v1/cluster: the wiring to the clustering function, bad input, and the real module."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from tests.service.support import assert_json_error, make_app, validator


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
    "body, message, field",
    [
        ({"headlines": ["one"]}, "send at least 2 headlines", "headlines"),
        ({"headlines": ["a"] * 6}, "too many headlines: 6 sent, at most 5", "headlines"),
        ({"headlines": ["a", " "]}, "'headlines[1]' is empty", "headlines[1]"),
        (
            {"headlines": CLUSTER_TEXTS, "level": "topics"},
            "'level' must be one of 'stories'",
            "level",
        ),
        ({"headlines": CLUSTER_TEXTS, "level": 3}, "not number", "level"),
        (
            {"headlines": CLUSTER_TEXTS, "n_clusters": 2.5},
            "'n_clusters' must be a whole number",
            "n_clusters",
        ),
        ({"headlines": CLUSTER_TEXTS, "n_clusters": True}, "not boolean", "n_clusters"),
        (
            {"headlines": CLUSTER_TEXTS, "distance_threshold": "0.4"},
            "must be a number",
            "distance_threshold",
        ),
        ({"texts": CLUSTER_TEXTS}, "unknown field(s) 'texts'", "texts"),
        ({"level": "stories"}, "missing field: 'headlines'", "headlines"),
        # what the CLI refuses is refused here too, by the same rules (issue 19)
        (
            {"headlines": CLUSTER_TEXTS, "level": "themes", "distance_threshold": 0.4},
            "distance_threshold applies to level stories only",
            "distance_threshold",
        ),
        (
            {"headlines": CLUSTER_TEXTS, "n_clusters": 2},
            "n_clusters applies to level themes only",
            "n_clusters",
        ),
        (
            {"headlines": CLUSTER_TEXTS, "level": "themes", "n_clusters": 1_000_000_000},
            "n_clusters must be at most max_clusters (50); got 1000000000",
            "n_clusters",
        ),
        (
            {"headlines": CLUSTER_TEXTS, "level": "themes", "n_clusters": 0},
            "n_clusters must be a positive integer or None; got 0",
            "n_clusters",
        ),
        (
            {"headlines": CLUSTER_TEXTS, "min_cluster_size": 0},
            "min_cluster_size must be a positive integer",
            "min_cluster_size",
        ),
    ],
)
def test_cluster_refuses_bad_input(models_dir, fake_cluster_module, body, message, field):
    client = make_app(models_dir, max_cluster_headlines=5).test_client()
    error = assert_json_error(client.post("/v1/cluster", json=body), 400, message)
    assert error.get("field") == field
    assert fake_cluster_module == []


def test_a_5000_digit_n_clusters_is_refused_by_field(models_dir, fake_cluster_module):
    client = make_app(models_dir).test_client()
    data = b'{"headlines": ["a", "b"], "level": "themes", "n_clusters": ' + b"1" * 5000 + b"}"
    response = client.post("/v1/cluster", data=data, content_type="application/json")
    error = assert_json_error(response, 400, "'n_clusters' is a number of 5000 digits")
    assert error["field"] == "n_clusters" and "sys." not in error["message"]
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
    error = assert_json_error(
        client.post("/v1/cluster", json={"headlines": headlines, "distance_threshold": 5}),
        400,
        "distance_threshold must be between 0 and 2",
    )
    assert error["field"] == "distance_threshold"


@pytest.mark.parametrize("level", ["themes", "sections"])
def test_cluster_levels_of_the_hierarchy_answer_with_every_level(app, client, level):
    pytest.importorskip("classifier.clustering.cluster")
    headlines = [f"{word} {n} headline about {word}" for word in ("farm", "flu") for n in "abcdef"]
    body = {"headlines": headlines, "level": level, "min_cluster_size": 2}
    response = client.post("/v1/cluster", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    document = client.get("/openapi.json").get_json()
    assert not list(validator(document, "ClusterResponse").iter_errors(answer))
    assert answer["level"] == level and list(answer["hierarchy"]) == [
        "sections",
        "themes",
        "stories",
    ]
    assert answer["hierarchy"][level]["labels"] == answer["labels"]
    level_enum = document["components"]["schemas"]["ClusterRequest"]["properties"]["level"]
    assert level_enum["enum"] == ["stories", "themes", "sections"]  # what the page offers


def test_cluster_route_is_absent_without_the_module(models_dir, monkeypatch):
    """Without classifier.clustering.cluster the service still starts, and /v1/cluster is a plain 404."""
    import classifier.service as service_package

    monkeypatch.setitem(sys.modules, "classifier.clustering.cluster", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "classifier.service.cluster", raising=False)
    monkeypatch.delattr(service_package, "cluster", raising=False)
    client = make_app(models_dir).test_client()
    assert_json_error(client.post("/v1/cluster", json={"headlines": ["a", "b"]}), 404)
    assert "/v1/cluster" not in client.get("/openapi.json").get_json()["paths"]
