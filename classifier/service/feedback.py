"""POST /v1/feedback, GET /v1/feedback, GET /v1/feedback/summary: people's corrections.

A labeller sends the right topics of a headline; the service stores them
(:mod:`classifier.feedback.store`) with the time, the labeller's name, and the version and topics
of the model answering now, worked out here so that a client cannot misreport them. The answer
is 201 only after the row is committed; a store that cannot take it gives a 503 and nothing is
stored. The endpoints need ``Authorization: Bearer <HEADLINE_TOPICS_LABEL_TOKEN>`` (the admin
token does not open them); with no labeller token set they answer 403 ``feedback_off``.

The labeller's name is what the caller says it is (the ``labeller`` field, else the
``X-Labeller`` header, else none): the token proves the caller may label, not who they are.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from classifier.errors import InputError
from classifier.feedback import store as feedback_store
from classifier.feedback.export import FORMATS, MEDIA_TYPES, export_lines
from classifier.service.admin import require_bearer
from classifier.service.errors import ApiError
from classifier.service.fields import Body, Headline, invalid, json_type
from classifier.service.predict import encode
from classifier.service.settings import PREFIX, Settings
from classifier.service.state import state
from classifier.service.validation import json_body
from classifier.text import is_clean_text
from classifier.topics.multi import NONE_LABEL

logger = logging.getLogger(__name__)

bp = Blueprint("feedback", __name__)
EXTENSION = "headline_topics_feedback"
LABELLER_HEADER = "X-Labeller"
ACCEPT = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}


# -- the request body --------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    """An optional string of valid Unicode of at most ``max_chars`` characters."""

    max_chars: int
    description: str
    noun = "a string"

    def check(self, value: object, name: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid(f"{name!r} must be a string, not {json_type(value)}", name)
        if len(value) > self.max_chars:
            raise invalid(
                f"{name!r} is {len(value)} characters long; the limit is {self.max_chars}", name
            )
        if not is_clean_text(value):
            raise invalid(
                f"{name!r} is not valid Unicode text (it contains a lone surrogate)", name
            )
        return value

    def schema(self) -> dict[str, Any]:
        return {
            "type": ["string", "null"],
            "maxLength": self.max_chars,
            "description": self.description,
        }


@dataclass(frozen=True)
class Topics:
    """A non-empty list of topic names; which names are topics is the model's to say."""

    noun = "an array of topics"

    def check(self, value: object, name: str) -> list[object]:
        if not isinstance(value, list):
            raise invalid(f"{name!r} must be an array of topics, not {json_type(value)}", name)
        return value

    def schema(self, labels: list[str] | None = None) -> dict[str, Any]:
        items: dict[str, Any] = {"type": "string"} if labels is None else {"enum": labels}
        return {
            "type": "array",
            "items": items,
            "minItems": 1,
            "maxItems": feedback_store.MAX_TOPICS,
            "uniqueItems": True,
            "description": (
                f"the headline's topics, primary first; {NONE_LABEL!r} (none of them) stands alone"
            ),
        }


def request_body(settings: Settings) -> Body:
    return Body(
        "FeedbackRequest",
        {
            "headline": Headline(settings.max_headline_chars),
            "topics": Topics(),
            "note": Text(feedback_store.MAX_NOTE_CHARS, "why, for whoever reads the corrections"),
            "labeller": Text(
                feedback_store.MAX_LABELLER_CHARS,
                f"who corrects (default: the {LABELLER_HEADER} header, else none)",
            ),
        },
        ("headline", "topics"),
        example='{"headline": "...", "topics": ["..."]}',
    )


# -- wiring ------------------------------------------------------------------------------------
def init_app(app: Flask, settings: Settings) -> None:
    """Register the endpoints; with a labeller token, open the store now so that a path that
    cannot be used stops the service at start, not at the first correction."""
    store = None
    if settings.label_token:
        path = settings.feedback_db or feedback_store.default_path(settings.models_dir)
        store = feedback_store.FeedbackStore(path)
        try:
            store.summary()
        except (OSError, sqlite3.Error) as exc:
            raise ValueError(f"{PREFIX}FEEDBACK_DB {path} cannot be used: {exc}") from exc
        logger.info("feedback on: corrections go to %s", path)
    app.extensions[EXTENSION] = (store, request_body(settings))
    app.register_blueprint(bp)


def _open() -> tuple[feedback_store.FeedbackStore, Body]:
    """The store and body declaration, after the on/off and token checks (403, 401)."""
    store, body = current_app.extensions[EXTENSION]
    if store is None:
        raise ApiError(
            403,
            "feedback_off",
            f"corrections are off on this service; set {PREFIX}LABEL_TOKEN to turn them on",
        )
    require_bearer(state().settings.label_token, "labeller")
    return store, body


def trained_through(manifest: dict[str, Any]) -> int | None:
    """The id of the newest store correction a model was trained on, from its manifest."""
    record = (manifest.get("corrections") or {}).get("feedback") or {}
    return record.get("newest_id")


def _unavailable(exc: Exception) -> ApiError:
    logger.error("feedback store: %s", exc)
    return ApiError(503, "feedback_unavailable", "the correction store cannot be used now; retry")


# -- the endpoints -----------------------------------------------------------------------------
@bp.post("/v1/feedback")
def add() -> Response:
    store, body = _open()
    fields = body.check(json_body(request))
    labeller = fields.get("labeller")
    if labeller is None and request.headers.get(LABELLER_HEADER, "").strip():
        labeller = body.fields["labeller"].check(
            request.headers[LABELLER_HEADER].strip(), "labeller"
        )
    model = state().holder.get()
    try:
        headline, topics = feedback_store.check_correction(
            fields["headline"],
            fields["topics"],
            labels=model.labels,
            none_label=NONE_LABEL if NONE_LABEL in model.labels else None,
        )
        answer = model.describe(encode([headline], model))[0]
    except feedback_store.CorrectionError as exc:
        raise invalid(str(exc), exc.field) from None
    except InputError as exc:  # already checked above; kept so nothing becomes a 500
        raise invalid(str(exc), "headline") from None
    try:
        stored, before = store.add(
            headline,
            topics,
            note=fields.get("note"),
            labeller=labeller,
            model=model.version,
            model_topics=answer.topics,
        )
        summary = store.summary(trained_through(model.manifest))
    except (OSError, sqlite3.Error) as exc:
        raise _unavailable(exc) from None
    out = {**stored.to_dict(), "replaces": None if before is None else before.id}
    response = jsonify({**out, "untrained": summary.untrained})
    response.status_code = 201
    response.headers["X-Model-Version"] = model.version or ""
    return response


def _format() -> str:
    fmt = request.args.get("format")
    if fmt is None:  # a type the Accept header names itself; "*/*" (curl's) means the default
        named = [(q, mime) for mime, q in request.accept_mimetypes if mime in ACCEPT and q > 0]
        return ACCEPT[max(named)[1]] if named else "jsonl"
    if fmt not in FORMATS:
        raise invalid(f"'format' must be one of {', '.join(FORMATS)}, not {fmt!r}", "format")
    return fmt


def _history() -> bool:
    raw = request.args.get("history", "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise invalid(f"'history' must be true or false, not {raw!r}", "history")
    return raw in ("true", "1")


@bp.get("/v1/feedback")
def export() -> Response:
    store, _ = _open()
    fmt, history = _format(), _history()
    model = state().holder.get()
    try:
        rows = store.history() if history else store.latest()
        summary = store.summary(trained_through(model.manifest))
    except (OSError, sqlite3.Error) as exc:
        raise _unavailable(exc) from None
    response = Response("".join(export_lines(rows, fmt)), mimetype=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="feedback.{fmt}"'
    response.headers["X-Feedback-Count"] = str(len(rows))
    response.headers["X-Feedback-Untrained"] = str(summary.untrained)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/v1/feedback/summary")
def summary() -> Response:
    store, _ = _open()
    model = state().holder.get()
    through = trained_through(model.manifest)
    try:
        counts = store.summary(through)
    except (OSError, sqlite3.Error) as exc:
        raise _unavailable(exc) from None
    return jsonify({**counts.to_dict(), "model": model.version, "trained_through": through})
