"""What one Dask run carries from step to step: the client, the plan, the output and the options.

Planning, the single-file writer and the folder writer all need the same ten things; one frozen
record passes them, so no step takes a long list of positional parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifier.readers.formats import FileFormat
from classifier.tagging.dask.partitions import Plan
from classifier.tagging.dask.worker import ModelSpec
from classifier.tagging.run import ProgressCallback


@dataclass(frozen=True)
class DaskRun:
    """One run of the Dask engine; ``fmt`` is None when the output is a folder of parts."""

    client: Any  # a distributed.Client, current while the run writes
    plan: Plan
    spec: ModelSpec
    output: Path | str  # a str is an object-storage URL
    fmt: FileFormat | None
    job: dict[str, Any]
    resume: bool
    force: bool
    window: int  # partitions in flight while the single-file writer waits for the next one
    progress: ProgressCallback | None

    def report(self, rows: int, parts_done: int, parts: int) -> None:
        """Tell the progress callback, with a total guessed from the finished partitions."""
        if self.progress is not None:
            self.progress(rows, estimate_total(rows, parts_done, parts))


def estimate_total(rows: int, parts_done: int, parts: int) -> int | None:
    """Total rows, guessed from the rows per finished partition (partitions are similar in size)."""
    if not parts_done:
        return None
    return max(rows, round(rows * parts / parts_done))
