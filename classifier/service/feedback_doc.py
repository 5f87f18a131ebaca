"""The feedback endpoints in /openapi.json: their paths and schemas (:mod:`.feedback`).

Kept beside the blueprint rather than in :mod:`.openapi`, which calls :func:`paths` and
:func:`components` with its own helpers for response objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from classifier.feedback.export import COLUMNS, MEDIA_TYPES
from classifier.service.feedback import LABELLER_HEADER, Topics
from classifier.service.fields import Body, ref

Json = Callable[[dict[str, Any], str], dict[str, Any]]
Errors = Callable[..., dict[str, Any]]


def paths(json_: Json, errors: Errors) -> dict[str, Any]:
    """The three paths, always listed: without a labeller token they answer 403."""
    security = [{"labellerToken": []}]
    labeller = {
        "name": LABELLER_HEADER,
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "who corrects, when the body has no 'labeller'",
    }
    export_content = {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES.values()}
    return {
        "/v1/feedback": {
            "post": {
                "summary": "Store a person's correction of a headline's topics",
                "security": security,
                "parameters": [labeller],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("FeedbackRequest")}},
                },
                "responses": {
                    "201": json_(ref("FeedbackStored"), "stored and committed"),
                    **errors(400, 401, 403, 413, 415, 503),
                },
            },
            "get": {
                "summary": "Export the corrections (newest per headline, or the whole history)",
                "security": security,
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"enum": list(MEDIA_TYPES)},
                        "description": "default: from the Accept header, else jsonl",
                    },
                    {
                        "name": "history",
                        "in": "query",
                        "schema": {"enum": ["true", "false", "1", "0"]},
                        "description": "every correction, not only the newest per headline",
                    },
                ],
                "responses": {
                    "200": {
                        "description": (
                            f"one row per correction, columns {', '.join(COLUMNS)}; headers "
                            "X-Feedback-Count and X-Feedback-Untrained"
                        ),
                        "content": export_content,
                    },
                    **errors(400, 401, 403, 503),
                },
            },
        },
        "/v1/feedback/summary": {
            "get": {
                "summary": "How many corrections there are, and how many are not trained on yet",
                "security": security,
                "responses": {
                    "200": json_(ref("FeedbackSummary"), "the counts"),
                    **errors(401, 403, 503),
                },
            }
        },
    }


def components(labels: list[str], body: Body) -> dict[str, dict[str, Any]]:
    request = body.schema()
    request["properties"]["topics"] = Topics().schema(labels)
    topics = {"type": "array", "items": {"type": "string"}}
    text = {"type": ["string", "null"]}
    count = {"type": "integer", "minimum": 0}
    correction = {
        "id": {"type": "integer", "minimum": 1},
        "created": {"type": "string", "description": "UTC, ISO 8601"},
        "headline": {"type": "string"},
        "topics": topics,
        "note": text,
        "labeller": text,
        "model": {**text, "description": "the version answering when the correction was made"},
        "model_topics": {
            "type": ["array", "null"],
            "items": {"type": "string"},
            "description": "what that model said the topics were",
        },
    }
    return {
        "FeedbackRequest": request,
        "FeedbackStored": {
            "type": "object",
            "required": [*correction, "replaces", "untrained"],
            "additionalProperties": False,
            "properties": {
                **correction,
                "replaces": {
                    "type": ["integer", "null"],
                    "description": "the earlier correction of this headline, kept in the history",
                },
                "untrained": {**count, "description": "corrected headlines not yet trained on"},
            },
        },
        "FeedbackSummary": {
            "type": "object",
            "required": ["corrections", "headlines", "untrained", "model", "trained_through"],
            "additionalProperties": False,
            "properties": {
                "corrections": count,
                "headlines": count,
                "newest_id": {"type": ["integer", "null"]},
                "newest": text,
                "untrained": count,
                "model": {"type": ["string", "null"]},
                "trained_through": {
                    "type": ["integer", "null"],
                    "description": "newest correction id the answering model was trained on",
                },
            },
        },
    }
