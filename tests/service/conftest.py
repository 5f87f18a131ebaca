"""Fixtures of the service tests, as in Flask's tutorial: ``app``, ``client`` and ``runner``.

``app`` serves a private copy of a two-version store (v1 current, v2 ready to promote) trained
once per session with the fast fake embedder, with the admin endpoint on and CURRENT looked at on
every request, so a test may promote and break versions. ``real_app`` serves a copy of the
shipped model with the encoder it was trained on, once per session.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifier.service import create_app
from classifier.service.state import EXTENSION
from classifier.topics.store import ModelStore
from classifier.topics.training import train_model
from tests.conftest import ROOT, FakeEmbedder, clear_settings_env
from tests.service.browser import REAL_EVALUATION, chrome_driver
from tests.service.support import ROWS, TOKEN, live_server, make_app, train_version


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """The developer's own HEADLINE_TOPICS_* variables must not leak into these tests."""
    clear_settings_env(monkeypatch, "PROMETHEUS_MULTIPROC_DIR")


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
def shipped_store(tmp_path_factory) -> Path:
    """A private copy of the shipped model, so retraining in models/ cannot disturb the tests."""
    root = tmp_path_factory.mktemp("shipped") / "models"
    version = ModelStore(ROOT / "models").current_version()
    shutil.copytree(ROOT / "models" / version, root / version)
    ModelStore(root).promote(version)
    return root


@pytest.fixture(scope="session")
def real_app(shipped_store):
    # the encoder the shipped model was trained on (onnx-int8), from the session's export cache
    app = create_app({"MODELS_DIR": shipped_store, "TESTING": True})
    yield app
    app.extensions[EXTENSION].batcher.close()


# -- the page in a real browser (test_service_browser, test_service_page_files) -------------------


@pytest.fixture(scope="module")
def page_store(tmp_path_factory) -> Path:
    """A one-version store trained with the fast fake embedder (never touches ./models)."""
    root = tmp_path_factory.mktemp("web") / "models"
    rows = ROWS[::20]
    texts = [r["headline"] for r in rows]
    labels = [r["topic"] for r in rows]
    model, manifest = train_model(texts, labels, FakeEmbedder(), source="test")
    manifest.update(version="v1", evaluation=REAL_EVALUATION)
    ModelStore(root).save(model, manifest, promote=True)
    return root


@pytest.fixture(scope="module")
def page_app(page_store):
    app = create_app({"MODELS_DIR": page_store, "EMBEDDER": FakeEmbedder(), "TESTING": True})
    yield app
    app.extensions[EXTENSION].batcher.close()


@pytest.fixture
def page_client(page_app):
    """A test client of the very app the browser talks to, to compare against."""
    return page_app.test_client()


@pytest.fixture(scope="module")
def live_url(page_app):
    with live_server(page_app) as url:
        yield url


@pytest.fixture
def browser(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chrome_driver(downloads, tmp_path / "profile")
    driver.downloads = downloads
    yield driver
    driver.quit()
