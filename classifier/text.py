"""The one check of whether a value is a usable headline.

The model, the tagger, the readers of training files, the clusterer and the HTTP service all
refuse the same things; each words its own message (a row number, a JSON field, a position), but
the rule lives here so that they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from classifier.errors import InputError


def headline_problem(value: object) -> str | None:
    """Why ``value`` is not a usable headline (``"not text"``, ``"empty"``), or None."""
    if not isinstance(value, str):
        return "not text"
    if not value.strip():
        return "empty"
    return None


def check_headlines(texts: Sequence[object]) -> list[str]:
    """``texts`` as a list, or InputError naming the first that is not a usable headline.

    Refused up front, by position, rather than guessed at: the model and the clusterer both
    answer with the same words.
    """
    clean = list(texts)
    for i, text in enumerate(clean):
        problem = headline_problem(text)
        if problem == "not text":
            raise InputError(f"headline {i} is {type(text).__name__}, not text")
        if problem:
            raise InputError(f"headline {i} is empty or only whitespace")
    return clean  # type: ignore[return-value]
