"""Where things live and which defaults apply, from the environment; one place to look them up."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_TOPICS = ("geopolitics", "health", "immigration", "other", "trade")

# Share of each default topic in a general news stream (front pages and wires): most headlines
# are about none of the four topics. Used to shift a model trained on a balanced set so that its
# confidences hold on real streams; `train --priors training` keeps the training balance instead.
NEWS_PRIORS = {
    "geopolitics": 0.25,
    "health": 0.07,
    "immigration": 0.03,
    "other": 0.62,
    "trade": 0.03,
}


def models_dir() -> Path:
    """``$HEADLINE_TOPICS_MODELS`` or the project's ``models/`` folder."""
    return Path(os.environ.get("HEADLINE_TOPICS_MODELS") or PROJECT_ROOT / "models")


def encoder_path() -> str | None:
    """``$HEADLINE_TOPICS_ENCODER``: a local sentence-transformers folder; None means the bundled one."""
    return os.environ.get("HEADLINE_TOPICS_ENCODER") or None
