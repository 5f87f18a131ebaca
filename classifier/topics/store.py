"""Model versions on disk: write atomically, load safely, switch the current one.

Layout::

    models/
      CURRENT                 name of the current version (replaced atomically)
      <version>/
        manifest.json         labels, thresholds, metrics, fingerprints, versions, file hashes
        manifest.sha256       hash of manifest.json, so an edited manifest is noticed
        head.npz              head weights (numpy arrays only, loaded with allow_pickle=False)
        lexical.json          TF-IDF vocabulary
        neighbours.npz        optional: the training headlines' embeddings, headlines and topics,
                              for explanations (numpy arrays only, allow_pickle=False)
        zeroshot.npz          phrase vectors of the zero-shot topics, if the model has any

A version folder is written under a temporary name and renamed into place, and CURRENT is swapped
only after that, so a crash at any point leaves the previous model current and whole. The hashes
catch accidental or careless changes; they are not a signature against someone who can write to
``models/`` and recompute them.

:meth:`ModelStore.add_neighbours` gives an existing version the neighbour index (models saved
before it existed, such as the one shipped first): it writes a whole new copy of the folder and
swaps it in with two renames, so the version is never seen half-changed; a crash between the two
leaves the old folder under ``.old-<version>-*`` (rename it back).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from classifier import config
from classifier.encoders import Encoder, embedder_for
from classifier.errors import ModelError
from classifier.files import fsync_dir, fsync_tree, sha256_file, write_atomic
from classifier.topics.applies import AppliesHead
from classifier.topics.features import LexicalFeatures
from classifier.topics.head import TopicHead
from classifier.topics.model import TopicModel
from classifier.topics.neighbours import NeighbourIndex
from classifier.topics.zeroshot import ZeroShotTopics

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"
HEAD_FILE = "head.npz"
LEXICAL_FILE = "lexical.json"
NEIGHBOURS_FILE = "neighbours.npz"
ZERO_SHOT_FILE = "zeroshot.npz"
CURRENT = "CURRENT"
FORMAT_VERSION = 1
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
HEAD_ARRAYS = ("coef", "intercept", "temperature", "thresholds", "prior_shift", "idf")


class ModelStore:
    """The ``models/`` folder: list, save, load and promote versions."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @property
    def read_only(self) -> bool:
        """The store bundled with the package, reached from elsewhere: read it, never write it."""
        return config.store_is_read_only(self.root)

    def check_writable(self) -> None:
        """Refuse to write into an installed package (before any work that would be lost)."""
        if self.read_only:
            raise ModelError(
                f"{self.root} is the model store bundled with the package and is read-only here: "
                "name a store to write to with --models-dir DIR (created if missing) or "
                "$HEADLINE_TOPICS_MODELS, or run in a folder that has a models/ folder"
            )

    # -- names and paths -------------------------------------------------------------------
    def path_of(self, version: str) -> Path:
        """The folder of a version, refusing names that could reach outside the store."""
        if not isinstance(version, str) or not VERSION_PATTERN.match(version) or ".." in version:
            raise ModelError(f"invalid model version name {version!r}")
        path = self.root / version
        if path.is_symlink():
            raise ModelError(f"model version {version!r} is a symbolic link; refusing to follow it")
        return path

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            if self.root.exists():
                raise ModelError(f"{self.root} is not a folder; name the folder of model versions")
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir()
            and not p.is_symlink()
            and VERSION_PATTERN.match(p.name)
            and (p / MANIFEST).is_file()
        )

    def current_version(self) -> str | None:
        marker = self.root / CURRENT
        if not marker.is_file():
            return None
        name = marker.read_text(encoding="utf-8").strip()
        return name or None

    def resolve(self, version: str | None) -> str:
        """The named version, or the current one when none is named."""
        name = self.current_version() if version is None else version
        if name is None:
            raise ModelError(
                f"no current model in {self.root}: train one with 'headline-topics train DATA'"
            )
        if not (self.path_of(name) / MANIFEST).is_file():
            raise ModelError(f"model version {name!r} not found in {self.root}")
        return name

    # -- writing ---------------------------------------------------------------------------
    def unique_version(self, name: str) -> str:
        """``name``, or ``name-2``, ``name-3``... when a version of that name exists already.

        Names carry the time to the second and the data fingerprint, so two trainings on the same
        data within one second would otherwise collide.
        """
        candidate, n = name, 2
        while self.path_of(candidate).exists():
            candidate, n = f"{name}-{n}", n + 1
        return candidate

    def save(self, model: TopicModel, manifest: dict[str, Any], *, promote: bool) -> str:
        """Write a new version folder completely, then (optionally) make it current."""
        version = manifest["version"]
        final = self.path_of(version)
        if final.exists():
            raise ModelError(f"model version {version!r} already exists")
        self.check_writable()
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=f".tmp-{version}-"))
        try:
            lexical_meta, idf = model.lexical.state()
            applies = {} if model.applies is None else model.applies.state()
            np.savez(staging / HEAD_FILE, **model.head.state(), **applies, idf=idf)
            (staging / LEXICAL_FILE).write_text(json.dumps(lexical_meta), encoding="utf-8")
            if model.zero_shot is not None:
                np.savez(staging / ZERO_SHOT_FILE, **model.zero_shot.state())
            manifest = dict(manifest)
            manifest["format_version"] = FORMAT_VERSION
            if model.neighbours is not None:
                manifest["neighbours"] = _write_neighbours(staging, model.neighbours, model.labels)
            _write_manifest(staging, manifest)
            fsync_tree(staging)
            os.chmod(staging, 0o755)
            os.rename(staging, final)
            fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if promote:
            self.promote(version)
        return version

    def promote(self, version: str) -> str:
        """Make a version current after checking it loads cleanly (no encoder needed)."""
        self.check_writable()
        name = self.resolve(version)
        self.read_manifest(name)
        self._read_arrays(name)
        write_atomic(self.root / CURRENT, (name + "\n").encode("utf-8"))
        logger.info("current model is now %s", name)
        return name

    def add_neighbours(self, version: str, index: NeighbourIndex, *, force: bool = False) -> str:
        """Give a saved version the neighbour index explanations show, changing nothing else.

        The head and the TF-IDF files are copied unchanged (so are its answers); the manifest
        gains the ``neighbours`` part and its hash. Refuses a version that has one unless
        ``force``, and an index of another dimension or other topics than the model's.
        """
        self.check_writable()
        name = self.resolve(version)
        manifest = self.read_manifest(name)
        if NEIGHBOURS_FILE in manifest.get("files", {}) and not force:
            raise ModelError(f"model {name!r} has a neighbour index already (--force replaces it)")
        if index.dimension != manifest["embedding"]["dimension"]:
            raise ModelError(
                f"a neighbour index of dimension {index.dimension} does not fit model {name!r} "
                f"(dimension {manifest['embedding']['dimension']})"
            )
        if unknown := {t for row in index.topics for t in row} - set(manifest["labels"]):
            raise ModelError(f"model {name!r} has no topics {sorted(unknown)}")
        final = self.path_of(name)
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=f".tmp-{name}-"))
        backup = None
        try:
            for part in manifest["files"]:
                if part != NEIGHBOURS_FILE:
                    shutil.copy2(final / part, staging / part)
            manifest["neighbours"] = _write_neighbours(staging, index, manifest["labels"])
            _write_manifest(staging, manifest)
            fsync_tree(staging)
            os.chmod(staging, 0o755)
            backup = Path(tempfile.mkdtemp(dir=self.root, prefix=f".old-{name}-"))
            os.rename(final, backup / name)
            os.rename(staging, final)
            fsync_dir(self.root)
        except BaseException:
            if backup is not None and (backup / name).exists() and not final.exists():
                os.rename(backup / name, final)
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            if backup is not None and final.exists():
                shutil.rmtree(backup, ignore_errors=True)
        logger.info("model %s has a neighbour index of %d headlines now", name, len(index))
        return name

    # -- reading ---------------------------------------------------------------------------
    def read_manifest(self, version: str | None = None) -> dict[str, Any]:
        """The manifest of a version after checking it and every file it lists are unchanged."""
        name = self.resolve(version)
        folder = self.path_of(name)
        manifest_path, hash_path = folder / MANIFEST, folder / MANIFEST_HASH
        if not hash_path.is_file():
            raise ModelError(f"model {name!r} is incomplete: {MANIFEST_HASH} is missing")
        body = manifest_path.read_bytes()
        if hashlib.sha256(body).hexdigest() != hash_path.read_text().strip():
            raise ModelError(f"model {name!r} was changed after it was written: {MANIFEST} differs")
        try:
            manifest = json.loads(body)
        except json.JSONDecodeError as exc:
            raise ModelError(f"model {name!r} has an unreadable manifest: {exc}") from exc
        expected = manifest.get("files") or {}
        present = {p.name for p in folder.iterdir()} - {MANIFEST, MANIFEST_HASH}
        if extra := present - set(expected):
            raise ModelError(
                f"model {name!r} was changed after it was written: unexpected {sorted(extra)}"
            )
        for file_name, digest in expected.items():
            path = folder / file_name
            if not path.is_file() or path.is_symlink():
                raise ModelError(f"model {name!r} is incomplete: {file_name} is missing")
            if sha256_file(path) != digest:
                raise ModelError(
                    f"model {name!r} was changed after it was written: {file_name} differs"
                )
        return manifest

    def _read_arrays(self, name: str) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path_of(name) / HEAD_FILE, allow_pickle=False) as data:
                arrays = {key: data[key] for key in HEAD_ARRAYS}
                # the per-topic head is optional: models saved before it have none
                arrays.update({k: data[k] for k in AppliesHead.STATE_ARRAYS if k in data.files})
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"model {name!r} has an unreadable head: {exc}") from exc
        return arrays

    def load(
        self,
        version: str | None = None,
        *,
        embedder: Encoder | None = None,
        neighbours: bool = True,
    ) -> TopicModel:
        """Load a version for prediction; refuses it if its encoder is not the one at hand.

        ``neighbours=False`` skips the neighbour index (about 2 s for 10,000 rows), for a caller
        that only needs the heads, such as a quick retrain."""
        name = self.resolve(version)
        manifest = self.read_manifest(name)
        arrays = self._read_arrays(name)
        lexical_meta = json.loads((self.path_of(name) / LEXICAL_FILE).read_text(encoding="utf-8"))
        embedder = embedder or embedder_for(manifest, models_dir=self.root)
        check_encoder(manifest, embedder, name)
        labels = manifest["labels"]
        try:
            head = TopicHead.from_state(labels, arrays, **manifest.get("head_params", {}))
        except (KeyError, ValueError) as exc:
            raise ModelError(
                f"model {name!r} is malformed: weights do not match its {len(labels)} labels"
            ) from exc
        applies = None
        if AppliesHead.STATE_ARRAYS[0] in arrays:
            try:
                applies = AppliesHead.from_state(arrays, len(labels))
            except (KeyError, ValueError) as exc:
                raise ModelError(f"model {name!r} is malformed: {exc}") from exc
        lexical = LexicalFeatures.from_state(lexical_meta, arrays["idf"])
        sizes = {head.n_features_in_} | ({applies.n_features_in_} if applies else set())
        if sizes != {manifest["embedding"]["dimension"] + lexical.size}:
            raise ModelError(f"model {name!r} is malformed: feature sizes do not add up")
        return TopicModel(
            head,
            lexical,
            embedder,
            applies=applies,
            neighbours=self._read_neighbours(name, manifest) if neighbours else None,
            version=name,
            manifest=manifest,
            zero_shot=self._zero_shot(name, manifest),
        )

    def _zero_shot(self, name: str, manifest: dict[str, Any]) -> ZeroShotTopics | None:
        """The zero-shot topics a manifest lists, from their arrays (none: None)."""
        entry = manifest.get("zero_shot")
        if not entry:
            return None
        try:
            with np.load(self.path_of(name) / ZERO_SHOT_FILE, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
            return ZeroShotTopics.from_state(entry, arrays)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"model {name!r} has unreadable zero-shot topics: {exc}") from exc

    def _read_neighbours(self, name: str, manifest: dict[str, Any]) -> NeighbourIndex | None:
        """The version's neighbour index (None when it was saved without one), checked against
        what the manifest recorded; read_manifest has checked its hash."""
        if NEIGHBOURS_FILE not in manifest.get("files", {}):
            return None
        try:
            with np.load(self.path_of(name) / NEIGHBOURS_FILE, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
            summary = {**manifest.get("neighbours", {})}
            summary["dimension"] = manifest["embedding"]["dimension"]
            return NeighbourIndex.from_arrays(arrays, summary=summary, labels=manifest["labels"])
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"model {name!r} has an unreadable neighbour index: {exc}") from exc


def _write_neighbours(folder: Path, index: NeighbourIndex, labels: list[str]) -> dict[str, Any]:
    """Save the index into a version folder being written; returns what the manifest records."""
    np.savez(folder / NEIGHBOURS_FILE, **index.arrays(labels))
    return {"file": NEIGHBOURS_FILE, **index.summary()}


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """The manifest, listing the hash of every part in ``folder``, and the manifest's own hash."""
    parts = sorted(p.name for p in folder.iterdir() if p.name not in (MANIFEST, MANIFEST_HASH))
    manifest["files"] = {part: sha256_file(folder / part) for part in parts}
    try:  # strict JSON: Infinity or NaN would make /v1/model answer invalid JSON
        text = json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False)
    except ValueError as exc:
        raise ModelError(
            f"model {manifest['version']!r} not saved: its manifest has {exc}"
        ) from exc
    body = text.encode("utf-8") + b"\n"
    (folder / MANIFEST).write_bytes(body)
    (folder / MANIFEST_HASH).write_text(hashlib.sha256(body).hexdigest() + "\n")


def check_encoder(manifest: dict[str, Any], embedder: Encoder, name: str) -> None:
    """Refuse a head trained on other embeddings: its scores would be silently meaningless.

    The same encoder run by another backend is accepted with a warning: torch and ``onnx`` give
    equal vectors (same fingerprint), and ``onnx-int8`` vectors are close enough that a head
    trained on either keeps about 99% of top topics and macro-F1 within 0.003 on the other
    (bench/encode.py). Anything else (another model, another dimension) is refused.
    """
    recorded = manifest.get("embedding", {})
    info = embedder.info()
    trained_on = recorded.get("backend") or "torch"
    match = info.compare(recorded)
    if match == "same":
        return
    if match == "same source":
        logger.warning(
            "model %s was trained on %s embeddings and now gets %s embeddings of the same "
            "encoder: expect about 1%% of top topics to differ; train it with "
            "--backend %s, or serve it with --backend %s, to match",
            name,
            trained_on,
            info.backend,
            info.backend,
            trained_on,
        )
        return
    raise ModelError(
        f"model {name!r} was trained on embedding model {recorded.get('name')!r} "
        f"({trained_on}, fingerprint {str(recorded.get('fingerprint'))[:12]}, "
        f"dimension {recorded.get('dimension')}); the encoder at hand is {info.name!r} "
        f"({info.backend}, fingerprint {info.fingerprint[:12]}, dimension {info.dimension})"
    )
