"""GET /openapi.json: the API as it is, with the limits and topic labels of this running service.

The document is built from the same settings the validators use and from the served model's
labels, and it lists the admin and cluster paths only when they are switched on, so it cannot
drift from what the endpoints accept; tests validate real responses against these schemas.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from classifier.service.state import state

bp = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.1.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    meaning = {
        400: "malformed JSON or invalid fields",
        401: "missing or wrong bearer token",
        404: "unknown route",
        405: "method not allowed",
        409: "the new model could not be loaded; the old one still serves",
        413: "request body over the size limit",
        415: "content type is not application/json",
        503: "the encoder is overloaded or the service is shutting down",
    }
    return {str(s): _json(_ref("Error"), meaning[s]) for s in statuses}


def schemas(labels: list[str], *, max_chars: int, max_items: int, max_cluster: int) -> dict:
    headline = {"type": "string", "minLength": 1, "maxLength": max_chars, "pattern": r"\S"}
    topic = {"type": "string", "enum": labels}
    scores = {
        "type": "object",
        "description": "calibrated probability of every topic; they sum to 1",
        "properties": {label: {"type": "number", "minimum": 0, "maximum": 1} for label in labels},
        "required": labels,
        "additionalProperties": False,
    }
    prediction_props = {
        "topic": {**topic, "description": "the most likely topic"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "scores": scores,
        "topics": {
            "type": "array",
            "items": topic,
            "minItems": 1,
            "description": "the top topic and every other topic over its threshold",
        },
    }
    version = {"type": "string", "description": "the model version that produced this answer"}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "additionalProperties": False,
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["status", "code", "message"],
                    "additionalProperties": False,
                    "properties": {
                        "status": {"type": "integer", "minimum": 400, "maximum": 599},
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "field": {"type": "string", "description": "the offending field"},
                    },
                }
            },
        },
        "Prediction": {
            "type": "object",
            "required": list(prediction_props),
            "additionalProperties": False,
            "properties": prediction_props,
        },
        "PredictOne": {
            "type": "object",
            "required": ["headline"],
            "additionalProperties": False,
            "properties": {"headline": headline},
        },
        "PredictMany": {
            "type": "object",
            "required": ["headlines"],
            "additionalProperties": False,
            "properties": {
                "headlines": {
                    "type": "array",
                    "items": headline,
                    "minItems": 1,
                    "maxItems": max_items,
                }
            },
        },
        "PredictOneResponse": {
            "type": "object",
            "required": ["model", *prediction_props],
            "additionalProperties": False,
            "properties": {"model": version, **prediction_props},
        },
        "PredictManyResponse": {
            "type": "object",
            "required": ["model", "predictions"],
            "additionalProperties": False,
            "properties": {
                "model": version,
                "predictions": {
                    "type": "array",
                    "items": _ref("Prediction"),
                    "description": "one per headline, in the order sent",
                },
            },
        },
        "ModelInfo": {
            "type": "object",
            "description": "the model's manifest plus how this service holds it",
            "required": ["version", "labels", "thresholds", "metrics", "embedding", "service"],
            "properties": {
                "version": {"type": "string"},
                "created": {"type": "string"},
                "labels": {"type": "array", "items": {"type": "string"}},
                "thresholds": {"type": "object", "additionalProperties": {"type": "number"}},
                "metrics": {"type": "object"},
                "embedding": {
                    "type": "object",
                    "required": ["name", "fingerprint", "dimension"],
                    "properties": {
                        "name": {"type": "string"},
                        "fingerprint": {"type": "string"},
                        "dimension": {"type": "integer"},
                        "backend": {"enum": ["torch", "onnx", "onnx-int8"]},
                        "source_fingerprint": {"type": "string"},
                        "path": {"type": ["string", "null"]},
                    },
                },
                "data": {"type": "object"},
                "service": {
                    "type": "object",
                    "required": ["loaded_at", "pinned", "current_on_disk", "reload_error"],
                    "properties": {
                        "loaded_at": {"type": ["string", "null"]},
                        "pinned": {"type": "boolean"},
                        "current_on_disk": {"type": ["string", "null"]},
                        "reload_error": {"type": ["string", "null"]},
                        "reload_check_ms": {"type": "integer"},
                        "encoder": {
                            "type": "object",
                            "description": "the encoder answering (its backend may differ from "
                            "the one the head was trained on)",
                            "required": ["name", "backend", "fingerprint"],
                            "properties": {
                                "name": {"type": "string"},
                                "backend": {"enum": ["torch", "onnx", "onnx-int8"]},
                                "fingerprint": {"type": "string"},
                                "threads": {"type": ["integer", "null"]},
                            },
                        },
                    },
                },
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "additionalProperties": False,
            "properties": {"status": {"const": "ok"}},
        },
        "Ready": {
            "type": "object",
            "required": ["status", "model"],
            "additionalProperties": False,
            "properties": {
                "status": {"const": "ready"},
                "model": {"type": "string"},
                "reload_error": {"type": "string"},
            },
        },
        "NotReady": {
            "type": "object",
            "required": ["status", "reason"],
            "additionalProperties": False,
            "properties": {"status": {"const": "not ready"}, "reason": {"type": "string"}},
        },
        "Reload": {
            "type": "object",
            "required": ["previous", "version", "changed"],
            "additionalProperties": False,
            "properties": {
                "previous": {"type": ["string", "null"]},
                "version": {"type": ["string", "null"]},
                "changed": {"type": "boolean"},
            },
        },
        "ClusterRequest": {
            "type": "object",
            "required": ["headlines"],
            "additionalProperties": False,
            "properties": {
                "headlines": {
                    "type": "array",
                    "items": headline,
                    "minItems": 2,
                    "maxItems": max_cluster,
                },
                "level": {
                    "enum": ["stories", "themes"],
                    "default": "stories",
                    "description": "stories: the same event; themes: the same broad subject",
                },
                "distance_threshold": {
                    "type": ["number", "null"],
                    "exclusiveMinimum": 0,
                    "exclusiveMaximum": 2,
                    "description": "stories: largest average cosine distance inside a story",
                },
                "n_clusters": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "themes: this many themes instead of reading the eigengap",
                },
                "min_cluster_size": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "smaller groups are left unclustered",
                },
            },
        },
        "ClusterResponse": {
            "type": "object",
            "required": [
                "level",
                "model",
                "n_headlines",
                "n_clusters",
                "n_unclustered",
                "clusters",
                "labels",
            ],
            "properties": {
                "level": {"enum": ["stories", "themes"]},
                "model": version,
                "n_headlines": {"type": "integer"},
                "n_clusters": {"type": "integer"},
                "n_unclustered": {"type": "integer"},
                "sampled": {"type": "boolean"},
                "clusters": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "size", "keywords", "representative_headlines"],
                        "properties": {
                            "id": {"type": "integer", "minimum": 0},
                            "size": {"type": "integer", "minimum": 1},
                            "keywords": {"type": "array", "items": {"type": "string"}},
                            "representative_headlines": {
                                "type": "array",
                                "items": {"type": "string"},
                            },
                            "top_topic": {"type": ["string", "null"]},
                            "topic_shares": {
                                "type": "object",
                                "additionalProperties": {"type": "number"},
                            },
                        },
                    },
                },
                "labels": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": -1},
                    "description": "cluster id of each headline in the order sent; -1: none",
                },
                "params": {"type": "object"},
            },
        },
    }


def build_document() -> dict[str, Any]:
    svc = state()
    settings = svc.settings
    model = svc.holder.get()
    rules = {rule.rule for rule in current_app.url_map.iter_rules()}
    paths: dict[str, Any] = {
        "/v1/predict": {
            "post": {
                "summary": "Topics of one headline or of many",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"oneOf": [_ref("PredictOne"), _ref("PredictMany")]}
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        {"oneOf": [_ref("PredictOneResponse"), _ref("PredictManyResponse")]},
                        "one prediction (for 'headline') or a list (for 'headlines')",
                    ),
                    **_errors(400, 413, 415, 503),
                },
            }
        },
        "/v1/model": {
            "get": {
                "summary": "The manifest of the model being served",
                "responses": {"200": _json(_ref("ModelInfo"), "the model's manifest")},
            }
        },
        "/healthz": {
            "get": {
                "summary": "The process is up",
                "responses": {"200": _json(_ref("Health"), "up")},
            }
        },
        "/readyz": {
            "get": {
                "summary": "A model is loaded and a prediction goes through",
                "responses": {
                    "200": _json(_ref("Ready"), "ready for traffic"),
                    "503": _json(_ref("NotReady"), "do not send traffic here"),
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
                    "content": {"application/json": {"schema": _ref("ClusterRequest")}},
                },
                "responses": {
                    "200": _json(_ref("ClusterResponse"), "the groups"),
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
                    "200": _json(_ref("Reload"), "what changed"),
                    **_errors(401, 409),
                },
            }
        }
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
            "schemas": schemas(
                model.labels,
                max_chars=settings.max_headline_chars,
                max_items=settings.max_headlines,
                max_cluster=settings.max_cluster_headlines,
            )
        },
    }
    if "/v1/admin/reload" in rules:
        document["components"]["securitySchemes"] = {
            "adminToken": {"type": "http", "scheme": "bearer"}
        }
    return document


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_document())
