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


def require_bearer(expected: str | None, role: str) -> None:
    """401 unless the request carries ``Authorization: Bearer <expected>`` (constant time).

    The admin and the labeller tokens are both checked here, each against its own setting only,
    so one never opens the other's endpoints (unless they are configured equal).
    """
    expected = expected or ""
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
            f"this endpoint needs the header 'Authorization: Bearer <{role} token>'",
            headers={"WWW-Authenticate": f'Bearer realm="headline-topics {role}"'},
        )


def require_token() -> None:
    require_bearer(state().settings.admin_token, "admin")


@bp.post("/v1/admin/reload")
def reload() -> Response:
    require_token()
    outcome = state().holder.reload()
    logger.info("admin reload: %s", outcome)
    if outcome.error:
        raise ApiError(409, "reload_failed", f"{outcome.error}; still serving {outcome.version}")
    return jsonify(outcome.to_dict())
