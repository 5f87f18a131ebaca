"""Where a tagging run keeps its unfinished output and its resume state, beside ``OUTPUT``.

Both engines and the command (which checks for an interrupted run before loading a model) need
these names; they import nothing heavy, so asking "is there a run to resume?" stays cheap::

    .OUTPUT.partial         the rows written so far (CSV/JSONL; gzip output is a series of members)
    .OUTPUT.parts/          one Parquet file per chunk (Parquet output), or the Dask engine's
                            folder of parts, with its job in ``_tagjob.json``
    .OUTPUT.tagstate.json   how many input rows and output bytes/parts are known to be on disk
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

from classifier.errors import DataError

STATE_FORMAT = 1
JOB_FILE = "_tagjob.json"  # the Dask engine's job, inside its staging folder of parts


class RunPaths(NamedTuple):
    """The files of a run writing some output, before it is moved into place."""

    partial: Path
    parts: Path
    state: Path


def partial_paths(output: Path) -> RunPaths:
    """(partial file, parts folder, state file) of a run writing ``output``."""
    parent, name = output.parent, output.name
    return RunPaths(
        parent / f".{name}.partial",
        parent / f".{name}.parts",
        parent / f".{name}.tagstate.json",
    )


def remote_staging(output: str) -> str:
    """``s3://b/x/out`` -> ``s3://b/x/.out.parts``: the staging prefix of a folder on a store."""
    head, _, name = output.rstrip("/").rpartition("/")
    return f"{head}/.{name}.parts"


def is_partitioned_output(path: Path | str) -> bool:
    """An output name without a file extension (or an existing folder) is a folder of parts."""
    name = str(path).rstrip("/").rsplit("/", 1)[-1]
    if "://" in str(path):
        return not Path(name).suffix
    return Path(path).is_dir() or not Path(name).suffix


def read_state(output: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The saved state of an interrupted run writing ``output``, if there is one."""
    path = partial_paths(Path(output)).state
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{path}: unreadable resume state ({exc}); start over with --force"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise DataError(f"{path}: unknown resume state format; start over with --force")
    return state


def read_folder_job(output: Path | str) -> dict[str, Any]:
    """The job of an interrupted Dask run writing the folder ``output``; empty if none."""
    try:
        if "://" in str(output):  # a prefix on object storage: the job sits in its staging prefix
            from classifier.readers.urls import open_url

            with open_url(f"{remote_staging(str(output))}/{JOB_FILE}") as handle:
                job = json.loads(handle.read())["job"]
        else:
            job_file = partial_paths(Path(output)).parts / JOB_FILE
            job = json.loads(job_file.read_text())["job"]
    except (OSError, ValueError, KeyError, DataError):
        return {}
    return job if isinstance(job, dict) else {}
