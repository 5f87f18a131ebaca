"""Where things live and which defaults apply, from the environment; one place to look them up."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_TOPICS = ("geopolitics", "health", "immigration", "other", "trade")

# Share of each default topic in a general news stream such as a national front page: about a
# third of stories are international, each policy area a few percent, most are about none of the
# four topics. A model trained on a balanced set is shifted to these shares so that its choices and
# confidences hold on real streams (chosen with the development half of the NYT front-page set; see
# the README). The shipped model is trained with `--priors news`.
NEWS_PRIORS = {
    "geopolitics": 0.30,
    "health": 0.07,
    "immigration": 0.02,
    "other": 0.59,
    "trade": 0.02,
}


def models_dir() -> Path:
    """``$HEADLINE_TOPICS_MODELS`` or the project's ``models/`` folder."""
    return Path(os.environ.get("HEADLINE_TOPICS_MODELS") or PROJECT_ROOT / "models")


def encoder_path() -> str | None:
    """``$HEADLINE_TOPICS_ENCODER``: a local sentence-transformers folder; None means the bundled one."""
    return os.environ.get("HEADLINE_TOPICS_ENCODER") or None
