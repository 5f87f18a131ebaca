"""headline-topics: tell what news headlines are about, offline on a CPU.

The public names load on first use (PEP 562): importing a sub-module such as the torch-free ONNX
encoder must not pull in scikit-learn and scipy, which take over a second to import and are not
needed to start an encoder or print ``--help``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PUBLIC = {
    "Embedder": ".embedding",
    "EncoderError": ".embedding",
    "InputError": ".model",
    "ModelError": ".store",
    "ModelStore": ".store",
    "Prediction": ".model",
    "TopicHead": ".head",
    "TopicModel": ".model",
}

__all__ = [
    "Embedder",
    "EncoderError",
    "InputError",
    "ModelError",
    "ModelStore",
    "Prediction",
    "TopicHead",
    "TopicModel",
]

if TYPE_CHECKING:
    from .embedding import Embedder, EncoderError
    from .head import TopicHead
    from .model import InputError, Prediction, TopicModel
    from .store import ModelError, ModelStore


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'classifier' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
