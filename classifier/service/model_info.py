"""GET /v1/model: the manifest of the model that is answering, and how the service holds it."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from classifier.service.state import state

bp = Blueprint("model_info", __name__)


@bp.get("/v1/model")
def model_info() -> Response:
    svc = state()
    model = svc.holder.get()
    body = dict(model.manifest)
    body["version"] = model.version
    body["service"] = {
        "loaded_at": svc.holder.loaded_at,
        "pinned": svc.holder.pinned is not None,
        "current_on_disk": svc.holder.store.current_version(),
        "reload_error": svc.holder.last_error,
        "reload_check_ms": svc.settings.reload_check_ms,
        "encoder": _encoder(svc.embedder),
    }
    response = jsonify(body)
    response.headers["X-Model-Version"] = model.version or ""
    return response


def _encoder(embedder) -> dict[str, object]:
    """The encoder answering now, which may run another backend than the head was trained on."""
    info = embedder.info()
    return {
        "name": info.name,
        "backend": getattr(info, "backend", "torch"),
        "fingerprint": info.fingerprint,
        "threads": getattr(embedder, "threads", None),
    }
