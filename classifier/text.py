"""The one check of whether a value is a usable headline.

The model, the tagger, the readers of training files, the clusterer and the HTTP service all
refuse the same things; each words its own message (a row number, a JSON field, a position), but
the rule lives here so that they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from classifier.errors import InputError


def is_clean_text(text: str) -> bool:
    """False for strings holding undecodable bytes (lone surrogates, as Python decodes a command
    line argument or a line of stdin that is not valid UTF-8): no encoder can take them."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Characters that show nothing: a headline of only these and white space is empty, whatever its
# length (zero-width space, non-joiner and joiner, word joiner, byte order mark, NUL, soft hyphen).
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\x00\u00ad"
_HIDE = dict.fromkeys(map(ord, INVISIBLE))
# The same rule as a JSON Schema pattern, for the OpenAPI document: at least one visible character.
VISIBLE_PATTERN = "[^\\s" + "".join(f"\\u{ord(c):04x}" for c in INVISIBLE) + "]"


def is_blank(text: str) -> bool:
    """Nothing a reader could see: white space and :data:`INVISIBLE` characters only."""
    stripped = text.strip()
    if not stripped:
        return True
    if stripped[0] not in INVISIBLE:  # nearly every headline: decided without a copy
        return False
    return not stripped.translate(_HIDE).strip()


def headline_problem(value: object) -> str | None:
    """Why ``value`` is not a usable headline (``"not text"``, ``"empty"``, ``"not UTF-8"``), or
    None."""
    if not isinstance(value, str):
        return "not text"
    if is_blank(value):
        return "empty"
    if not is_clean_text(value):
        return "not UTF-8"
    return None


PROBLEM_WORDS = {
    "not text": "is not text",
    "empty": "is empty or only whitespace",
    "not UTF-8": "is not valid UTF-8 (it holds undecodable bytes)",
}


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
            raise InputError(f"headline {i} {PROBLEM_WORDS[problem]}")
    return clean  # type: ignore[return-value]
