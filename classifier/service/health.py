"""GET /healthz (the process answers) and GET /readyz (a model is loaded and really predicts)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from classifier.service.holder import public_message
from classifier.service.state import state

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

PROBE_HEADLINE = "Readiness probe: parliament debates trade and health policy"
PROBE_TIMEOUT_S = 30.0


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready only if a prediction goes through the same path as real requests right now."""
    svc = state()
    try:
        model = svc.holder.get()
        proba = svc.batcher.predict_proba([PROBE_HEADLINE], model, timeout=PROBE_TIMEOUT_S)
        model.describe(proba)
    except Exception as exc:  # any failure means "do not send traffic here"
        logger.warning("readiness check failed: %s", exc)
        reason = f"{type(exc).__name__}: {public_message(exc, svc.holder.store.root)}"
        response = jsonify({"status": "not ready", "reason": reason})
        response.status_code = 503
        return response
    body = {"status": "ready", "model": model.version}
    if svc.holder.last_error:
        body["reload_error"] = svc.holder.last_error
    return jsonify(body)
