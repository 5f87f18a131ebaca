"""The HTTP service: ``create_app`` builds a Flask app that serves one model store.

The model and the encoder are loaded here, once, when the app is created (in each gunicorn
worker), never per request; nothing is downloaded. Blueprints, one per concern:

- ``predict``          POST /v1/predict
- ``cluster``          POST /v1/cluster (only when ``classifier.clustering.cluster`` imports)
- ``model_info``       GET  /v1/model
- ``health``           GET  /healthz, GET /readyz
- ``metrics_endpoint`` GET  /metrics (the metrics themselves: ``metrics``)
- ``admin``            POST /v1/admin/reload (only with an admin token)
- ``reports``          GET  /v1/reports, /v1/reports/<name> (only with a reports folder)
- ``feedback``         POST/GET /v1/feedback, GET /v1/feedback/summary (403 without a labeller
                       token; its document part: ``feedback_doc``)
- ``openapi``          GET  /openapi.json (its schemas: ``schemas``)
- ``web``              GET  / and /static/..., the page

What the POST endpoints accept is declared once per app (``bodies``, built from ``fields``):
the endpoints check requests with it and /openapi.json shows it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask, Response, jsonify
from flask.globals import request_ctx

from classifier.config import encoder_threads
from classifier.encoders import embedder_for
from classifier.service import (
    admin,
    feedback,
    health,
    metrics_endpoint,
    model_info,
    openapi,
    predict,
    reports,
    web,
)
from classifier.service.batcher import MicroBatcher
from classifier.service.bodies import RequestBodies
from classifier.service.errors import register_error_handlers
from classifier.service.holder import ModelHolder
from classifier.service.metrics import ServiceMetrics
from classifier.service.recent import RecentEmbeddings
from classifier.service.settings import Settings
from classifier.service.state import EXTENSION, ServiceState
from classifier.topics.store import ModelStore

logger = logging.getLogger(__name__)

__all__ = ["Settings", "create_app"]

WARM_UP_HEADLINE = "Warm-up headline so the first request is not the slow one"


class ServiceFlask(Flask):
    """Flask, answering OPTIONS in JSON like everything else (Flask's own answer is empty HTML)."""

    def make_default_options_response(self) -> Response:
        methods = sorted(request_ctx.url_adapter.allowed_methods())
        response = jsonify({"allow": methods})
        response.allow.update(methods)
        return response


def _split_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upper-case keys that name a setting (``MODELS_DIR``) override it; the rest go to Flask."""
    names = {f.name for f in dataclasses.fields(Settings)}
    overrides, flask_config = {}, {}
    for key, value in config.items():
        if key.isupper() and key.lower() in names:
            overrides[key.lower()] = value
        else:
            flask_config[key] = value
    return overrides, flask_config


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: read settings, load the model once, wire the blueprints.

    ``config`` may hold setting overrides by upper-case name (``{"MODELS_DIR": path}``), a whole
    ``SETTINGS`` object, an ``EMBEDDER`` to use instead of loading one (tests use a fast fake),
    and any Flask config key. Raises ModelError/EncoderError/ValueError when the service cannot
    start, with a message that says why.
    """
    overrides, flask_config = _split_config(config or {})
    settings = flask_config.pop("SETTINGS", None) or Settings.from_env(**overrides)
    embedder = flask_config.pop("EMBEDDER", None)

    store = ModelStore(settings.models_dir)
    if embedder is None:
        manifest = store.read_manifest(store.resolve(settings.model_version))
        embedder = embedder_for(
            manifest,
            encoder=settings.encoder,
            backend=settings.encoder_backend,
            models_dir=store.root,
            threads=encoder_threads(1, settings.encoder_threads),
        )
    metrics = ServiceMetrics()
    holder = ModelHolder(
        store,
        embedder,
        pinned=settings.model_version,
        check_interval_s=settings.reload_check_ms / 1000.0,
    )
    holder.listeners.append(metrics.on_model)
    model = holder.start()
    embedder.encode([WARM_UP_HEADLINE])  # the first call is slow; pay it before traffic
    batcher = MicroBatcher(
        embedder.encode,
        max_wait_s=settings.batch_wait_ms / 1000.0,
        max_batch=settings.batch_max_size,
        on_batch=metrics.on_batch,
        recent=RecentEmbeddings(settings.recent_headlines, embedder.info().cache_key),
        on_recent=metrics.on_recent,
    )

    app = ServiceFlask(__name__, static_folder=None)  # the web blueprint serves /static
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config.update(flask_config)
    app.json.sort_keys = False  # keep scores in label order, as the model gives them
    svc = ServiceState(
        settings, holder, batcher, metrics, embedder, RequestBodies.from_settings(settings)
    )
    app.extensions[EXTENSION] = svc

    register_error_handlers(app)
    metrics.install(app)
    for blueprint in (predict.bp, model_info.bp, health.bp, metrics_endpoint.bp, openapi.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(web.bp)  # the page at / (classifier/service/static/)
    if settings.admin_enabled:
        app.register_blueprint(admin.bp)
    if settings.reports_dir is not None:
        app.register_blueprint(reports.bp)
    feedback.init_app(app, settings)  # /v1/feedback: 403 unless a labeller token is set
    _add_cli(app, settings)
    cluster_bp = _cluster_blueprint()
    if cluster_bp is not None:
        app.register_blueprint(cluster_bp)
    logger.info(
        "serving model %s from %s with the %s encoder (admin %s, cluster %s)",
        model.version,
        store.root,
        getattr(embedder, "backend", "torch"),
        "on" if settings.admin_enabled else "off",
        "on" if cluster_bp is not None else "off",
    )
    return app


def _add_cli(app: Flask, settings: Settings) -> None:
    """``flask --app 'classifier.service:create_app()' settings``: what this app runs with."""

    @app.cli.command("settings")
    def show_settings() -> None:
        """Print every setting's environment variable and the value in force."""
        for variable, value in settings.in_force():
            click.echo(f"{variable:<40} {value}")


def _cluster_blueprint():
    """POST /v1/cluster, when the clustering module is installed; None otherwise."""
    try:
        from classifier.service import cluster
    except ModuleNotFoundError as exc:
        if exc.name == "classifier.clustering.cluster":
            logger.info("classifier.clustering.cluster is not installed: /v1/cluster is off")
            return None
        logger.warning(
            "/v1/cluster is off: classifier.clustering.cluster does not import (%s)", exc
        )
        return None
    except ImportError as exc:  # e.g. the module exists but lacks cluster_headlines
        logger.warning(
            "/v1/cluster is off: classifier.clustering.cluster does not import (%s)", exc
        )
        return None
    return cluster.bp
