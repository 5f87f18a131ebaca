"""The one headline check: what counts as unusable, and how each kind is worded."""

from __future__ import annotations

import pytest

from classifier.errors import InputError
from classifier.text import check_headlines, headline_problem


def test_the_headline_check_names_each_kind_of_unusable_value():
    assert headline_problem("Tariffs rise") is None
    assert headline_problem(3) == "not text"
    assert headline_problem(" \t") == "empty"
    assert headline_problem(b"Caf\xe9".decode("utf-8", "surrogateescape")) == "not UTF-8"


def test_check_headlines_names_the_position_and_the_kind():
    assert check_headlines(["a", "b"]) == ["a", "b"]
    with pytest.raises(InputError, match="headline 1 is not valid UTF-8"):
        check_headlines(["a", b"\xff x".decode("utf-8", "surrogateescape")])
    with pytest.raises(InputError, match="headline 0 is NoneType, not text"):
        check_headlines([None])


def test_invisible_characters_alone_are_an_empty_headline():
    """A zero-width space, a BOM or a NUL alone once got 'other' at 91% (issue 19)."""
    import re

    from classifier.text import INVISIBLE, VISIBLE_PATTERN

    for text in ["\u200b", "\ufeff", "\x00", " \u200b\u200d ", "\u00ad\u2060", INVISIBLE]:
        assert headline_problem(text) == "empty", repr(text)
        assert not re.search(VISIBLE_PATTERN, text)  # the OpenAPI document says the same
    for text in ["a\u200b", "\ufeffTariffs rise", "Caf\u00e9"]:
        assert headline_problem(text) is None and re.search(VISIBLE_PATTERN, text)
