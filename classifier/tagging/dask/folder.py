"""The Dask engine's folder output: the workers write one Parquet part per partition.

Nothing passes through the client, so this scales with the cluster. Parts go to a staging
folder beside the output (the same ``.OUTPUT.parts`` a local run uses), each written under a
temporary name and renamed when complete, with its counters in its own metadata; a resumed run
keeps the parts that exist and adds up their counters. The folder is renamed into place only
when every part is there.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifier.errors import DataError
from classifier.files import fsync_dir, write_atomic
from classifier.tagging.dask.folder_parts import (
    is_tag_output_folder,
    part_counters,
    part_path,
    run_parts,
)
from classifier.tagging.paths import JOB_FILE, partial_paths
from classifier.tagging.run import Counters

if TYPE_CHECKING:
    from classifier.tagging.dask.context import DaskRun


def _check_replaceable(output: Path, force: bool) -> None:
    if not output.exists() and not output.is_symlink():
        return
    if not is_tag_output_folder(output):
        raise DataError(
            f"{output} already exists and is not the output of a tag run: choose another "
            "output (--force replaces only a folder that tag itself wrote)"
        )
    if not force:
        raise DataError(f"{output} already exists; pass --force to replace it")


def _staging_folder(run: DaskRun) -> tuple[Path, bool]:
    """The staging folder, fresh or resumed, and whether the run may replace an old output."""
    output, resume, force = run.output, run.resume, run.force
    staging = partial_paths(output).parts
    job_file = staging / JOB_FILE
    if not (resume and staging.is_dir()):
        _check_replaceable(output, force)
    if staging.is_dir() and resume:
        saved = json.loads(job_file.read_text()) if job_file.is_file() else {}
        if saved.get("job") != run.job:
            raise DataError(
                f"cannot resume {output}: the run is not the same; start over with --force"
            )
        return staging, bool(saved.get("overwrite"))
    if staging.is_dir() and not force:
        raise DataError(
            f"an interrupted run left {staging}: pass --resume to continue it or --force to "
            "start over"
        )
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    write_atomic(job_file, json.dumps({"job": run.job, "overwrite": force}).encode())
    return staging, force


def write_folder(run: DaskRun, submit: Callable[[int], Any]) -> tuple[Counters, int]:
    """Workers write one Parquet part per partition into a staging folder, renamed at the end.

    ``submit(index)`` starts the task of partition ``index``, which writes its part itself.
    """

    staging, overwrite = _staging_folder(run)
    counters = Counters()
    resumed = 0
    todo = []
    total = len(run.plan.parts)
    for index in range(total):
        part = part_path(staging, index)
        if part.is_file():
            done = part_counters(part)
            counters.merge(done)
            resumed += done.rows
        else:
            todo.append(index)
    for stale in staging.glob("*.tmp"):
        stale.unlink()
    run_parts(run, submit, todo, total, counters)
    (staging / JOB_FILE).unlink()
    fsync_dir(staging)
    _move_into_place(staging, run.output, replace=run.force or overwrite)
    return counters, resumed


def _move_into_place(staging: Path, output: Path, *, replace: bool) -> None:
    if output.exists() or output.is_symlink():
        _check_replaceable(output, replace)  # again: something may have appeared meanwhile
        old = output.parent / f".{output.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(output, old)
        os.replace(staging, output)
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    else:
        os.replace(staging, output)
    fsync_dir(output.parent)
