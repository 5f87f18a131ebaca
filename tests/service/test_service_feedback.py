"""POST/GET /v1/feedback: corrections need the labeller token, are checked like every request,
stored with what the model said, exported as CSV or JSONL, and counted until trained on."""

from __future__ import annotations

import csv
import io
import json

import pytest

from classifier.feedback.store import FeedbackStore
from classifier.service.state import EXTENSION
from tests.service.support import TOKEN, assert_json_error, make_app, svc, validator

LABEL_TOKEN = "test-label-token-fedcba9876543210"
AUTH = {"Authorization": f"Bearer {LABEL_TOKEN}"}
HEADLINE = "Senate passes a bill on steel tariffs"


@pytest.fixture
def feedback_app(models_dir):
    app = make_app(models_dir, label_token=LABEL_TOKEN, admin_token=TOKEN, reload_check_ms=0)
    yield app
    app.extensions[EXTENSION].batcher.close()


@pytest.fixture
def fclient(feedback_app):
    return feedback_app.test_client()


def correct(client, body, headers=AUTH):
    return client.post("/v1/feedback", json=body, headers=headers)


def test_a_correction_is_stored_with_the_model_and_its_answer(fclient, feedback_app, models_dir):
    response = correct(fclient, {"headline": HEADLINE, "topics": ["trade"], "note": "tariffs"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    model = svc(feedback_app).holder.get()
    expected = model.predict(HEADLINE).topics
    assert body["model"] == model.version and body["model_topics"] == expected
    assert body["topics"] == ["trade"] and body["note"] == "tariffs"
    assert body["replaces"] is None and body["untrained"] == 1
    stored = FeedbackStore(models_dir / "feedback.sqlite3").latest()
    assert [c.to_dict() for c in stored] == [
        {k: v for k, v in body.items() if k not in ("replaces", "untrained")}
    ]


def test_the_labeller_comes_from_the_body_else_the_header(fclient):
    named = correct(fclient, {"headline": "a b", "topics": ["trade"], "labeller": "ana"})
    header = correct(
        fclient, {"headline": "c d", "topics": ["trade"]}, {**AUTH, "X-Labeller": "bo"}
    )
    nobody = correct(fclient, {"headline": "e f", "topics": ["trade"]})
    assert [r.get_json()["labeller"] for r in (named, header, nobody)] == ["ana", "bo", None]


def test_the_same_headline_twice_keeps_the_latest_and_the_history(fclient):
    first = correct(fclient, {"headline": HEADLINE, "topics": ["trade"]}).get_json()
    second = correct(
        fclient,
        {
            "headline": "  SENATE passes a bill on steel   tariffs",
            "topics": ["trade", "geopolitics"],
        },
    ).get_json()
    assert second["replaces"] == first["id"] and second["untrained"] == 1
    latest = fclient.get("/v1/feedback?format=jsonl", headers=AUTH)
    rows = [json.loads(line) for line in latest.get_data(as_text=True).splitlines()]
    assert [r["id"] for r in rows] == [second["id"]] and rows[0]["topics"] == [
        "trade",
        "geopolitics",
    ]
    history = fclient.get("/v1/feedback?format=jsonl&history=true", headers=AUTH)
    assert [json.loads(line)["id"] for line in history.get_data(as_text=True).splitlines()] == [
        first["id"],
        second["id"],
    ]
    assert (
        history.headers["X-Feedback-Count"] == "2"
        and history.headers["X-Feedback-Untrained"] == "1"
    )


def test_export_as_csv_by_parameter_or_accept_header(fclient):
    correct(fclient, {"headline": "=cmd| tariffs", "topics": ["trade"], "note": 'a, "quoted" note'})
    by_param = fclient.get("/v1/feedback?format=csv", headers=AUTH)
    by_accept = fclient.get("/v1/feedback", headers={**AUTH, "Accept": "text/csv"})
    default = fclient.get("/v1/feedback", headers=AUTH)
    curl = fclient.get("/v1/feedback", headers={**AUTH, "Accept": "*/*"})
    preferred = fclient.get(
        "/v1/feedback", headers={**AUTH, "Accept": "text/csv;q=0.5, application/x-ndjson"}
    )
    assert curl.mimetype == preferred.mimetype == "application/x-ndjson"
    assert by_param.mimetype == by_accept.mimetype == "text/csv"
    assert by_param.get_data() == by_accept.get_data()
    assert default.mimetype == "application/x-ndjson"
    rows = list(csv.DictReader(io.StringIO(by_param.get_data(as_text=True))))
    assert rows[0]["headline"] == "'=cmd| tariffs"  # spreadsheet-safe, like every CSV we write
    assert rows[0]["topic"] == rows[0]["topics"] == "trade"
    assert rows[0]["note"] == 'a, "quoted" note'
    assert_json_error(fclient.get("/v1/feedback?format=xml", headers=AUTH), 400, "'format'")
    assert_json_error(fclient.get("/v1/feedback?history=maybe", headers=AUTH), 400, "'history'")


def test_an_empty_export_is_a_header_only_csv(fclient):
    response = fclient.get("/v1/feedback?format=csv", headers=AUTH)
    assert response.get_data(as_text=True).splitlines() == [
        "id,created,headline,topic,topics,note,labeller,model,model_topics"
    ]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"headline": HEADLINE, "topics": ["sport"]}, "topics[0]", "unknown topic 'sport'"),
        ({"headline": HEADLINE, "topics": []}, "topics", "non-empty"),
        ({"headline": HEADLINE, "topics": "trade"}, "topics", "array"),
        ({"headline": HEADLINE, "topics": ["trade", 3]}, "topics[1]", "unknown topic int"),
        ({"headline": HEADLINE, "topics": ["other", "trade"]}, "topics", "'other'"),
        ({"headline": HEADLINE, "topics": ["trade", "trade"]}, "topics", "repeated"),
        ({"headline": "   ", "topics": ["trade"]}, "headline", "empty"),
        ({"headline": "\u200b", "topics": ["trade"]}, "headline", "empty"),
        ({"headline": 5, "topics": ["trade"]}, "headline", "string"),
        ({"headline": "x" * 1001, "topics": ["trade"]}, "headline", "limit is 1000"),
        ({"headline": HEADLINE, "topics": ["trade"], "note": "n" * 2001}, "note", "limit is 2000"),
        ({"headline": HEADLINE, "topics": ["trade"], "note": 7}, "note", "string"),
        ({"headline": HEADLINE, "topics": ["trade"], "note": "\ud800"}, "note", "surrogate"),
        ({"headline": HEADLINE, "topics": ["trade"], "labeller": "l" * 101}, "labeller", "100"),
        ({"headline": HEADLINE}, "topics", "missing field"),
        ({"topics": ["trade"]}, "headline", "missing field"),
        ({"headline": HEADLINE, "topics": ["trade"], "topic": "x"}, "topic", "unknown field"),
    ],
)
def test_bad_corrections_get_the_apis_json_errors_and_store_nothing(
    fclient, models_dir, body, field, words
):
    error = assert_json_error(correct(fclient, body), 400, words)
    assert error["field"] == field
    assert FeedbackStore(models_dir / "feedback.sqlite3").history() == []


def test_bad_bodies_are_refused_before_the_fields(fclient):
    assert_json_error(
        fclient.post(
            "/v1/feedback", data="{", headers={**AUTH, "Content-Type": "application/json"}
        ),
        400,
    )
    assert_json_error(fclient.post("/v1/feedback", data="x", headers=AUTH), 415)
    assert_json_error(correct(fclient, ["a"]), 400, "JSON object")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {LABEL_TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}"},  # the admin token is not a labeller's
    ],
)
def test_a_missing_or_wrong_token_is_a_401(fclient, headers):
    body = {"headline": HEADLINE, "topics": ["trade"]}
    for response in (
        correct(fclient, body, headers),
        fclient.get("/v1/feedback", headers=headers),
        fclient.get("/v1/feedback/summary", headers=headers),
    ):
        assert_json_error(response, 401, "labeller token")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_admin_token_works_as_labeller_token_only_when_configured_equal(models_dir):
    app = make_app(models_dir, label_token=TOKEN, admin_token=TOKEN)
    response = app.test_client().post(
        "/v1/feedback",
        json={"headline": HEADLINE, "topics": ["trade"]},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 201
    app.extensions[EXTENSION].batcher.close()


def test_without_a_labeller_token_feedback_is_off_with_a_403(client, models_dir):
    for response in (
        client.post("/v1/feedback", json={"headline": HEADLINE, "topics": ["trade"]}),
        client.get("/v1/feedback", headers=AUTH),
        client.get("/v1/feedback/summary"),
    ):
        error = assert_json_error(response, 403, "HEADLINE_TOPICS_LABEL_TOKEN")
        assert error["code"] == "feedback_off"
    assert not (models_dir / "feedback.sqlite3").exists()


def test_the_summary_counts_what_the_model_has_not_been_trained_on(fclient, feedback_app):
    for i, headline in enumerate(["a b", "c d", "a  B"]):
        correct(fclient, {"headline": headline, "topics": ["trade" if i else "health"]})
    body = fclient.get("/v1/feedback/summary", headers=AUTH).get_json()
    assert body["corrections"] == 3 and body["headlines"] == 2 and body["untrained"] == 2
    assert body["trained_through"] is None and body["newest_id"] == 3
    model = svc(feedback_app).holder.get()
    model.manifest["corrections"] = {"feedback": {"newest_id": 2}}  # as if trained on ids 1-2
    body = fclient.get("/v1/feedback/summary", headers=AUTH).get_json()
    assert body["trained_through"] == 2 and body["untrained"] == 1  # "a  B" was corrected again


def test_a_store_that_cannot_be_written_refuses_with_a_503(fclient, feedback_app, monkeypatch):
    store, _ = feedback_app.extensions["headline_topics_feedback"]

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "add", full)
    error = assert_json_error(correct(fclient, {"headline": HEADLINE, "topics": ["trade"]}), 503)
    assert error["code"] == "feedback_unavailable"


def test_an_unusable_store_path_stops_the_service_at_start(models_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="FEEDBACK_DB"):
        make_app(models_dir, label_token=LABEL_TOKEN, feedback_db=blocker / "feedback.sqlite3")


def test_openapi_documents_the_feedback_endpoints_and_real_answers_pass(fclient):
    document = fclient.get("/openapi.json").get_json()
    assert {"post", "get"} <= set(document["paths"]["/v1/feedback"])
    assert "get" in document["paths"]["/v1/feedback/summary"]
    request = document["components"]["schemas"]["FeedbackRequest"]
    assert (
        request["properties"]["topics"]["items"]["enum"]
        == svc(fclient.application).holder.get().labels
    )
    stored = correct(fclient, {"headline": HEADLINE, "topics": ["trade"]})
    checks = [
        ("FeedbackStored", stored),
        ("FeedbackSummary", fclient.get("/v1/feedback/summary", headers=AUTH)),
        ("Error", correct(fclient, {"headline": HEADLINE, "topics": []})),
    ]
    for name, response in checks:
        errors = list(validator(document, name).iter_errors(response.get_json()))
        assert not errors, (name, [e.message for e in errors])


def test_the_labeller_token_is_shown_only_as_set_or_unset():
    from classifier.service.settings import Settings

    shown = dict(Settings.from_env({}, label_token=LABEL_TOKEN).in_force())
    assert shown["HEADLINE_TOPICS_LABEL_TOKEN"] == "set"
    assert LABEL_TOKEN not in repr(Settings.from_env({}, label_token=LABEL_TOKEN))
    assert dict(Settings.from_env({}).in_force())["HEADLINE_TOPICS_LABEL_TOKEN"] == "unset"
