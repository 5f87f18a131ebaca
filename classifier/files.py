"""Durable file writes and content hashes, shared by the model store, the exporter and tagging.

A crash or a full disk must never leave a half-written file where a reader expects a whole one,
and a file that was changed after it was written must be noticed: every writer in the package
goes through these few functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def would_overwrite(output: Path, source: Path) -> bool:
    """Whether writing ``output`` would replace ``source`` (the same file, by any path to it)."""
    output, source = Path(output), Path(source)
    if not (output.exists() and source.exists()):
        return False
    try:
        return os.path.samefile(output, source)
    except OSError:
        return output.resolve() == source.resolve()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush a file written by someone else (a library's writer) to disk."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_tree(folder: Path) -> None:
    """Flush every file of ``folder`` (one level) and the folder itself, before renaming it."""
    for child in folder.iterdir():
        fsync_file(child)
    fsync_dir(folder)


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "wb", **open_args: Any) -> Iterator[IO[Any]]:
    """Write ``path`` through a temporary file beside it, renamed into place when the block ends.

    Readers see the old file or the new one, never half of one; an exception leaves the old file
    and no temporary. The new file is flushed to disk before the rename, and the rename after it.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, mode, **open_args) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never half of one."""
    with atomic_file(path) as handle:
        handle.write(data)
