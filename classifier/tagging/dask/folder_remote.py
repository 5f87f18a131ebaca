"""A folder output on object storage (``s3://bucket/tagged``): parts uploaded by the workers.

Object stores have no rename, but an object appears only once its upload is complete, so a part
is never seen half-written. Parts go under a staging prefix beside the output
(``s3://bucket/.tagged.parts/``, with the run's ``_tagjob.json``), a resumed run keeps the parts
that are there, and at the end the parts are copied to the output prefix (a copy inside the
store) and the staging prefix is removed. Until that copy ends the output prefix holds nothing
new; an interrupted copy is finished by ``--resume``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from classifier.errors import DataError
from classifier.readers.urls import filesystem
from classifier.tagging.dask.folder_parts import PART_NAME, part_counters, part_name, run_parts
from classifier.tagging.paths import JOB_FILE, remote_staging
from classifier.tagging.run import Counters

if TYPE_CHECKING:
    from classifier.tagging.dask.context import DaskRun


def _names(fs: Any, prefix: str) -> list[str]:
    if not fs.exists(prefix):
        return []
    return sorted(p.rsplit("/", 1)[-1] for p in fs.ls(prefix, detail=False, refresh=True))


def _check_replaceable(fs: Any, output: str, path: str, force: bool) -> None:
    names = _names(fs, path)
    if not names:
        return
    if not all(PART_NAME.fullmatch(n) for n in names):
        raise DataError(
            f"{output} already exists and is not the output of a tag run: choose another "
            "output (--force replaces only a folder that tag itself wrote)"
        )
    if not force:
        raise DataError(f"{output} already exists; pass --force to replace it")


def write_remote_folder(run: DaskRun, submit: Callable[[int], Any]) -> tuple[Counters, int]:
    """Workers upload one part per partition to the staging prefix; copied into place at the end."""

    output = str(run.output)
    fs, path = filesystem(output)
    staging = remote_staging(output)
    _, staging_path = filesystem(staging)
    job_path = f"{staging_path}/{JOB_FILE}"
    existing = _names(fs, staging_path)
    if existing and run.resume:
        saved = json.loads(fs.cat_file(job_path)) if JOB_FILE in existing else {}
        if saved.get("job") != run.job:
            raise DataError(
                f"cannot resume {output}: the run is not the same; start over with --force"
            )
    else:
        _check_replaceable(fs, output, path, run.force)
        if existing and not run.force:
            raise DataError(
                f"an interrupted run left {staging}: pass --resume to continue it or --force to "
                "start over"
            )
        if existing:
            fs.rm(staging_path, recursive=True)
        fs.pipe_file(job_path, json.dumps({"job": run.job, "overwrite": run.force}).encode())
        existing = []
    counters, resumed, todo = Counters(), 0, []
    total = len(run.plan.parts)
    for index in range(total):
        if part_name(index) in existing:
            done = part_counters(f"{staging}/{part_name(index)}")
            counters.merge(done)
            resumed += done.rows
        else:
            todo.append(index)
    run_parts(run, submit, todo, total, counters)
    fs.invalidate_cache()  # the workers wrote the parts: this client's listings are stale
    if fs.exists(path):
        _check_replaceable(fs, output, path, True)
        fs.rm(path, recursive=True)
    for index in range(total):
        fs.copy(f"{staging_path}/{part_name(index)}", f"{path}/{part_name(index)}")
    fs.rm(staging_path, recursive=True)
    return counters, resumed
