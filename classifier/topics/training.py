"""Fit a topic model from labelled headlines and record how good it is."""

from __future__ import annotations

import hashlib
import logging
import platform
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifier.config import DEFAULT_C, FIT_MODES
from classifier.encoders.base import DEFAULT_MODEL_NAME, Encoder
from classifier.files import sha256_file
from classifier.text import check_headlines
from classifier.topics.applies import AppliesHead
from classifier.topics.corrections import Corrections, merge
from classifier.topics.features import LexicalFeatures
from classifier.topics.gate import PromotionGate, decide, score
from classifier.topics.head import TopicHead
from classifier.topics.metrics import classification_metrics
from classifier.topics.model import TopicModel
from classifier.topics.multi import choose_topics, expand_rows, multi_topic_metrics, topic_matrix
from classifier.topics.neighbours import NeighbourIndex
from classifier.topics.priors import resolve_priors
from classifier.topics.quick import carried_metrics, fit_record, quick_base, refit_heads
from classifier.topics.store import ModelStore
from classifier.topics.zeroshot import TopicDescription, ZeroShotTopics

logger = logging.getLogger(__name__)

HEAD_PARAMS: dict[str, Any] = {"C": DEFAULT_C, "class_weight": "balanced", "calibration_folds": 5}


def data_fingerprint(texts: Sequence[str], labels: Sequence[str]) -> str:
    """Order-independent hash of the (headline, topic) pairs: same data, same fingerprint."""
    digest = hashlib.sha256()
    for text, label in sorted(zip(texts, labels, strict=True)):
        digest.update(text.encode("utf-8") + b"\x1f" + label.encode("utf-8") + b"\x1e")
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for package in (
        "headline-topics",
        "scikit-learn",
        "numpy",
        "scipy",
        "sentence-transformers",
        "torch",
        "onnxruntime",
        "tokenizers",
    ):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            continue
    return out


def fit_model(
    texts: Sequence[str],
    labels: Sequence[str],
    embedder: Encoder,
    *,
    embeddings: np.ndarray | None = None,
    head_params: dict[str, Any] | None = None,
    groups: Sequence[str] | None = None,
    topics: Sequence[Sequence[str]] | None = None,
    zero_shot: Sequence[TopicDescription] = (),
    base: TopicModel | None = None,
) -> tuple[TopicModel, dict[str, Any]]:
    """Train both heads on all rows; metrics come from their held-out (cross-validated) scores.

    With ``base``, a quick retrain (:mod:`classifier.topics.quick`): only the final weights are
    fitted, from ``base``'s, and its calibration and metrics are carried over.

    ``topics`` gives every topic of each row, primary first (default: ``[label]``). The softmax
    head learns a row of n topics as n rows of weight 1/n; the "applies" head learns each topic
    from every row that has it. The rows and their embeddings also become the model's neighbour
    index (:mod:`classifier.topics.neighbours`), saved with it for explanations.
    ``zero_shot`` describes topics without examples
    (:mod:`classifier.topics.zeroshot`); one the rows have examples of is trained on them and
    its description dropped.
    """
    texts = check_headlines(texts)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} headlines but {len(labels)} labels")
    topics = [[label] for label in labels] if topics is None else [list(t) for t in topics]
    if len(topics) != len(texts) or any(
        not t or t[0] != lab for t, lab in zip(topics, labels, strict=True)
    ):
        raise ValueError("topics must list every row's topics, its label first")
    counts = Counter(labels)
    if len(counts) < 2:
        raise ValueError(f"training needs at least two topics; found {sorted(counts)}")
    params = {**HEAD_PARAMS, **(head_params or {})}
    if embeddings is None:
        logger.info("embedding %d headlines", len(texts))
        embeddings = embedder.encode(texts)
    lexical = LexicalFeatures().fit(texts)
    features = lexical.combine(embeddings, texts)
    source, row_labels, weights, row_groups = expand_rows(topics, groups)
    if base is not None:
        truth = topic_matrix(topics, base.labels)
        head, applies = refit_heads(
            base, lexical, features, (source, row_labels, weights), truth, params
        )
    else:
        head = TopicHead(**params).fit(
            features[source],
            np.asarray(row_labels, dtype=object),
            groups=row_groups,
            sample_weight=weights,
        )
        truth = topic_matrix(topics, [str(c) for c in head.classes_])
        applies = AppliesHead(C=params["C"]).fit(features, truth, groups=groups)
    # the training rows themselves, so an explanation can show the labelled headlines it is near
    neighbours = NeighbourIndex(embeddings, texts, topics)
    model = TopicModel(head, lexical, embedder, applies=applies, neighbours=neighbours)
    model.zero_shot = _zero_shot(zero_shot, set(head.classes_), embedder, embeddings)
    metrics = (
        carried_metrics(base)
        if base is not None
        else _held_out_metrics(model, labels, topics, source, groups, params)
    )
    info = {"params": params, "metrics": metrics, "counts": dict(sorted(counts.items()))}
    info["fit"] = fit_record(base)
    info["topic_counts"] = dict(sorted(Counter(t for row in topics for t in row).items()))
    return model, info


def _zero_shot(
    described: Sequence[TopicDescription], trained: set, embedder: Encoder, embeddings: np.ndarray
) -> ZeroShotTopics | None:
    """The described topics that have no examples, scored by similarity (None: there are none)."""
    for topic in described:
        if topic.name in trained:
            logger.warning(
                "new topic %s has labelled examples: trained on them, its description is not used",
                topic.name,
            )
    left = [t for t in described if t.name not in trained]
    return ZeroShotTopics.fit(left, embedder, embeddings) if left else None


def _held_out_metrics(model, labels, topics, source, groups, params) -> dict[str, Any]:
    """Cross-validated scores of the primary topic and, for multi-topic data, of ``topics``."""
    head, applies = model.head, model.applies
    if head.oof_proba_ is None:
        return {"method": "none: too few examples per topic to cross-validate"}
    first = np.unique(source, return_index=True)[1]  # each headline's primary-topic row
    oof, weights = head.oof_proba_[first], head.oof_weights_[first]
    predicted = head.classes_[np.argmax(oof, axis=1)]
    metrics = classification_metrics(labels, predicted, oof.max(axis=1), model.labels, weights)
    if groups is not None and head.cv_ == "groups":
        n_groups = len(set(groups))
        method = (
            f"leave-one-group-out cross-validation over {n_groups} groups"
            if n_groups <= 12
            else f"{params['calibration_folds']}-fold cross-validation by group ({n_groups} groups)"
        )
    else:
        method = f"{params['calibration_folds']}-fold cross-validation"
    metrics["method"] = method + (
        ", rows re-weighted to the priors" if params.get("priors") else ""
    )
    if applies.oof_proba_ is not None and any(len(t) > 1 for t in topics):
        chosen = [
            choose_topics(p, a, applies.thresholds_, model.labels)
            for p, a in zip(predicted, applies.oof_proba_, strict=True)
        ]
        metrics["multi_topic"] = multi_topic_metrics(
            topics, chosen, applies.oof_proba_, model.labels
        )
    return metrics


def build_manifest(
    model: TopicModel,
    fit_info: dict[str, Any],
    *,
    fingerprint: str,
    source: str,
    rows: int,
    skipped: int,
    source_sha256: str | None = None,
) -> dict[str, Any]:
    """The manifest of a fitted model. ``data.source`` is the training file's name only (with
    ``source_sha256`` to recognise it anywhere): no absolute path or user name leaks out."""
    created = datetime.now(UTC)
    version = f"v{created:%Y%m%d-%H%M%S}-{fingerprint[:8]}"
    info = model.embedder.info()
    default_encoder = info.name == DEFAULT_MODEL_NAME
    return {
        "version": version,
        "created": created.isoformat(timespec="seconds"),
        "labels": model.labels,
        "thresholds": {label: round(t, 4) for label, t in model.thresholds.items()},
        "applies_thresholds": {
            label: round(float(t), 4)
            for label, t in zip(model.labels, model.applies.thresholds_, strict=True)
        },
        "temperature": round(float(model.head.temperature_), 6),
        "metrics": fit_info["metrics"],
        "fit": fit_info.get("fit", {"mode": "full"}),
        "head_params": fit_info["params"],
        "data": {
            "source": Path(source).name,
            "source_sha256": source_sha256,
            "fingerprint": fingerprint,
            "rows_read": rows,
            "rows_used": sum(fit_info["counts"].values()),
            "rows_skipped": skipped,
            "counts": fit_info["counts"],
            "topic_counts": fit_info["topic_counts"],
        },
        "embedding": {
            **info.to_dict(),
            "path": None if default_encoder else str(model.embedder.path),
            "normalized": True,
        },
        "lexical": {"kind": "tfidf-1-2gram", "vocabulary_size": model.lexical.size},
        "libraries": library_versions(),
        **({"zero_shot": model.zero_shot.manifest_entry()} if model.zero_shot else {}),
    }


def train_model(
    texts: Sequence[str],
    labels: Sequence[str],
    embedder: Encoder,
    *,
    source: str = "in memory",
    source_sha256: str | None = None,
    rows: int | None = None,
    skipped: int = 0,
    **fit_options: Any,
) -> tuple[TopicModel, dict[str, Any]]:
    """Fit a model and write its manifest: the pair ``ModelStore.save`` takes.

    ``fit_options`` are :func:`fit_model`'s (``embeddings``, ``head_params``, ``groups``,
    ``topics``).
    ``rows`` is how many rows the source had (default: the rows given) and ``skipped`` how many
    of them were unusable; they go into the manifest beside the data fingerprint.
    """
    model, info = fit_model(texts, labels, embedder, **fit_options)
    topics = fit_options.get("topics")
    manifest = build_manifest(
        model,
        info,
        # the whole topic list counts: a second topic added to a row is new data
        fingerprint=data_fingerprint(
            texts, labels if topics is None else [";".join(row) for row in topics]
        ),
        source=source,
        source_sha256=source_sha256,
        rows=len(texts) if rows is None else rows,
        skipped=skipped,
    )
    return model, manifest


@dataclass
class TrainResult:
    version: str
    promoted: bool
    reason: str
    manifest: dict[str, Any]


def train_from_file(
    path: str,
    store: ModelStore,
    embedder: Encoder,
    *,
    priors: str | dict[str, float] | None = "training",
    promote: str = "if-better",
    encoding: str = "utf-8-sig",
    head_params: dict[str, Any] | None = None,
    gate: PromotionGate | None = None,
    corrections: Corrections | None = None,
    zero_shot: Sequence[TopicDescription] = (),
    fit: str = "full",
    **read: Any,
) -> tuple[TrainResult, list]:
    """Read, fit, write a new version; promote it per policy (``if-better``, ``always``, ``never``).

    ``if-better`` asks the gate (:mod:`classifier.topics.gate`); the new model is scored on its
    evaluation file whatever the policy, and the result kept in the manifest's ``evaluation``.
    ``read`` (columns, ``header``, ``max_chars``) goes to :func:`~classifier.topics.data.read_labelled`.
    ``corrections`` (:func:`classifier.topics.corrections.gather`) replace the rows of the
    headlines they correct; the manifest's ``corrections`` says which went in.
    ``zero_shot`` describes new topics without examples (:mod:`classifier.topics.zeroshot`).
    ``fit``: ``full`` cross-validates; ``quick`` starts from the current model
    (:mod:`classifier.topics.quick`), ValueError when that is not sound; ``auto`` is quick when
    it is sound, else full. The manifest's ``fit`` says which, and why.
    """
    from classifier.topics.data import read_labelled

    if fit not in FIT_MODES:
        raise ValueError(f"fit must be one of {list(FIT_MODES)}, not {fit!r}")
    store.check_writable()  # before the minutes of work a read-only store would lose
    data = read_labelled(path, encoding=encoding, **read)
    corrected = None
    if corrections is not None:
        data, corrected = merge(data, corrections)
    for problem in data.problems:
        logger.warning("skipped %s", problem)
    gate = (gate or PromotionGate()).load()
    if gate.eval_set is not None and (overlap := gate.eval_set.overlap(data.texts)):
        logger.warning(
            "%d of the %d headlines of the evaluation file %s are in %s: it cannot judge this "
            "model, which will not replace a current one trained on other data",
            overlap,
            len(gate.eval_set.texts),
            gate.eval_set.name,
            Path(path).name,
        )
    params = {**HEAD_PARAMS, **(head_params or {})}
    params["priors"] = resolve_priors(priors, data.labels)
    sha256 = sha256_file(Path(path))
    base, why = None, "--fit full"
    if fit != "full":
        base, why = quick_base(
            store,
            embedder,
            source_sha256=sha256,
            labels=[t for row in data.topics or [data.labels] for t in row],
            params=params,
            new_topics=len(zero_shot),
            corrected=corrected["rows"] if corrected else 0,
            rows=len(data.texts),
        )
        if base is None and fit == "quick":
            raise ValueError(f"--fit quick is not possible: {why}; use --fit full or auto")
    logger.info("%s", why if base is not None else f"full retrain ({why})")
    model, manifest = train_model(
        data.texts,
        data.labels,
        embedder,
        head_params=params,
        groups=data.groups,
        topics=data.topics,
        zero_shot=zero_shot,
        base=base,
        source=str(path),
        source_sha256=sha256,
        rows=data.rows_read,
        skipped=len(data.problems),
    )
    manifest["fit"]["reason"] = why
    manifest["version"] = store.unique_version(manifest["version"])
    if corrected is not None:
        manifest["corrections"] = corrected
    manifest["evaluation"] = (
        score(model, gate.eval_set, data.texts) if gate.eval_set else {"skipped": gate.missing}
    )
    if promote == "never":
        do_promote, reason = False, "not promoted (--no-promote)"
    else:
        do_promote, reason = decide(store, manifest, gate, embedder)
        if promote == "always" and not do_promote:
            do_promote, reason = True, f"promotion forced over the gate's refusal: {reason}"
        elif not do_promote:
            reason += (
                f"; kept as a version, not promoted (use 'headline-topics promote "
                f"{manifest['version']}' to switch anyway)"
            )
    version = store.save(model, manifest, promote=do_promote)
    return TrainResult(version, do_promote, reason, manifest), data.problems
