"""GET /metrics: the Prometheus text of this app's metrics (:mod:`classifier.service.metrics`)."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST

from classifier.service.state import state

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    return Response(state().metrics.render(), content_type=CONTENT_TYPE_LATEST)
