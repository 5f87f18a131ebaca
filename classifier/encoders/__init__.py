"""Sentence encoders: the torch and ONNX backends, the exporter and int8 recipe, the embedding cache.

This package is the factory: :func:`make_embedder` builds the encoder for a backend and
:func:`embedder_for` the one a saved head should run with. Layers, each importing only those
above it in this list::

    base.py       Encoder protocol, EncoderInfo (the encoder's identity), BACKENDS, model folders
    quantise.py   the per-token int8 recipe (onnx and numpy only)
    exports.py    the export cache: layout, find and check an export (no torch)
    torch.py      TorchEncoder: sentence-transformers (imports torch on first use)
    onnx.py       OnnxEncoder: onnxruntime, never torch
    export.py     the exporter (torch), also run as ``python -m classifier.encoders.export``
    cache.py      the on-disk embedding cache, keyed by EncoderInfo.cache_key

The backends' classes are imported from their modules (``classifier.encoders.torch.TorchEncoder``,
``classifier.encoders.onnx.OnnxEncoder``) and only when the factory needs one, so importing the
package, as the ONNX encoder's process does, never pulls in the torch side.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from classifier import config
from classifier.encoders.base import (
    BACKENDS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MODEL_NAME,
    LEGACY_BACKEND,
    ONNX_BACKENDS,
    Encoder,
    EncoderError,
    EncoderInfo,
    check_backend,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MODEL_NAME",
    "ONNX_BACKENDS",
    "Encoder",
    "EncoderError",
    "EncoderInfo",
    "backend_for",
    "embedder_for",
    "make_embedder",
]


def make_embedder(
    model: str | os.PathLike[str] | None = None, *, backend: str = "torch", **kwargs: Any
) -> Encoder:
    """The encoder for a backend: ``torch`` (sentence-transformers, fp32) or an ONNX one.

    ``onnx`` and ``onnx-int8`` run the same model exported by ``headline-topics export`` with
    onnxruntime, without importing torch; keyword arguments go to the encoder's constructor
    (``batch_size``, ``threads``; ``cache_dir`` for the ONNX ones).
    """
    check_backend(backend)
    if backend == "torch":
        from classifier.encoders.torch import TorchEncoder

        kwargs.pop("cache_dir", None)
        return TorchEncoder(model, **kwargs)
    from classifier.encoders.onnx import OnnxEncoder

    return OnnxEncoder(model, backend=backend, **kwargs)


def backend_for(manifest: Mapping[str, Any], requested: str | None = None) -> str:
    """The backend to embed with for a saved head.

    An explicit choice wins, then ``$HEADLINE_TOPICS_ENCODER_BACKEND``, then the backend the head
    was trained on (manifests written before backends existed were trained on torch).
    """
    backend = (
        requested
        or config.encoder_backend()
        or manifest.get("embedding", {}).get("backend")
        or LEGACY_BACKEND
    )
    check_backend(backend)
    return backend


def embedder_for(
    manifest: Mapping[str, Any],
    *,
    encoder: str | os.PathLike[str] | None = None,
    backend: str | None = None,
    models_dir: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> Encoder:
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
