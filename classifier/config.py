"""Where things live and which defaults apply, from the environment; one place to look them up."""

from __future__ import annotations

import logging
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger(__name__)

DEFAULT_TOPICS = ("geopolitics", "health", "immigration", "other", "trade")

# The head's regularisation (inverse strength), chosen on development data (docs/models.md): the
# default of the estimator and of ``headline-topics train``.
DEFAULT_C = 16.0

# An answer whose calibrated confidence is under this is marked ``uncertain``: a person should
# check it. On real front-page headlines the answers above it are right far more often than the
# rest (the coverage/accuracy curve in docs/models.md); callers set their own per call.
UNCERTAIN_BELOW = 0.5

# Share of each default topic in a general news stream such as a national front page: about a
# third of stories are international, each policy area a few percent, most are about none of the
# four topics. A model trained on a balanced set is shifted to these shares so that its choices and
# confidences hold on real streams (chosen with the development half of the NYT front-page set; see
# docs/models.md). The shipped model is trained with `--priors news`.
NEWS_PRIORS = {
    "geopolitics": 0.30,
    "health": 0.07,
    "immigration": 0.02,
    "other": 0.59,
    "trade": 0.02,
}
# The share ``--priors news`` gives a topic that is not one of the defaults (a user's "climate"),
# taken from ``other``: as much as the rarest policy areas above, trade and immigration.
NEW_TOPIC_PRIOR = 0.02

# How ``train`` fits (classifier/topics/quick.py): ``full`` cross-validates, ``quick`` refits from the
# current model and keeps its calibration, ``auto`` is quick when that is sound. Corrections over
# QUICK_MAX_SHARE of the rows may move the calibration, so ``auto`` then retrains in full.
FIT_MODES = ("auto", "full", "quick")
QUICK_MAX_SHARE = 0.10

# The most headlines one ``suggest`` run picks: its candidates are compared pairwise, and a person
# labels a few hundred at a time.
MAX_SUGGESTIONS = 10_000


# "Why this label" (classifier/topics/explain.py, docs/explain.md): how many labelled training
# headlines and how many words an explanation shows; at most how many distinct words of a headline
# are left out one at a time (each costs one more encoding; real headlines have 4-16 words); and
# at most how many headlines one /v1/predict request may ask to explain (about 10x the cost of a
# plain answer each).
EXPLAIN_NEIGHBOURS = 3
EXPLAIN_WORDS = 5
EXPLAIN_MAX_WORDS = 32
EXPLAIN_MAX_HEADLINES = 32

# The longest headline accepted anywhere: by the service (a 400), and by predict, tag, train,
# evaluate and cluster (the row is flagged with why and never tokenised). One setting, so that a
# headline the service refuses is refused on the command line too. Real headlines are under 300
# characters; a longer value is an article body or a broken row, and tokenising a 10 MB one cost
# 1.8 GB. ``$HEADLINE_TOPICS_MAX_HEADLINE_CHARS`` changes it for both; commands take
# ``--max-headline-chars``.
DEFAULT_MAX_HEADLINE_CHARS = 1000
MAX_HEADLINE_CHARS_ENV = "HEADLINE_TOPICS_MAX_HEADLINE_CHARS"


def max_headline_chars(requested: int | None = None) -> int:
    """The headline length limit in characters: ``requested``, else the environment, else 1000."""
    if requested is None:
        raw = os.environ.get(MAX_HEADLINE_CHARS_ENV, "").strip()
        if not raw:
            return DEFAULT_MAX_HEADLINE_CHARS
        try:
            requested = int(raw)
        except ValueError:
            raise ValueError(
                f"{MAX_HEADLINE_CHARS_ENV} must be a whole number, not {raw!r}"
            ) from None
        if requested < 1:
            raise ValueError(f"{MAX_HEADLINE_CHARS_ENV} must be at least 1, not {requested}")
    if requested < 1:
        raise ValueError(f"the headline length limit must be at least 1, not {requested}")
    return requested


# The labelled headlines a new model is scored on before it may replace the current one: 340 of
# our own headlines, labelled twice, never trained on (data/multi-topic/README.md). A wheel has no
# data/, so it may be missing; ``train --eval-file`` names another.
EVAL_FILE = Path("data") / "multi-topic" / "dev" / "multi_dev.csv"
# The promotion gate's margins on that file (classifier/topics/gate.py): rule 1, how far the new
# macro-F1 may fall below the current model's (rounding noise of 340 rows); rule 2, how far any
# one topic's F1 may fall.
F1_TOLERANCE = 0.005
MAX_TOPIC_DROP = 0.05
# The smallest training file the gate promotes: 5-fold stratified cross-validation (the
# calibration folds) with two held-out examples of every topic in each fold; below that,
# calibration and the recorded scores are noise.
MIN_PER_TOPIC = 10
MIN_ROWS = 50


def bundled_models_dir() -> Path:
    """The store beside the package (the repository's ``models/``), holding the shipped model."""
    return PROJECT_ROOT / "models"


def models_dir() -> Path:
    """``$HEADLINE_TOPICS_MODELS``, else ``./models`` if it exists, else the bundled store.

    The bundled store is read-only (:func:`store_is_read_only`) when reached this way, so that a
    ``train`` run in some other folder never writes into an installed package.
    """
    explicit = os.environ.get("HEADLINE_TOPICS_MODELS")
    if explicit:
        return Path(explicit)
    local = Path.cwd() / "models"
    return local if local.is_dir() else bundled_models_dir()


def _same_folder(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:  # pragma: no cover - an unreadable path component
        return False


def store_is_read_only(root: str | os.PathLike[str]) -> bool:
    """True for the bundled store, however it is named, unless it is the current folder's
    ``models/`` (working in a source checkout, from its root).

    Naming it with ``$HEADLINE_TOPICS_MODELS`` does not make it writable: ``serve`` hands its
    store to its workers that way, and they must not make encoder exports inside the package.
    """
    return _same_folder(root, bundled_models_dir()) and not _same_folder(
        Path.cwd() / "models", root
    )


def default_eval_file() -> Path:
    """The bundled evaluation file (:data:`EVAL_FILE`); it may be missing where no data/ is."""
    return PROJECT_ROOT / EVAL_FILE


def encoder_path() -> str | None:
    """``$HEADLINE_TOPICS_ENCODER``: a local sentence-transformers folder; None means the bundled one."""
    return os.environ.get("HEADLINE_TOPICS_ENCODER") or None


# The encoder backend new models are trained with, and so the one the service and the tagger use
# by default (they follow the backend a model records). onnx-int8 is 2-6x faster than torch, gives
# the same integers on every CPU and keeps the top topic of ~99% of NYT headlines (docs/speed.md).
DEFAULT_BACKEND = "onnx-int8"


def encoder_backend() -> str | None:
    """``$HEADLINE_TOPICS_ENCODER_BACKEND``: a backend to use instead of the one a model records."""
    return os.environ.get("HEADLINE_TOPICS_ENCODER_BACKEND") or None


def encoder_cache_dir(models: str | os.PathLike[str] | None = None) -> Path:
    """Where ONNX exports live: ``$HEADLINE_TOPICS_ENCODER_CACHE``, else ``<models>/encoders``,
    else (for the read-only bundled store) ``$XDG_CACHE_HOME/headline-topics/encoders``."""
    explicit = os.environ.get("HEADLINE_TOPICS_ENCODER_CACHE")
    if explicit:
        return Path(explicit)
    store = Path(models if models is not None else models_dir())
    if store_is_read_only(store):  # an export is written on first use: not into the package
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(cache) / "headline-topics" / "encoders"
    return store / "encoders"


def available_cores() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        return max(1, os.cpu_count() or 1)


def encoder_threads(
    workers: int = 1, requested: int | None = None, *, cores: int | None = None
) -> int:
    """Encoder threads per process: the request, or an even share of the cores (at least 1).

    Workers x threads above the core count made two torch workers collapse to 8 requests/s here:
    the threads preempt each other instead of computing.
    """
    cores = cores or available_cores()
    workers = max(1, workers)
    if requested is not None and requested < 1:
        raise ValueError(f"encoder threads must be at least 1, not {requested}")
    threads = requested if requested is not None else max(1, cores // workers)
    if workers * threads > cores:
        logger.warning(
            "%d worker(s) x %d encoder threads = %d threads on %d cores: they will compete, "
            "and every call gets slower (leave the thread count unset for one per core)",
            workers,
            threads,
            workers * threads,
            cores,
        )
    return threads
