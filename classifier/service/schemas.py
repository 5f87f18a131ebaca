"""The schemas of /openapi.json: what every endpoint answers, and the request bodies it takes.

The request bodies come from their declarations (:mod:`classifier.service.bodies`), which also
check the requests; the backend and level lists come from their one home in the encoders and in
clustering; the topic labels are those of the model being served. Tests validate real responses
against these schemas.
"""

from __future__ import annotations

from typing import Any

from classifier.clustering.levels import LEVELS
from classifier.encoders import BACKENDS
from classifier.service.bodies import RequestBodies
from classifier.service.fields import ref


def components(
    labels: list[str], bodies: RequestBodies, zero_shot: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Every schema of the document, in the order it lists them; ``zero_shot`` names the topics
    the model scores from a description only (they can be listed and apply, never be the top)."""
    topic = {"type": "string", "enum": labels}
    cluster_ids = {
        "type": "array",
        "items": {"type": "integer", "minimum": -1},
        "description": "cluster id of each headline in the order sent; -1: none",
    }
    listed = labels + list(zero_shot or [])
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
            "items": {"type": "string", "enum": listed},
            "minItems": 1,
            "description": (
                "every topic the headline is about, primary first: the top topic and every "
                "other topic whose 'applies' probability clears its threshold; 'other' is "
                "never listed beside a real topic"
            ),
        },
        "applies": {
            "type": "object",
            "description": (
                "calibrated probability, per topic, that the headline is about it (several can "
                "be high; absent for models trained before this head existed)"
            ),
            "properties": {
                label: {"type": "number", "minimum": 0, "maximum": 1} for label in listed
            },
            "required": listed,
            "additionalProperties": False,
        },
        "uncertain": {
            "type": "boolean",
            "description": "confidence is under uncertain_below: a person should check it",
        },
        "explanation": ref("Explanation"),
        "zero_shot": {
            "type": "array",
            "items": {"type": "string", "enum": listed},
            "description": (
                "the model's zero-shot topics: known by a description only, scored by "
                "similarity, not trained on examples (present only when the model has some)"
            ),
        },
    }
    required = [
        name for name in prediction_props if name not in ("applies", "explanation", "zero_shot")
    ]
    version = {"type": "string", "description": "the model version that produced this answer"}
    backend = {"enum": list(BACKENDS)}
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
            "required": required,
            "additionalProperties": False,
            "properties": prediction_props,
        },
        "Explanation": explanation_schema(topic),
        **bodies.predict.components(),
        "PredictOneResponse": {
            "type": "object",
            "required": ["model", *required],
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
                    "items": ref("Prediction"),
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
                        "backend": backend,
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
                                "backend": backend,
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
        **bodies.cluster.components(),
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
                "level": {"enum": list(LEVELS)},
                "model": version,
                "n_headlines": {"type": "integer"},
                "n_clusters": {"type": "integer"},
                "n_unclustered": {"type": "integer"},
                "sampled": {"type": "boolean"},
                "clusters": {"type": "array", "items": ref("Cluster")},
                "labels": cluster_ids,
                "params": {"type": "object"},
                "hierarchy": {
                    "type": "object",
                    "description": "themes and sections: every level, broadest first, so that a "
                    "section opens into its themes and a theme into its stories",
                    "additionalProperties": False,
                    "properties": {
                        name: {
                            "type": "object",
                            "required": ["n_clusters", "n_unclustered", "clusters", "labels"],
                            "properties": {
                                "n_clusters": {"type": "integer"},
                                "n_unclustered": {"type": "integer"},
                                "clusters": {"type": "array", "items": ref("Cluster")},
                                "labels": cluster_ids,
                            },
                        }
                        for name in LEVELS
                    },
                },
            },
        },
        "Cluster": {
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
                "parent": {
                    "type": "integer",
                    "minimum": -1,
                    "description": "themes and stories of a hierarchy: the id of the section "
                    "(of a theme) or theme (of a story) holding this cluster; -1: none",
                },
            },
        },
    }


def explanation_schema(topic: dict[str, Any]) -> dict[str, Any]:
    """What ``explain: true`` adds to an answer (:mod:`classifier.topics.explain`)."""
    similarity = {"type": "number", "minimum": -1, "maximum": 1, "description": "cosine"}
    neighbour = {
        "type": "object",
        "required": ["headline", "topics", "similarity"],
        "additionalProperties": False,
        "properties": {
            "headline": {"type": "string"},
            "topics": {"type": "array", "items": topic, "minItems": 1},
            "similarity": similarity,
        },
    }
    word = {
        "type": "object",
        "required": ["word", "drop"],
        "additionalProperties": False,
        "properties": {
            "word": {"type": "string"},
            "drop": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 1,
                "description": "how far the top topic's probability falls without the word",
            },
        },
    }
    return {
        "type": "object",
        "description": "present when the request sent explain: true",
        "required": ["topic", "neighbours", "words"],
        "additionalProperties": False,
        "properties": {
            "topic": {**topic, "description": "the topic explained: the answer's top topic"},
            "neighbours": {
                "type": "array",
                "items": neighbour,
                "description": "the closest labelled training headlines, closest first",
            },
            "words": {
                "type": "array",
                "items": word,
                "description": "the headline's words that raised the top topic most, largest first",
            },
            "note": {
                "type": "string",
                "description": "why something is missing (a model saved without a neighbour index)",
            },
        },
    }
