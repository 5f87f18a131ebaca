"""Read request bodies, so that bad input gets a 4xx that says exactly what is wrong.

Checks happen before any model work: the content type (415), the body size (413, enforced by
Flask's MAX_CONTENT_LENGTH while reading), JSON syntax (400), then the fields (400) with the
position of the offending headline in ``field``. The fields are checked against each endpoint's
declaration (:mod:`classifier.service.bodies`); this module gets the JSON to check.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from classifier.service.errors import ApiError
from classifier.service.fields import TooLongNumber


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def read_body(request: Request) -> bytes:
    """The raw body; 408 when it stops arriving (under gunicorn, see :mod:`.worker`)."""
    try:
        return _read_body(request)
    except (ClientDisconnected, TimeoutError) as exc:
        if not isinstance(exc, TimeoutError) and not isinstance(exc.__context__, TimeoutError):
            raise  # the client went away: werkzeug's 400
        raise ApiError(
            408,
            "request_timeout",
            "the request body stopped arriving before its declared length; send it whole",
        ) from None


def _read_body(request: Request) -> bytes:
    """The raw body, refusing (413) one over MAX_CONTENT_LENGTH even when sent chunked.

    With a Content-Length, Werkzeug refuses an oversized body before reading it. A chunked body
    has none, and Werkzeug's limited stream then stops silently at the limit and hands back a
    truncated body, so such bodies are read here, counting, until their end.
    """
    limit = request.max_content_length
    environ = request.environ
    if request.content_length is not None or limit is None:
        return request.get_data(cache=True)  # 413 past the limit, from Werkzeug
    if "wsgi.input_terminated" not in environ:
        return b""  # no length and a server that does not end the stream: nothing safe to read
    stream = environ["wsgi.input"]
    chunks, total = [], 0
    while chunk := stream.read(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise RequestEntityTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def json_body(request: Request) -> Any:
    """The parsed JSON body; 415 for another content type, 400 for malformed JSON."""
    if not request.is_json:
        got = request.mimetype or "none"
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the body as JSON with 'Content-Type: application/json' (got {got!r})",
        )
    raw = read_body(request)
    if not raw.strip():
        raise ApiError(400, "malformed_json", "the request body is empty; expected a JSON object")
    try:
        return json.loads(raw, parse_constant=_refuse_constant, parse_int=TooLongNumber.parse)
    except UnicodeDecodeError:
        raise ApiError(400, "malformed_json", "the body is not UTF-8 encoded JSON") from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            "malformed_json",
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    except ValueError as exc:
        raise ApiError(400, "malformed_json", f"malformed JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "malformed JSON: nested too deeply") from None
