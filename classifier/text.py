"""The one check of whether a value is a usable headline.

The model, the tagger, the readers of training files, the clusterer and the HTTP service all
refuse the same things; each words its own message (a row number, a JSON field, a position), but
the rule lives here so that they cannot disagree.
"""

from __future__ import annotations


def headline_problem(value: object) -> str | None:
    """Why ``value`` is not a usable headline (``"not text"``, ``"empty"``), or None."""
    if not isinstance(value, str):
        return "not text"
    if not value.strip():
        return "empty"
    return None
