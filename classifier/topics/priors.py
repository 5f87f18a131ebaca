"""The shares of topics a model is shifted to: ``train --priors``.

Training data is rarely balanced like the stream a model will read; :class:`~classifier.topics.head.TopicHead`
shifts its logits to these shares (its ``priors``). This module only turns what a user typed into them.
"""

from __future__ import annotations

from collections.abc import Sequence

from classifier.config import DEFAULT_TOPICS, NEW_TOPIC_PRIOR, NEWS_PRIORS


def resolve_priors(
    spec: str | dict[str, float] | None, labels: Sequence[str]
) -> dict[str, float] | None:
    """``training`` (keep the data's balance), ``news`` (a news stream), or ``label=share,...``.

    ``news`` takes the default topics plus new ones: each new topic gets
    :data:`~classifier.config.NEW_TOPIC_PRIOR`, taken from ``other``, where its headlines were
    before it had a name.
    """
    if isinstance(spec, dict):
        return spec
    if spec in (None, "", "training"):
        return None
    if spec == "news":
        new = sorted(set(labels) - set(DEFAULT_TOPICS))
        if not set(DEFAULT_TOPICS) <= set(labels) or len(new) * NEW_TOPIC_PRIOR >= 0.5:
            raise ValueError(
                f"--priors news is for the default topics {list(DEFAULT_TOPICS)} (and a few new "
                "ones); give 'label=share,...' for your own"
            )
        priors = dict(NEWS_PRIORS)
        priors["other"] -= NEW_TOPIC_PRIOR * len(new)
        priors.update(dict.fromkeys(new, NEW_TOPIC_PRIOR))
        return priors
    priors: dict[str, float] = {}
    for part in spec.split(","):
        label, sep, value = part.partition("=")
        try:
            priors[label.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(f"priors must look like 'other=0.6,trade=0.1,...'; got {part!r}")
    return priors
