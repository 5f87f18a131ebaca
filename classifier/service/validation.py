"""Read and check request bodies, so that bad input gets a 4xx that says exactly what is wrong.

Checks happen before any model work: the content type (415), the body size (413, enforced by
Flask's MAX_CONTENT_LENGTH while reading), JSON syntax (400), then the fields (400) with the
position of the offending headline in ``field``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from classifier.service.errors import ApiError

JSON_TYPES = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
    list: "array",
    dict: "object",
}


def json_type(value: object) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def read_body(request: Request) -> bytes:
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
        return json.loads(raw, parse_constant=_refuse_constant)
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


def check_text(value: object, field: str, max_chars: int) -> str:
    """One headline: a non-blank string of valid Unicode no longer than ``max_chars``."""
    if not isinstance(value, str):
        raise ApiError(
            400, "invalid_input", f"{field!r} must be a string, not {json_type(value)}", field=field
        )
    if not value.strip():
        raise ApiError(400, "invalid_input", f"{field!r} is empty or only whitespace", field=field)
    if len(value) > max_chars:
        raise ApiError(
            400,
            "invalid_input",
            f"{field!r} is {len(value)} characters long; the limit is {max_chars}",
            field=field,
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            400,
            "invalid_input",
            f"{field!r} is not valid Unicode text (it contains a lone surrogate)",
            field=field,
        ) from None
    return value


def check_fields(body: object, allowed: Iterable[str], example: str) -> dict[str, Any]:
    """A JSON object with no fields outside ``allowed`` (a typo should not be ignored)."""
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "invalid_input",
            f"the body must be a JSON object like {example}, not {json_type(body)}",
        )
    allowed = set(allowed)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(
            400,
            "invalid_input",
            f"unknown field(s) {', '.join(map(repr, unknown))}; "
            f"this endpoint takes {', '.join(map(repr, sorted(allowed)))}",
            field=unknown[0],
        )
    return body


def check_list(
    value: object, field: str, *, max_items: int, max_chars: int, min_items: int = 1
) -> list[str]:
    """A list of headlines within the per-request count limit, each checked by ``check_text``."""
    if not isinstance(value, list):
        raise ApiError(
            400,
            "invalid_input",
            f"{field!r} must be an array of strings, not {json_type(value)}",
            field=field,
        )
    if len(value) < min_items:
        need = "at least one headline" if min_items == 1 else f"at least {min_items} headlines"
        raise ApiError(
            400, "invalid_input", f"{field!r} has {len(value)}; send {need}", field=field
        )
    if len(value) > max_items:
        raise ApiError(
            400,
            "invalid_input",
            f"too many headlines: {len(value)} sent, at most {max_items} per request",
            field=field,
        )
    return [check_text(item, f"{field}[{i}]", max_chars) for i, item in enumerate(value)]


def predict_headlines(body: object, *, max_items: int, max_chars: int) -> tuple[list[str], bool]:
    """The headlines of a /v1/predict body and whether it was the single-headline form."""
    body = check_fields(body, ("headline", "headlines"), '{"headline": "..."}')
    if "headline" in body and "headlines" in body:
        raise ApiError(400, "invalid_input", "send either 'headline' or 'headlines', not both")
    if "headline" in body:
        return [check_text(body["headline"], "headline", max_chars)], True
    if "headlines" in body:
        return check_list(
            body["headlines"], "headlines", max_items=max_items, max_chars=max_chars
        ), False
    raise ApiError(
        400,
        "invalid_input",
        "missing field: send 'headline' (a string) or 'headlines' (an array of strings)",
    )
