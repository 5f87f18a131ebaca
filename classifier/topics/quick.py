"""A quick retrain: the current model's weights and calibration carried onto corrected data.

A full ``train`` cross-validates both heads: 36 logistic regressions over ~66,000 columns, about
three minutes of CPU for 10,000 headlines on the 2-core machines of docs/speed.md, while the
embedding cache has already cut the encoder's share to about two seconds. After a few
corrections those folds would find nearly the same temperature, thresholds and Platt scales. So
a quick retrain fits only the two heads' final weights on all rows, warm-started from the
current model's (its vocabulary mapped onto the new one, new terms starting at 0), and keeps the
current calibration: seconds instead of minutes.

It is only sound when the current model was fitted on the same base file with the same encoder,
topics and regularisation, and the corrections are a small share of the rows
(``config.QUICK_MAX_SHARE``); :func:`quick_base` says which condition failed, and ``train --fit
auto`` then makes a full retrain. The promotion gate still scores the result on its evaluation
file, so a quick model that got worse is kept as a version, not promoted; ``--fit full``
re-calibrates whenever wanted.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from classifier.config import QUICK_MAX_SHARE
from classifier.errors import HeadlineTopicsError
from classifier.topics.applies import AppliesHead
from classifier.topics.head import TopicHead

if TYPE_CHECKING:
    from collections.abc import Sequence

    from classifier.encoders.base import Encoder
    from classifier.topics.features import LexicalFeatures
    from classifier.topics.model import TopicModel
    from classifier.topics.store import ModelStore

logger = logging.getLogger(__name__)


def quick_refusal(
    manifest: dict[str, Any],
    encoder: Encoder,
    *,
    source_sha256: str | None,
    labels: Sequence[str],
    params: dict[str, Any],
    new_topics: int,
    corrected: int,
    rows: int,
) -> str | None:
    """Why a quick retrain from the model of ``manifest`` would not be sound (None: it is).

    ``corrected`` is how many corrections went into the ``rows`` rows, ``new_topics`` how many
    zero-shot topics were asked for."""
    version = manifest.get("version", "the current model")
    if not corrected:
        return "there are no corrections (--add, --feedback) to refit on"
    if "macro_f1" not in manifest.get("metrics", {}) or "applies_thresholds" not in manifest:
        return f"{version} was not calibrated by cross-validation"
    if new_topics or manifest.get("zero_shot"):
        return "zero-shot topics are fitted by a full retrain"
    if manifest.get("embedding", {}).get("fingerprint") != encoder.info().fingerprint:
        return f"{version} was trained with another encoder"
    if source_sha256 is None or manifest.get("data", {}).get("source_sha256") != source_sha256:
        return f"{version} was trained on another file (its sha256 differs)"
    if sorted(manifest.get("labels", [])) != sorted(set(labels)):
        return f"the topics differ from {version}'s"
    before = manifest.get("head_params", {})
    if any(before.get(key) != params.get(key) for key in ("C", "class_weight")):
        return f"C or the class weights differ from {version}'s"
    if corrected > QUICK_MAX_SHARE * rows:
        return (
            f"{corrected} corrections are over {QUICK_MAX_SHARE:.0%} of the {rows} rows, "
            "enough to move the calibration"
        )
    return None


def quick_base(
    store: ModelStore, encoder: Encoder, **conditions: Any
) -> tuple[TopicModel | None, str]:
    """The current model a quick retrain starts from, or None and why not.

    ``conditions`` are :func:`quick_refusal`'s."""
    current = store.current_version()
    if current is None:
        return None, "there is no current model to start from"
    try:
        manifest = store.read_manifest(current)
        refusal = quick_refusal(manifest, encoder, **conditions)
        if refusal is not None:
            return None, refusal
        base = store.load(current, embedder=encoder, neighbours=False)
    except (HeadlineTopicsError, OSError, ValueError, KeyError) as exc:
        return None, f"the current model {current} cannot be started from ({exc})"
    return base, f"quick retrain from {current}"


def refit_heads(
    base: TopicModel,
    lexical: LexicalFeatures,
    features,
    expanded: tuple[np.ndarray, list[str], np.ndarray],
    applies_truth: np.ndarray,
    params: dict[str, Any],
) -> tuple[TopicHead, AppliesHead]:
    """Both heads' final weights on ``features``, warm-started from ``base`` and calibrated as it.

    ``expanded`` is the softmax head's (source row, label, weight) per training row."""
    if base.applies is None:
        raise ValueError(f"{base.version} has no 'applies' head to start from")
    dense = features.shape[1] - lexical.size
    source, row_labels, weights = expanded
    # the two heads side by side: scipy's sparse products, most of their time, leave the GIL
    with ThreadPoolExecutor(2) as pool:
        head = pool.submit(
            TopicHead(**params).refit,
            features[source],
            np.asarray(row_labels, dtype=object),
            calibration=base.head,
            init=(lexical.carry(base.head.coef_, base.lexical, dense), base.head.intercept_),
            sample_weight=weights,
        )
        applies = pool.submit(
            AppliesHead(C=params["C"]).refit,
            features,
            applies_truth,
            calibration=base.applies,
            init=(lexical.carry(base.applies.coef_, base.lexical, dense), base.applies.intercept_),
        )
        head, applies = head.result(), applies.result()
    logger.info("quick retrain from %s: %s iterations of the head", base.version, head.n_iter_)
    return head, applies


def fit_record(base: TopicModel | None) -> dict[str, Any]:
    """The manifest's ``fit``: how the version was fitted, and whose calibration it carries."""
    if base is None:
        return {"mode": "full"}
    calibrated_by = base.manifest.get("fit", {}).get("calibrated_by", base.version)
    return {"mode": "quick", "from": base.version, "calibrated_by": calibrated_by}


def carried_metrics(base: TopicModel) -> dict[str, Any]:
    """The cross-validated metrics of the model whose calibration a quick retrain carries."""
    metrics = dict(base.manifest.get("metrics", {}))
    if base.manifest.get("fit", {}).get("mode") == "quick":
        return metrics  # already says whose they are
    metrics["method"] = (
        f"carried over from {fit_record(base)['calibrated_by']} (a quick retrain is not "
        f"cross-validated again): {metrics.get('method', 'cross-validation')}"
    )
    return metrics
