"""Whether a newly trained version may become current: the promotion gate of ``train``.

A version is always written; this only decides whether CURRENT moves to it. Cross-validated scores
on the training file say little when the file changes (a 300-row toy file once replaced the
shipped model, a 2-row file was promoted with 92% confidences), so the gate asks, in order:

1. Is the file big enough to cross-validate and calibrate every topic
   (:attr:`PromotionGate.min_per_topic` examples of each, :attr:`PromotionGate.min_rows` in all)?
   If not, the version is not promoted, even into an empty store.
2. With no (readable) current model, the version is promoted.
3. Trained on the same data as the current model: its cross-validated macro-F1 may not be lower.
4. Both models are scored on one fixed evaluation file, never trained on (by default the bundled
   ``data/multi-topic/dev/multi_dev.csv``; on a file with several topics a row, the F1 of each
   topic's "applies" from the ``topics`` lists, else of the top topic). Rule 1: the new macro-F1 is not worse
   than the current one's by more than :attr:`PromotionGate.f1_tolerance`. Rule 2: no topic's F1
   drops by more than :attr:`PromotionGate.max_topic_drop`. A model trained on other data than the
   current one is not promoted when there is no evaluation file to judge it on, when the file's
   headlines overlap its training data, or when either model cannot be scored on it.

``headline-topics promote VERSION`` (and ``train --force-promote``) stay the manual override.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier import config
from classifier.errors import HeadlineTopicsError
from classifier.files import sha256_file
from classifier.topics.data import read_labelled
from classifier.topics.evaluation import evaluate
from classifier.topics.model import TopicModel
from classifier.topics.store import ModelStore

logger = logging.getLogger(__name__)


@dataclass
class EvalSet:
    """A fixed labelled file: its name and hash (what a manifest records) and its rows."""

    path: Path
    sha256: str
    texts: list[str]
    labels: list[str]
    #: Every topic of each row, primary first; None when the file has one topic a row.
    topics: list[list[str]] | None = None

    @property
    def measure(self) -> str:
        """What macro-F1 averages: the topic lists, when rows have several topics (a row's
        "primary" topic is then a coin toss between two right answers), else the top topic."""
        return "topic lists" if self.topics else "top topic"

    @property
    def name(self) -> str:
        return self.path.name

    def overlap(self, texts: Sequence[str]) -> int:
        """How many of its headlines are among ``texts`` (case and spacing aside)."""
        trained = {" ".join(t.split()).casefold() for t in texts}
        return sum(" ".join(t.split()).casefold() in trained for t in self.texts)


def load_eval_set(path: str | Path, *, encoding: str = "utf-8-sig") -> EvalSet:
    """Read the evaluation file (headline + topic or topics); bad rows are warned about."""
    data = read_labelled(path, encoding=encoding)
    for problem in data.problems:
        logger.warning("evaluation file: skipped %s", problem)
    topics = data.topics if data.multi_topic else None
    return EvalSet(Path(path), sha256_file(Path(path)), data.texts, data.labels, topics)


@dataclass
class PromotionGate:
    """The rules of the module docstring, with their margins.

    ``eval_file`` None means the bundled file (``config.default_eval_file()``), which a wheel does
    not have: then there is no evaluation set, and only a model trained on the current model's
    own data (or the first model) can be promoted automatically.
    """

    eval_file: str | Path | None = None
    f1_tolerance: float = config.F1_TOLERANCE
    max_topic_drop: float = config.MAX_TOPIC_DROP
    min_per_topic: int = config.MIN_PER_TOPIC
    min_rows: int = config.MIN_ROWS
    eval_set: EvalSet | None = field(default=None, init=False)
    missing: str | None = field(default=None, init=False)

    def load(self, *, encoding: str = "utf-8-sig") -> PromotionGate:
        """Read the evaluation file now, so a missing or broken one stops before any training."""
        if self.eval_file is not None:
            self.eval_set = load_eval_set(self.eval_file, encoding=encoding)
            return self
        default = config.default_eval_file()
        if default.is_file():
            self.eval_set = load_eval_set(default)
        else:
            self.missing = (
                f"the default evaluation file {config.EVAL_FILE} is not installed here "
                "(a wheel has no data/)"
            )
            logger.warning(
                "%s: a model trained on other data than the current one will not be promoted; "
                "pass --eval-file FILE (labelled headlines never trained on) to judge it",
                self.missing,
            )
        return self


def size_problem(manifest: dict[str, Any], gate: PromotionGate) -> str | None:
    """Why the training file is too small to trust its model's scores, or None."""
    counts: dict[str, int] = manifest["data"]["counts"]
    total = sum(counts.values())
    few = {label: n for label, n in counts.items() if n < gate.min_per_topic}
    if few:
        listed = ", ".join(f"{label} {n}" for label, n in sorted(few.items()))
        return (
            f"too few examples to cross-validate and calibrate every topic ({listed}; "
            f"promotion needs at least {gate.min_per_topic} of each)"
        )
    if total < gate.min_rows:
        return (
            f"too few rows to judge the model ({total}; promotion needs at least {gate.min_rows})"
        )
    if "macro_f1" not in manifest.get("metrics", {}):
        return "the model was not cross-validated, so nothing says how good it is"
    return None


def score(model: TopicModel, eval_set: EvalSet, training_texts: Sequence[str] = ()) -> dict:
    """The evaluation record a manifest keeps: file name, sha256, macro-F1 and per-topic F1.

    ``skipped`` says why there are no figures (labels the model does not know).
    """
    record: dict[str, Any] = {
        "file": eval_set.name,
        "sha256": eval_set.sha256,
        "rows": len(eval_set.texts),
        "label_column": "topics" if eval_set.topics else "topic",
        "measure": eval_set.measure,
    }
    if training_texts:
        record["overlap_with_training"] = eval_set.overlap(training_texts)
    unknown = sorted(set(eval_set.labels) - set(model.labels))
    if unknown:
        record["skipped"] = f"the model does not know the file's topic(s) {', '.join(unknown)}"
        return record
    result = evaluate(model, eval_set.texts, eval_set.labels, eval_set.topics)
    present = sorted(set(eval_set.labels))
    if "multi_topic" in result:  # F1 of "the headline is about this topic", from the lists
        per_topic = {label: result["multi_topic"]["per_topic"][label]["f1"] for label in present}
        macro = round(sum(per_topic.values()) / len(per_topic), 4)
        record["example_f1"] = result["multi_topic"]["example_f1"]
    else:
        per_topic = {label: result["per_class"][label]["f1"] for label in present}
        macro = result["macro_f1"]
    record.update(macro_f1=macro, accuracy=result["accuracy"], per_topic_f1=per_topic)
    return record


def current_score(
    store: ModelStore, current: str, manifest: dict[str, Any], eval_set: EvalSet, embedder: Any
) -> dict[str, Any]:
    """The current model on the evaluation file: from its manifest when the file's hash matches,
    else scored now (with its own encoder unless ``embedder`` gives the same vectors)."""
    cached = manifest.get("evaluation") or {}
    if (
        cached.get("sha256") == eval_set.sha256
        and cached.get("measure", "top topic") == eval_set.measure
        and "skipped" not in cached
    ):
        return cached
    recorded = manifest.get("embedding", {})
    same = embedder.info().compare(recorded) == "same"
    model = store.load(current, embedder=embedder if same else None, neighbours=False)
    return score(model, eval_set)


def compare(new: dict[str, Any], old: dict[str, Any], current: str, gate: PromotionGate) -> list:
    """The rules that block promotion, each with both figures (empty: none blocks)."""
    name = new["file"]
    blocked = []
    if new["macro_f1"] < old["macro_f1"] - gate.f1_tolerance:
        blocked.append(
            f"rule 1 (macro-F1): {new['macro_f1']:.4f} on {name} is worse than current "
            f"{current}'s {old['macro_f1']:.4f} by more than the tolerance "
            f"{gate.f1_tolerance:g} (--f1-tolerance)"
        )
    drops = [
        f"{label} F1 {new['per_topic_f1'].get(label, 0.0):.4f} against {f1:.4f}"
        for label, f1 in sorted(old["per_topic_f1"].items())
        if new["per_topic_f1"].get(label, 0.0) < f1 - gate.max_topic_drop
    ]
    if drops:
        blocked.append(
            f"rule 2 (per-topic F1): on {name}, {', '.join(drops)} of current {current}, a "
            f"drop of more than {gate.max_topic_drop:g} (--max-topic-drop)"
        )
    return blocked


def decide(
    store: ModelStore,
    manifest: dict[str, Any],
    gate: PromotionGate,
    embedder: Any,
) -> tuple[bool, str]:
    """(promote?, why): the rules of the module docstring, for a manifest about to be saved."""
    if small := size_problem(manifest, gate):
        return False, small
    current = store.current_version()
    if current is None:
        return True, "no current model"
    try:
        old = store.read_manifest(current)
    except HeadlineTopicsError as exc:  # a broken current model should be replaceable
        return True, f"current model {current} is unusable ({exc})"
    blocked: list[str] = []
    passed: list[str] = []
    same_data = old.get("data", {}).get("fingerprint") == manifest["data"]["fingerprint"]
    if same_data:
        old_f1 = old.get("metrics", {}).get("macro_f1")
        new_f1 = manifest["metrics"].get("macro_f1")
        if old_f1 is not None and new_f1 < old_f1:
            blocked.append(
                f"cross-validated macro-F1 {new_f1:.4f} is worse than current {current}'s "
                f"{old_f1:.4f} on the same data"
            )
        else:
            passed.append(f"cross-validated macro-F1 {new_f1} vs current {old_f1} on the same data")
    evaluation = manifest.get("evaluation") or {}
    unusable = _unusable(evaluation, gate)
    if unusable is None:
        try:
            old_score = current_score(store, current, old, gate.eval_set, embedder)
        except (HeadlineTopicsError, OSError, ValueError) as exc:
            old_score = {"skipped": f"it cannot be loaded ({exc})"}
        if "skipped" in old_score:
            unusable = (
                f"current {current} cannot be scored on {evaluation['file']}: "
                + (old_score["skipped"])
            )
        else:
            rules = compare(evaluation, old_score, current, gate)
            blocked += rules
            if not rules:
                passed.append(
                    f"macro-F1 {evaluation['macro_f1']:.4f} on {evaluation['file']} vs current "
                    f"{current}'s {old_score['macro_f1']:.4f}, no topic's F1 down by more than "
                    f"{gate.max_topic_drop:g}"
                )
    if unusable is not None and not same_data:
        blocked.append(f"trained on other data than current {current}, and {unusable}")
    if blocked:
        return False, "; ".join(blocked)
    return True, "; ".join(passed) or f"trained on other data than current {current}"


def _unusable(evaluation: dict[str, Any], gate: PromotionGate) -> str | None:
    """Why the new model's evaluation cannot judge it against the current one, or None."""
    if gate.eval_set is None:
        return (gate.missing or "there is no evaluation file") + ": pass --eval-file FILE"
    if "skipped" in evaluation:
        return f"it cannot be scored on {evaluation['file']}: {evaluation['skipped']}"
    overlap = evaluation.get("overlap_with_training", 0)
    if overlap:
        return (
            f"{overlap} of the {evaluation['rows']} headlines of the evaluation file "
            f"{evaluation['file']} are in its training data, so that file cannot judge it "
            "(train without them, or pass another --eval-file)"
        )
    return None
