"""The one check of whether a value is a usable headline.

The model, the tagger, the readers of training files, the clusterer and the HTTP service all
refuse the same things; each words its own message (a row number, a JSON field, a position), but
the rule lives here so that they cannot disagree.
"""

from __future__ import annotations

import re
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


def headline_problem(value: object, max_chars: int | None = None) -> str | None:
    """Why ``value`` is not a usable headline (``"not text"``, ``"too long"``, ``"empty"``,
    ``"not UTF-8"``), or None.

    With ``max_chars`` (:func:`classifier.config.max_headline_chars`) a longer value is
    ``"too long"``, decided first and on the length alone: the other checks copy the text, and
    an over-long value must cost nothing more than being counted.
    """
    if not isinstance(value, str):
        return "not text"
    if max_chars is not None and len(value) > max_chars:
        return "too long"
    if is_blank(value):
        return "empty"
    if not is_clean_text(value):
        return "not UTF-8"
    return None


PROBLEM_WORDS = {
    "not text": "is not text",
    "too long": "is longer than the headline length limit",
    "empty": "is empty or only whitespace",
    "not UTF-8": "is not valid UTF-8 (it holds undecodable bytes)",
}


def too_long(length: int, limit: int) -> str:
    """The words for an over-long headline, the same from every command: its length and the
    limit, so the user can tell a broken row from a limit set too low."""
    return f"{length:,} characters, over the limit of {limit:,} (--max-headline-chars)"


def normalise_headline(text: str) -> str:
    """The form in which headlines are compared: single spaces, lower case. Two headlines with
    the same form are one headline to the tagger's memo and to the feedback store (a correction
    replaces the training row it matches); the bundled encoder is uncased, so this changes no
    embedding."""
    return " ".join(text.split()).lower()


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


# CSV cells a spreadsheet would run as a formula (OWASP, "CSV Injection"): those that begin with
# = + - @, a tab or a carriage return. A plain number ("-5", "+1.5e3") is left alone: no
# spreadsheet runs it, and prefixing it would turn every negative number into text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a CSV writer of ours writes it: a single quote before a cell a spreadsheet
    would take for a formula, as OWASP advises, so that opening the file runs nothing.

    Every CSV we write (``tag`` output, ``cluster --out``) passes each cell through here; JSONL
    and Parquet keep the values as they are. The csv module's quoting does the rest (a cell with
    the delimiter or a quote in it is quoted, its quotes doubled).
    """
    if not cell.startswith(FORMULA_STARTS) or _NUMBER.fullmatch(cell):
        return cell
    return "'" + cell
