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


def test_a_headline_over_the_limit_is_too_long_decided_on_its_length_alone():
    """Nothing capped a headline outside HTTP (issue 19 #6); the limit comes first, so a huge
    value of white space or undecodable bytes is not copied to find out what else it is."""
    from classifier.text import too_long

    assert headline_problem("x" * 1000, 1000) is None
    assert headline_problem("x" * 1001, 1000) == "too long"
    assert headline_problem(" " * 1001, 1000) == "too long"
    assert headline_problem("x" * 1001) is None  # no limit given: none applied
    assert (
        too_long(12_345, 1000)
        == "12,345 characters, over the limit of 1,000 (--max-headline-chars)"
    )


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("-5", "-5"),  # plain numbers stay numbers
        ("+1.5e3", "+1.5e3"),
        ("-.25", "-.25"),
        ("-\u0665", "'-\u0665"),  # an Arabic-Indic digit is no number to a spreadsheet
        ("Tariffs = taxes", "Tariffs = taxes"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_get_a_quote_in_front(cell, written):
    """tag's CSV wrote =, +, -, @ cells as they were (issue 19, CSV formula injection)."""
    from classifier.text import spreadsheet_safe

    assert spreadsheet_safe(cell) == written
