"""The errors the CLI and the service expect, with one base class.

Every command turns a :class:`HeadlineTopicsError` into one line on stderr and exit 2, and the
service into a JSON error: anything else escaping is a bug. Each error keeps the built-in base it
always had (``ValueError`` for bad input, ``RuntimeError`` for broken models and encoders), so
code that caught those still does.
"""

from __future__ import annotations


class HeadlineTopicsError(Exception):
    """Something the user can fix; the message says what and how."""


class EncoderError(HeadlineTopicsError, RuntimeError):
    """The embedding model cannot be found or loaded from local files."""


class InputError(HeadlineTopicsError, ValueError):
    """A headline that cannot be classified (empty, not text); the message says which and why."""


class DataError(HeadlineTopicsError, ValueError):
    """A file that cannot be read at all (missing, wrong format, wrong encoding, no columns)."""


class ModelError(HeadlineTopicsError, RuntimeError):
    """A model version that is missing, malformed, changed on disk, or built for another encoder."""


class ParameterError(HeadlineTopicsError, ValueError):
    """A clustering parameter outside what it may be; ``parameter`` names it (HTTP ``field``)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
