"""Bytes to text and back, with the same rules and messages wherever a headline file is read.

Files read whole are decoded strictly, in the encoding the user names, so a wrong encoding is
one clear error ("save it as UTF-8 or pass --encoding") instead of garbled headlines. Archives
are streamed with ``surrogateescape`` instead, so a stray invalid byte spoils one row, not the
file; the helpers below tell such rows apart and write their bytes back unchanged (CSV) or
replaced with U+FFFD (formats that must be valid UTF-8).
"""

from __future__ import annotations

import os
from pathlib import Path

from classifier.errors import DataError
from classifier.text import is_clean_text


def decode(raw: bytes, encoding: str, source: str | os.PathLike[str]) -> str:
    """``raw`` as text; a wrong or unknown encoding is a :class:`DataError` naming the fix."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{source}: not valid {encoding} text (byte {exc.start}); "
            "save it as UTF-8 or pass --encoding with the file's encoding"
        ) from exc
    except LookupError as exc:
        raise DataError(f"unknown encoding {encoding!r}") from exc


def read_text(path: str | os.PathLike[str], encoding: str) -> str:
    """The whole file as text; messages name ``path`` as the caller gave it."""
    if not Path(path).is_file():
        raise DataError(f"{path}: no such file")
    return decode(Path(path).read_bytes(), encoding, path)


def clean_text(text: str) -> str:
    """Replace undecodable bytes with U+FFFD, for formats that must be valid UTF-8."""
    if is_clean_text(text):
        return text
    return text.encode("utf-8", "surrogateescape" if _escapable(text) else "replace").decode(
        "utf-8", "replace"
    )


def _escapable(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def raw_bytes(text: str) -> bytes:
    """Text back to bytes, restoring the original undecodable bytes where there were any."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")
