"""POST /v1/cluster: group the posted headlines into stories or themes.

Wired to :func:`classifier.clustering.cluster.cluster_headlines`; ``create_app`` leaves the route
out (and /openapi.json does not list it) if that module does not import. The body is checked
against its declaration (:mod:`classifier.service.bodies`); the clustering parameters' ranges
are checked by the estimator itself, whose message is passed on. The headlines are encoded
through the shared micro-batcher (in turns with other requests) and the request's one model
gives each cluster its topic shares.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from classifier.clustering.cluster import cluster_headlines
from classifier.errors import InputError
from classifier.service.errors import ApiError
from classifier.service.predict import encode
from classifier.service.state import state
from classifier.service.validation import json_body

bp = Blueprint("cluster", __name__)


@bp.post("/v1/cluster")
def cluster() -> Response:
    svc = state()
    options = svc.bodies.cluster.check(json_body(request))
    texts = options.pop("headlines")
    model = svc.holder.get()  # one version for the whole request, as for /v1/predict
    try:
        result = cluster_headlines(texts, model, embeddings=encode(texts), **options)
    except (InputError, ValueError) as exc:
        raise ApiError(400, "invalid_input", str(exc)) from None
    result["model"] = model.version
    response = jsonify(result)
    response.headers["X-Model-Version"] = model.version or ""
    return response
