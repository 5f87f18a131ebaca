"""Teaching a model: what to label next, what a retrain changes, topics it does not know yet.

Jobs over a trained model, one layer above :mod:`classifier.topics` and
:mod:`classifier.clustering` (beside :mod:`classifier.tagging`), so they may use both::

    suggest.py    pick the headlines of an archive whose labels would teach the model most:
                  uncertain answers, spread over k-means clusters of their embeddings, near
                  duplicates collapsed; written as a train file with the answers prefilled
    diff.py       the headlines two model versions answer differently, with both answers, and
                  the flows between topics (what promoting a retrain would change)
    lookalike.py  the rows of a labelled file that look like a topic without carrying it:
                  what to relabel when a new topic joins data that predates it

A topic the default list does not have is trained like any other (``train`` takes any labels);
one with only a description starts as a zero-shot topic, :mod:`classifier.topics.zeroshot`.
"""
