"""What the blueprints share: settings, request bodies, model holder, encoder batcher, metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from classifier.service.batcher import MicroBatcher
from classifier.service.bodies import RequestBodies
from classifier.service.holder import ModelHolder
from classifier.service.metrics import ServiceMetrics
from classifier.service.settings import Settings

EXTENSION = "headline_topics"


@dataclass
class ServiceState:
    settings: Settings
    holder: ModelHolder
    batcher: MicroBatcher
    metrics: ServiceMetrics
    embedder: Any
    bodies: RequestBodies


def state() -> ServiceState:
    """The state of the app handling the current request."""
    return current_app.extensions[EXTENSION]
