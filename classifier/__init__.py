"""headline-topics: tell what news headlines are about, offline on a CPU.

The public names load on first use (PEP 562): importing a sub-module such as the torch-free ONNX
encoder must not pull in scikit-learn and scipy, which take over a second to import and are not
needed to start an encoder or print ``--help``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PUBLIC = {
    "Embedder": "classifier.encoders.embedding",
    "EncoderError": "classifier.encoders.embedding",
    "InputError": "classifier.topics.model",
    "ModelError": "classifier.topics.store",
    "ModelStore": "classifier.topics.store",
    "Prediction": "classifier.topics.model",
    "TopicHead": "classifier.topics.head",
    "TopicModel": "classifier.topics.model",
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
    from classifier.encoders.embedding import Embedder, EncoderError
    from classifier.topics.head import TopicHead
    from classifier.topics.model import InputError, Prediction, TopicModel
    from classifier.topics.store import ModelError, ModelStore


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'classifier' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
