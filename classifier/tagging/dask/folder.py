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
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from classifier.errors import DataError
from classifier.files import fsync_dir, fsync_file, write_atomic
from classifier.tagging.paths import JOB_FILE, partial_paths
from classifier.tagging.results import TagResult
from classifier.tagging.run import Counters

if TYPE_CHECKING:
    from classifier.tagging.dask.context import DaskRun

SUMMARY_KEY = b"headline_topics.counters"


def part_path(folder: str | Path, index: int) -> Path:
    """Where partition ``index`` goes: part names sort in input order."""
    return Path(folder) / f"part-{index:05d}.parquet"


def write_part(frame: pd.DataFrame, folder: str, index: int) -> dict[str, Any]:
    """Write one partition as a Parquet part (atomically) and return its counters."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    counters = _frame_counters(table)
    # pandas' own metadata would name Arrow-backed dtypes that pandas cannot read back
    table = table.replace_schema_metadata({SUMMARY_KEY: json.dumps(counters.to_dict()).encode()})
    final = part_path(folder, index)
    staging = final.with_name(final.name + ".tmp")
    pq.write_table(table, staging)
    fsync_file(staging)
    os.replace(staging, final)
    return counters.to_dict()


def _frame_counters(table: pa.Table) -> Counters:
    counters = Counters()
    result = TagResult(
        table.column("topic").to_pylist(),
        table.column("confidence").to_pylist(),
        [],
        [e or "" for e in table.column("tag_error").to_pylist()],
        "",
    )
    counters.add(result)
    return counters


PART_NAME = re.compile(r"part-\d{5}\.parquet")


def is_tag_output_folder(path: Path) -> bool:
    """Whether ``path`` is a folder a Dask tag run wrote: only its parts, each with our counters.

    ``--force`` replaces such a folder and nothing else: a folder of the user's that happens to
    sit where the output should go must never be deleted.
    """
    if not path.is_dir() or path.is_symlink():
        return False
    for entry in path.iterdir():
        if not (entry.is_file() and PART_NAME.fullmatch(entry.name)):
            return False
        try:
            metadata = pq.read_schema(entry).metadata or {}
        except (OSError, pa.ArrowException):
            return False
        if SUMMARY_KEY not in metadata:
            return False
    return True


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


def write_folder(run: DaskRun, pieces: list[Any]) -> tuple[Counters, int]:
    """Workers write one Parquet part per partition into a staging folder, renamed at the end."""
    from dask import delayed

    staging, overwrite = _staging_folder(run)
    counters = Counters()
    resumed = 0
    todo = []
    for index, piece in enumerate(pieces):
        part = part_path(staging, index)
        if part.is_file():
            done = Counters.from_dict(
                json.loads(pq.read_schema(part).metadata[SUMMARY_KEY].decode())
            )
            counters.merge(done)
            resumed += done.rows
        else:
            todo.append(delayed(write_part)(piece, str(staging), index))
    for stale in staging.glob("*.tmp"):
        stale.unlink()
    if todo:
        from distributed import as_completed

        done = len(pieces) - len(todo)
        for future in as_completed(run.client.compute(todo)):
            counters.merge(Counters.from_dict(future.result()))
            done += 1
            run.report(counters.rows, done, len(pieces))
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
