"""GET /v1/reports: the HTML reports of one configured folder, and nothing else on the disk."""

from __future__ import annotations

import os

import pytest
from jsonschema import Draft202012Validator

from classifier.service.state import EXTENSION
from tests.service.support import assert_json_error, make_app

PAGE = "<!doctype html>\n<html><body><h1>Report</h1></body></html>\n"


@pytest.fixture
def reports(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "nyt-by-year.html").write_text(PAGE, encoding="utf-8")
    (folder / "b_2024.html").write_text(PAGE.replace("Report", "Another"), encoding="utf-8")
    (folder / "notes.txt").write_text("not a report", encoding="utf-8")
    (folder / ".hidden.html").write_text(PAGE, encoding="utf-8")
    (folder / "sub.html").mkdir()
    secret = tmp_path / "secret.html"
    secret.write_text("<p>outside the folder</p>", encoding="utf-8")
    os.symlink(secret, folder / "link.html")
    return folder


@pytest.fixture
def client(models_dir, reports):
    app = make_app(models_dir, reports_dir=reports)
    yield app.test_client()
    app.extensions[EXTENSION].batcher.close()


def test_the_listing_names_only_the_reports(client):
    response = client.get("/v1/reports")
    assert response.status_code == 200
    listed = response.get_json()["reports"]
    assert [r["name"] for r in listed] == ["b_2024.html", "nyt-by-year.html"]
    assert listed[1]["url"] == "/v1/reports/nyt-by-year.html"
    assert listed[1]["bytes"] == len(PAGE)


def test_a_report_is_served_as_html_with_a_policy_that_allows_no_script(client):
    response = client.get("/v1/reports/nyt-by-year.html")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.get_data(as_text=True) == PAGE
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name",
    [
        "missing.html",
        "notes.txt",
        ".hidden.html",
        "sub.html",  # a folder
        "link.html",  # a symlink, even to a file that looks like a report
        "..%2Fsecret.html",
        "%2E%2E%2Fsecret.html",
        "..",
        "a" * 200 + ".html",
        "nyt-by-year.html%00.txt",
    ],
)
def test_anything_but_a_report_in_the_folder_is_a_json_404(client, name):
    response = client.get(f"/v1/reports/{name}")
    assert_json_error(response, 404)
    assert "outside the folder" not in response.get_data(as_text=True)


def test_path_traversal_never_leaves_the_folder(client):
    for path in [
        "/v1/reports/../secret.html",
        "/v1/reports/%2e%2e/secret.html",
        "/v1/reports//etc/passwd",
    ]:
        response = client.get(path)
        assert response.status_code == 404
        assert "outside the folder" not in response.get_data(as_text=True)


def test_the_routes_are_off_without_a_folder_and_listed_in_openapi_with_one(models_dir, client):
    app = make_app(models_dir)
    try:
        plain = app.test_client()
        assert plain.get("/v1/reports").status_code == 404
        assert "/v1/reports" not in plain.get("/openapi.json").get_json()["paths"]
    finally:
        app.extensions[EXTENSION].batcher.close()
    document = client.get("/openapi.json").get_json()
    assert {"/v1/reports", "/v1/reports/{name}"} <= set(document["paths"])
    schema = document["paths"]["/v1/reports"]["get"]["responses"]["200"]["content"]
    Draft202012Validator(schema["application/json"]["schema"]).validate(
        client.get("/v1/reports").get_json()
    )


def test_a_reports_folder_that_does_not_exist_stops_the_service_at_start(models_dir, tmp_path):
    with pytest.raises(ValueError, match="HEADLINE_TOPICS_REPORTS_DIR .* is not a folder"):
        make_app(models_dir, reports_dir=tmp_path / "nope")
