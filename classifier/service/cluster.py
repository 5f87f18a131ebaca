"""POST /v1/cluster: group the posted headlines into stories or themes.

Wired to :func:`classifier.clustering.cluster.cluster_headlines`. Importing this module fails until that
module is installed; ``create_app`` then leaves the route out (and /openapi.json does not list it).
The headlines are encoded through the shared micro-batcher (in turns with other requests) and the
request's one model gives each cluster its topic shares.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from classifier.clustering.cluster import LEVELS, cluster_headlines
from classifier.service.errors import ApiError
from classifier.service.predict import encode
from classifier.service.state import state
from classifier.service.validation import check_fields, check_list, json_body, json_type
from classifier.topics.model import InputError

bp = Blueprint("cluster", __name__)

# optional clustering parameters a client may set, with the JSON type each must have
PARAMETERS: dict[str, tuple[type, ...]] = {
    "distance_threshold": (int, float),
    "n_clusters": (int,),
    "min_cluster_size": (int,),
}
FIELDS = ("headlines", "level", *PARAMETERS)


def cluster_options(body: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if "level" in body:
        level = body["level"]
        if level not in LEVELS:
            shown = json_type(level) if not isinstance(level, str) else repr(level)
            raise ApiError(
                400,
                "invalid_input",
                f"'level' must be one of {', '.join(map(repr, LEVELS))}, not {shown}",
                field="level",
            )
        options["level"] = level
    for name, kinds in PARAMETERS.items():
        if name not in body or body[name] is None:
            continue
        value = body[name]
        if isinstance(value, bool) or not isinstance(value, kinds):
            wanted = "a number" if float in kinds else "a whole number"
            raise ApiError(
                400,
                "invalid_input",
                f"{name!r} must be {wanted}, not {json_type(value)}",
                field=name,
            )
        options[name] = value
    return options


@bp.post("/v1/cluster")
def cluster() -> Response:
    svc = state()
    settings = svc.settings
    body = check_fields(json_body(request), FIELDS, '{"headlines": ["...", "..."]}')
    if "headlines" not in body:
        raise ApiError(400, "invalid_input", "missing field: 'headlines' (an array of strings)")
    texts = check_list(
        body["headlines"],
        "headlines",
        max_items=settings.max_cluster_headlines,
        max_chars=settings.max_headline_chars,
        min_items=2,
    )
    options = cluster_options(body)
    model = svc.holder.get()  # one version for the whole request, as for /v1/predict
    try:
        result = cluster_headlines(texts, model, embeddings=encode(texts), **options)
    except (InputError, ValueError) as exc:
        raise ApiError(400, "invalid_input", str(exc)) from None
    result["model"] = model.version
    response = jsonify(result)
    response.headers["X-Model-Version"] = model.version or ""
    return response
