"""The page at ``/``, served by the app itself: self-contained and wired to the public /v1 API."""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import ROOT
from tests.service.support import PAGE_HEADLINES

STATIC = ROOT / "classifier" / "service" / "static"


def test_root_serves_the_page_with_its_own_script_and_stylesheet(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    html = response.get_data(as_text=True)
    for name in os.listdir(STATIC):  # every script and the stylesheet, nothing else
        if name.endswith(".js"):
            assert f'<script src="/static/{name}" defer></script>' in html, name
    assert '<link rel="stylesheet" href="/static/app.css"' in html
    # every form control has a label (keyboard and screen-reader users need them)
    for control in re.findall(r'<(?:textarea|select|input)[^>]*id="([^"]+)"', html):
        assert f'for="{control}"' in html, control


MIMETYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


@pytest.mark.parametrize("name", sorted(os.listdir(STATIC)))
def test_static_files_are_served_as_they_are_on_disk(client, name):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.mimetype == MIMETYPES[os.path.splitext(name)[1]]
    assert response.data == (STATIC / name).read_bytes()


def test_unknown_static_file_is_a_json_404_not_a_traceback(client):
    response = client.get("/static/nope.js")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404
    response = client.get("/static/../__init__.py")
    assert response.status_code == 404


def test_page_loads_nothing_from_elsewhere_and_uses_only_the_v1_api():
    text = "\n".join((STATIC / n).read_text(encoding="utf-8") for n in os.listdir(STATIC))
    assert not re.search(r"https?://", text), "no CDN, no external fonts or scripts"
    assert "@import" not in text and "url(" not in text
    called = set(re.findall(r'api\("(?:GET|POST)", "([^"]+)"', text))
    assert called == {
        "/v1/predict",
        "/v1/cluster",
        "/v1/model",
        "/v1/feedback",
        "/v1/feedback/summary",
        "/openapi.json",  # clusters.js reads the cluster levels from it
    }


def test_api_still_answers_next_to_the_page(client):
    response = client.post("/v1/predict", json={"headlines": PAGE_HEADLINES[:2]})
    assert response.status_code == 200
    assert len(response.get_json()["predictions"]) == 2
