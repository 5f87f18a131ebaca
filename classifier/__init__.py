"""headline-topics: tell what news headlines are about, offline on a CPU.

The public API, by sub-system (docs/development.md draws the layers)::

    ModelStore, TopicModel, Prediction, TopicHead      classifier.topics
    Encoder, make_embedder, Embedder                   classifier.encoders
    HeadlineClusterer, StoryTracker, cluster_headlines classifier.clustering
    tag_file, TagSummary                               classifier.tagging
    HeadlineTopicsError and its kinds                  classifier.errors

The names load on first use (PEP 562): importing a sub-module such as the torch-free ONNX
encoder must not pull in scikit-learn and scipy, which take over a second to import and are not
needed to start an encoder or print ``--help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from classifier._lazy import lazy_attributes

_PUBLIC = {
    "DataError": "classifier.errors",
    "Embedder": "classifier.encoders.torch",
    "Encoder": "classifier.encoders.base",
    "EncoderError": "classifier.errors",
    "HeadlineClusterer": "classifier.clustering.estimator",
    "HeadlineTopicsError": "classifier.errors",
    "InputError": "classifier.errors",
    "ModelError": "classifier.errors",
    "ModelStore": "classifier.topics.store",
    "Prediction": "classifier.topics.model",
    "StoryTracker": "classifier.clustering.tracker",
    "TagSummary": "classifier.tagging.run",
    "TopicHead": "classifier.topics.head",
    "TopicModel": "classifier.topics.model",
    "cluster_headlines": "classifier.clustering.cluster",
    "make_embedder": "classifier.encoders",
    "tag_file": "classifier.tagging.local",
}

__all__ = [
    "DataError",
    "Embedder",
    "Encoder",
    "EncoderError",
    "HeadlineClusterer",
    "HeadlineTopicsError",
    "InputError",
    "ModelError",
    "ModelStore",
    "Prediction",
    "StoryTracker",
    "TagSummary",
    "TopicHead",
    "TopicModel",
    "cluster_headlines",
    "make_embedder",
    "tag_file",
]

if TYPE_CHECKING:
    from classifier.clustering.cluster import cluster_headlines
    from classifier.clustering.estimator import HeadlineClusterer
    from classifier.clustering.tracker import StoryTracker
    from classifier.encoders import make_embedder
    from classifier.encoders.base import Encoder
    from classifier.encoders.torch import Embedder
    from classifier.errors import (
        DataError,
        EncoderError,
        HeadlineTopicsError,
        InputError,
        ModelError,
    )
    from classifier.tagging.local import tag_file
    from classifier.tagging.run import TagSummary
    from classifier.topics.head import TopicHead
    from classifier.topics.model import Prediction, TopicModel
    from classifier.topics.store import ModelStore


__getattr__, __dir__ = lazy_attributes(__name__, _PUBLIC)
