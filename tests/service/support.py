"""Plain helpers of the service tests (fixtures live in conftest.py), also used by test_fuzz,
test_faults and test_gunicorn: the data, a model version trained with the fast fake embedder,
an app over a store, and checks of the error shape, the metrics and the OpenAPI schemas.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from jsonschema import Draft202012Validator
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.serving import make_server

from classifier.service import create_app
from classifier.service.state import EXTENSION
from classifier.topics.store import ModelStore
from tests.conftest import FakeEmbedder, load_project_data, save_model
from tests.support import free_port

TOKEN = "test-admin-token-0123456789abcdef"
ROWS = load_project_data()
LABELS = sorted({r["topic"] for r in ROWS})
SAMPLE = [r["headline"] for r in ROWS[5::97]][:40]
ERROR_SCHEMA_KEYS = {"status", "code", "message"}
# one headline per topic and per few rows, so every topic appears on the page
PAGE_HEADLINES = [r["headline"] for r in ROWS[3::211]][:24]


def train_version(store: ModelStore, rows, version: str, embedder, *, promote: bool) -> None:
    texts = [r["headline"] for r in rows]
    labels = [r["topic"] for r in rows]
    save_model(store, texts, labels, embedder, version=version, promote=promote)


def make_app(models_dir: Path, embedder=None, **settings):
    config = {
        "MODELS_DIR": models_dir,
        "EMBEDDER": embedder or FakeEmbedder(),
        "TESTING": True,
        **{k.upper(): v for k, v in settings.items()},
    }
    return create_app(config)


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


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    out = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def validator(document, name):
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return Draft202012Validator(schema)


@contextlib.contextmanager
def live_server(app) -> Iterator[str]:
    """``app`` on a real werkzeug server on 127.0.0.1 (a free port), for a browser: its URL."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
