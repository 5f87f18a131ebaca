"""POST /v1/admin/reload: look at CURRENT now instead of at the next periodic check.

Registered only when ``HEADLINE_TOPICS_ADMIN_TOKEN`` is set; callers must send it as
``Authorization: Bearer <token>`` (compared in constant time). Under gunicorn the reload happens
in the worker that handles the call; the other workers see the same CURRENT within
``HEADLINE_TOPICS_RELOAD_CHECK_MS``.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, jsonify, request

from classifier.service.errors import ApiError
from classifier.service.state import state

logger = logging.getLogger(__name__)

bp = Blueprint("admin", __name__)


def require_token() -> None:
    expected = state().settings.admin_token or ""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    given = token.strip().encode("utf-8", "surrogateescape")
    if not (
        expected
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given, expected.encode("utf-8", "surrogateescape"))
    ):
        raise ApiError(
            401,
            "unauthorized",
            "this endpoint needs the header 'Authorization: Bearer <admin token>'",
            headers={"WWW-Authenticate": 'Bearer realm="headline-topics admin"'},
        )


@bp.post("/v1/admin/reload")
def reload() -> Response:
    require_token()
    outcome = state().holder.reload()
    logger.info("admin reload: %s", outcome)
    if outcome.error:
        raise ApiError(409, "reload_failed", f"{outcome.error}; still serving {outcome.version}")
    return jsonify(outcome.to_dict())
