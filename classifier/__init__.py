"""headline-topics: tell what news headlines are about, offline on a CPU."""

from .embedding import Embedder, EncoderError
from .head import TopicHead
from .model import InputError, Prediction, TopicModel
from .store import ModelError, ModelStore

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
