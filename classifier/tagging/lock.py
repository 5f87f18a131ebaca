"""One tagging run per output at a time: a lock file beside ``OUTPUT``, held for the whole run.

Two runs writing the same output would each append to the same partial file and checkpoint over
each other's state, and the second would first mistake the other's state for an interrupted run.
So a run takes ``.OUTPUT.lock`` with ``flock`` before it looks at anything else; a second run
finds it taken and is told which process holds it. The kernel drops the lock when its process
ends, however it ends (kill -9 included), so a lock file left behind is never stale: the next
run simply takes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from classifier.errors import DataError


def lock_path(output: Path) -> Path:
    """The lock file of runs writing ``output``, a hidden file beside it."""
    return output.parent / f".{output.name}.lock"


def _holder(path: Path) -> str:
    """The pid the lock file names, for the message (the holder writes it once it has the lock)."""
    try:
        pid = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


@contextlib.contextmanager
def output_lock(output: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the lock of ``output`` for the block; refuse at once if another run holds it."""
    path = lock_path(Path(output))
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataError(
                f"another tag run{_holder(path)} is writing {output}; wait for it to finish "
                "(or stop it) and run again"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # the holder before us may have removed the file between our open and our flock: then
        # we hold a lock on a file nobody else can see, and must take the one at the path
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # while still holding it, so no one takes a lock on a removed file
        os.close(fd)
