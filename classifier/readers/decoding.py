"""Bytes to text and back, with the same rules and messages wherever a headline file is read.

Files read whole are decoded strictly, in the encoding the user names, so a wrong encoding is
one clear error ("save it as UTF-8 or pass --encoding") instead of garbled headlines. Archives
are streamed with ``surrogateescape`` instead, so a stray invalid byte spoils one row, not the
file; the helpers below tell such rows apart and write their bytes back unchanged (CSV) or
replaced with U+FFFD (formats that must be valid UTF-8).
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path

from classifier.errors import DataError
from classifier.text import is_clean_text

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
DEFAULT_ENCODING = "utf-8-sig"


def text_encoding(name: str | None) -> str:
    """The codec to read a file with: UTF-8 (a leading byte order mark dropped) unless ``name``
    says otherwise; ``utf-8`` too drops the mark, which is never meant as a character of the
    first cell. An unknown name is a :class:`DataError`."""
    if name is None:
        return DEFAULT_ENCODING
    try:
        codec = codecs.lookup(name).name
    except LookupError as exc:
        raise DataError(f"unknown encoding {name!r}") from exc
    return DEFAULT_ENCODING if codec == "utf-8" else codec


def encoding_label(codec: str) -> str:
    """How messages name an encoding: ``UTF-8`` for either UTF-8 codec, else the codec's name."""
    return "UTF-8" if codec in ("utf-8", DEFAULT_ENCODING) else codec


def is_line_splittable(codec: str) -> bool:
    """Whether lines of ``codec`` text can be split on the byte ``\\n`` before decoding (UTF-8,
    Latin-1, cp1252... but not UTF-16), as the JSONL and Dask readers do."""
    sample = '\n{"a": 1},\r'
    try:
        return sample.encode("ascii").decode(codec) == sample
    except (UnicodeDecodeError, LookupError):
        return False


def has_undecodable(text: str) -> bool:
    """Whether ``text`` (decoded with ``surrogateescape``) holds bytes its encoding could not
    decode; a search, not a copy, so a huge cell costs no memory to check."""
    return not text.isascii() and _LONE_SURROGATE.search(text) is not None


def decode(raw: bytes, encoding: str | None, source: str | os.PathLike[str]) -> str:
    """``raw`` as text; a wrong or unknown encoding is a :class:`DataError` naming the fix."""
    codec = text_encoding(encoding)
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{source}: not valid {encoding or codec} text (byte {exc.start}); "
            "save it as UTF-8 or pass --encoding with the file's encoding"
        ) from exc


def read_text(path: str | os.PathLike[str], encoding: str | None) -> str:
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
