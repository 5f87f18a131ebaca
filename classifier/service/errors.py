"""JSON errors for everything that can go wrong in a request; never an HTML page or a traceback.

Every error body has one shape, ``{"error": {"status", "code", "message"[, "field"]}}``, so a
client needs one code path. Werkzeug's HTTP errors (404, 405, 413, ...) are converted; anything
unexpected becomes a bare 500 whose details go to the log only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the client can fix (or should know about), with its HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def error_body(
    status: int, code: str, message: str, field: str | None = None
) -> dict[str, dict[str, object]]:
    """The one error shape, also written by the gunicorn worker outside any Flask app."""
    body: dict[str, object] = {"status": status, "code": code, "message": message}
    if field is not None:
        body["field"] = field
    return {"error": body}


def code_for(reason: str) -> str:
    """An error's ``code`` from its HTTP reason phrase: "Request Timeout" -> "request_timeout"."""
    return re.sub(r"[^a-z0-9]+", "_", (reason or "error").lower()).strip("_")


def error_response(exc: ApiError) -> Response:
    """The JSON answer for ``exc``: the one error shape, its status and its headers."""
    response = jsonify(error_body(exc.status, exc.code, exc.message, exc.field))
    response.status_code = exc.status
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def _message_of(exc: HTTPException) -> str:
    status = exc.code or 500
    if status == 404:
        return "no such endpoint; see /openapi.json for the endpoints this service has"
    if status == 405:
        allowed = sorted(set(getattr(exc, "valid_methods", None) or []) - {"HEAD", "OPTIONS"})
        return f"method not allowed here; allowed: {', '.join(allowed) or 'none'}"
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return (
            f"request body is too large; the limit is {limit} bytes"
            if limit
            else ("request body is too large")
        )
    return exc.description or exc.name or "error"


def register_error_handlers(app: Flask) -> None:
    """Install the JSON handlers on ``app`` (all HTTP errors, our ApiError, and the rest)."""

    app.register_error_handler(ApiError, error_response)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        return error_response(
            ApiError(status, code_for(exc.name), _message_of(exc), headers=headers)
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error in a request")
        return error_response(
            ApiError(500, "internal_error", "internal error; the details are in the log")
        )
