"""POST /v1/predict: topics for one headline or many, from one model version per request."""

from __future__ import annotations

import concurrent.futures

from flask import Blueprint, Response, jsonify, request

from classifier.config import EXPLAIN_MAX_HEADLINES
from classifier.errors import InputError
from classifier.service.batcher import BatcherClosed
from classifier.service.errors import ApiError
from classifier.service.fields import invalid
from classifier.service.state import state
from classifier.service.validation import json_body
from classifier.topics.explain import explain

bp = Blueprint("predict", __name__)

ENCODE_TIMEOUT_S = 120.0


def encode(texts: list[str], model=None):
    """Embeddings (or, given a model, its probabilities) from the shared micro-batcher, with a
    503 instead of an endless wait."""
    batcher = state().batcher
    try:
        if model is None:
            return batcher.encode(texts, timeout=ENCODE_TIMEOUT_S)
        return batcher.predict_proba(texts, model, timeout=ENCODE_TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        raise ApiError(
            503, "overloaded", f"the encoder did not answer within {ENCODE_TIMEOUT_S:.0f}s"
        ) from None
    except BatcherClosed:
        raise ApiError(503, "shutting_down", "the service is shutting down") from None


@bp.post("/v1/predict")
def predict() -> Response:
    svc = state()
    fields = svc.bodies.predict.check(json_body(request))
    single = "headline" in fields
    texts = [fields["headline"]] if single else fields["headlines"]
    bar = fields.get("uncertain_below", svc.settings.uncertain_below)
    if not 0 <= bar <= 1:
        raise invalid(f"'uncertain_below' must be from 0 to 1, not {bar}", "uncertain_below")
    explaining = fields.get("explain", False)
    if explaining and len(texts) > EXPLAIN_MAX_HEADLINES:
        raise invalid(
            f"'explain' takes at most {EXPLAIN_MAX_HEADLINES} headlines per request, not "
            f"{len(texts)}: send the ones to explain on their own",
            "explain",
        )
    model = svc.holder.get()  # this one object answers the whole request
    try:
        predictions = model.describe(encode(texts, model), uncertain_below=bar)
        # outside the batched scoring, but its encodings go through the batcher too
        explanations = explain(model, texts, encode=encode) if explaining else None
    except InputError as exc:  # already checked above; kept so nothing becomes a 500
        raise ApiError(400, "invalid_input", str(exc)) from None
    svc.metrics.count_predictions((p.topic for p in predictions), model.version)
    rows = []
    for i, prediction in enumerate(predictions):
        row = prediction.to_dict()
        row.pop("model", None)
        if explanations is not None:
            row["explanation"] = explanations[i].to_dict()
        rows.append(row)
    body = (
        {"model": model.version, **rows[0]}
        if single
        else {
            "model": model.version,
            "predictions": rows,
        }
    )
    response = jsonify(body)
    response.headers["X-Model-Version"] = model.version or ""
    return response
