"""POST /v1/cluster: group the posted headlines into stories, themes or sections.

Wired to :func:`classifier.clustering.cluster.cluster_headlines`; ``create_app`` leaves the route
out (and /openapi.json does not list it) if that module does not import. The body is checked
against its declaration (:mod:`classifier.service.bodies`); the clustering parameters' ranges
and which level uses which are checked, before any encoding, by the rules the CLI uses
(:mod:`classifier.clustering.params`, :mod:`classifier.clustering.levels`), whose message and
parameter name (as ``field``) are passed on. The headlines are encoded
through the shared micro-batcher (in turns with other requests) and the request's one model
gives each cluster its topic shares.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from classifier.clustering.cluster import cluster_headlines
from classifier.clustering.estimator import HeadlineClusterer
from classifier.clustering.levels import DEFAULT_LEVEL, check_level_options
from classifier.errors import InputError, ParameterError
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
    try:
        check_level_options(options.get("level", DEFAULT_LEVEL), options)
        HeadlineClusterer(**options).validate_params()
    except ParameterError as exc:
        raise ApiError(400, "invalid_input", str(exc), field=exc.parameter) from None
    model = svc.holder.get()  # one version for the whole request, as for /v1/predict
    try:
        result = cluster_headlines(texts, model, embeddings=encode(texts), **options)
    except (InputError, ValueError) as exc:
        raise ApiError(400, "invalid_input", str(exc)) from None
    result["model"] = model.version
    response = jsonify(result)
    response.headers["X-Model-Version"] = model.version or ""
    return response
