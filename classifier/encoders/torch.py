"""The reference encoder: sentence-transformers on torch, strictly offline.

Torch and sentence-transformers take most of a process's start-up time and memory, so they are
imported on the first ``encode``, not with this module: creating an encoder (or importing the
package to build the CLI's parser) stays cheap. Its vectors are what the ONNX exports are checked
against.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from classifier.encoders.base import (
    DEFAULT_BATCH_SIZE,
    EncoderError,
    EncoderInfo,
    encoder_name,
    fingerprint_model_dir,
    resolve_model_path,
)

logger = logging.getLogger(__name__)


class TorchEncoder:
    """A sentence-transformers encoder loaded from a local folder on the CPU.

    Accepts one string or a list, like model2vec/SetFit encoders, and returns L2-normalised
    float32 vectors so that dot products are cosine similarities everywhere downstream.
    """

    backend = "torch"

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
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
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
        return EncoderInfo(self.name, fingerprint, self.dimension, self.backend, fingerprint)

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


# The name the public API (``classifier.Embedder``) has always given this class.
Embedder = TorchEncoder
