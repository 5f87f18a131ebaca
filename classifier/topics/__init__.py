"""Topic classification: features, the head, the model, training, evaluation, the model store,
data readers, zero-shot topics.

Explanations ("why this label") live here too: ``neighbours.py`` (the training headlines as an
exact nearest-neighbour index, saved with each model), ``explain.py`` (nearest headlines and
words by occlusion) and ``reindex.py`` (the index for a model saved without one). Topics known
only by a description are in ``zeroshot.py``.
"""
