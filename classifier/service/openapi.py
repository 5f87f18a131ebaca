"""GET /openapi.json: the API as it is, with the limits and topic labels of this running service.

The request schemas are the declarations the endpoints check requests with, the limits are this
app's settings and the labels its model's, and the admin and cluster paths are listed only when
they are switched on, so the document cannot drift from what the endpoints accept; tests
validate real responses against its schemas (:mod:`classifier.service.schemas`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from classifier.service import feedback, feedback_doc
from classifier.service.fields import ref
from classifier.service.schemas import components
from classifier.service.state import state

bp = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.1.0"


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    meaning = {
        400: "malformed JSON or invalid fields",
        401: "missing or wrong bearer token",
        403: "switched off on this service (no token configured)",
        404: "unknown route",
        405: "method not allowed",
        409: "the new model could not be loaded; the old one still serves",
        413: "request body over the size limit",
        415: "content type is not application/json",
        503: "the encoder or a store is unavailable, or the service is shutting down",
    }
    return {str(s): _json(ref("Error"), meaning[s]) for s in statuses}


def build_document() -> dict[str, Any]:
    svc = state()
    model = svc.holder.get()
    rules = {rule.rule for rule in current_app.url_map.iter_rules()}
    paths: dict[str, Any] = {
        "/v1/predict": {
            "post": {
                "summary": "Topics of one headline or of many",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": svc.bodies.predict.reference()}},
                },
                "responses": {
                    "200": _json(
                        {"oneOf": [ref("PredictOneResponse"), ref("PredictManyResponse")]},
                        "one prediction (for 'headline') or a list (for 'headlines')",
                    ),
                    **_errors(400, 413, 415, 503),
                },
            }
        },
        "/v1/model": {
            "get": {
                "summary": "The manifest of the model being served",
                "responses": {"200": _json(ref("ModelInfo"), "the model's manifest")},
            }
        },
        "/healthz": {
            "get": {
                "summary": "The process is up",
                "responses": {"200": _json(ref("Health"), "up")},
            }
        },
        "/readyz": {
            "get": {
                "summary": "A model is loaded and a prediction goes through",
                "responses": {
                    "200": _json(ref("Ready"), "ready for traffic"),
                    "503": _json(ref("NotReady"), "do not send traffic here"),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": _json({"type": "object"}, "the OpenAPI document"),
                },
            }
        },
    }
    if "/v1/cluster" in rules:
        paths["/v1/cluster"] = {
            "post": {
                "summary": "Group headlines into stories",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": svc.bodies.cluster.reference()}},
                },
                "responses": {
                    "200": _json(ref("ClusterResponse"), "the groups"),
                    **_errors(400, 413, 415, 503),
                },
            }
        }
    if "/v1/admin/reload" in rules:
        paths["/v1/admin/reload"] = {
            "post": {
                "summary": "Load the version CURRENT names now, in the worker that answers",
                "security": [{"adminToken": []}],
                "responses": {
                    "200": _json(ref("Reload"), "what changed"),
                    **_errors(401, 409),
                },
            }
        }
    if "/v1/reports" in rules:
        paths.update(report_paths())
    paths.update(feedback_doc.paths(_json, _errors))
    for item in paths.values():
        for operation in item.values():
            operation["responses"].update(_errors(405))
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "headline-topics",
            "version": "1",
            "description": "Tell what news headlines are about. Errors always have the Error shape.",
        },
        "paths": paths,
        "components": {
            "schemas": components(model.labels, svc.bodies, getattr(model, "zero_shot_labels", []))
        },
    }
    _, feedback_body = current_app.extensions[feedback.EXTENSION]
    document["components"]["schemas"].update(feedback_doc.components(model.labels, feedback_body))
    schemes = {"labellerToken": {"type": "http", "scheme": "bearer"}}
    if "/v1/admin/reload" in rules:
        schemes["adminToken"] = {"type": "http", "scheme": "bearer"}
    document["components"]["securitySchemes"] = schemes
    return document


def report_paths() -> dict[str, Any]:
    """GET /v1/reports and /v1/reports/{name}, when HEADLINE_TOPICS_REPORTS_DIR is set."""
    listing = {
        "type": "object",
        "required": ["reports"],
        "properties": {
            "reports": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "url", "bytes", "modified"],
                    "properties": {
                        "name": {"type": "string"},
                        "url": {"type": "string"},
                        "bytes": {"type": "integer"},
                        "modified": {"type": "string", "format": "date-time"},
                    },
                },
            }
        },
    }
    page = {"description": "the report", "content": {"text/html": {"schema": {"type": "string"}}}}
    name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/v1/reports": {
            "get": {
                "summary": "The HTML reports of the configured folder",
                "responses": {"200": _json(listing, "every report, by name")},
            }
        },
        "/v1/reports/{name}": {
            "get": {
                "summary": "One HTML report written by 'headline-topics report --html'",
                "parameters": [name],
                "responses": {"200": page, **_errors(404)},
            }
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_document())
