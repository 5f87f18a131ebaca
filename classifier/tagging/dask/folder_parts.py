"""The parts of a folder output, as the workers write them and ``--force``/``--resume`` read them.

Each part is one partition's rows, written under a temporary name and renamed when complete,
with the partition's counters in its own Parquet metadata: a resumed run adds up the parts that
exist without reading their rows, and ``--force`` recognises a folder that tag wrote.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from classifier.files import fsync_file
from classifier.readers.urls import is_url, open_url
from classifier.tagging.run import Counters

SUMMARY_KEY = b"headline_topics.counters"
PART_NAME = re.compile(r"part-\d{5}\.parquet")


def part_name(index: int) -> str:
    """Part names sort in input order."""
    return f"part-{index:05d}.parquet"


def part_path(folder: str | Path, index: int) -> Path:
    """Where partition ``index`` goes."""
    return Path(folder) / part_name(index)


def write_part(table: pa.Table, counters: Counters, folder: str, index: int) -> None:
    """Write one partition as a Parquet part, atomically (a task run twice writes it twice).

    On object storage (``folder`` a URL) an object appears only once its upload is complete.
    """
    table = table.replace_schema_metadata({SUMMARY_KEY: json.dumps(counters.to_dict()).encode()})
    if is_url(folder):
        with open_url(f"{folder.rstrip('/')}/{part_name(index)}", "wb") as handle:
            pq.write_table(table, handle)
        return
    final = part_path(folder, index)
    staging = final.with_name(f"{final.name}.{os.getpid()}.tmp")
    pq.write_table(table, staging)
    fsync_file(staging)
    os.replace(staging, final)


def part_counters(path: Path | str) -> Counters:
    """The counters a part carries, without reading its rows."""
    if is_url(path):
        with open_url(str(path)) as handle:
            metadata = pq.read_schema(handle).metadata
    else:
        metadata = pq.read_schema(path).metadata
    return Counters.from_dict(json.loads(metadata[SUMMARY_KEY].decode()))


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


def run_parts(
    run: Any, submit: Callable[[int], Any], todo: list[int], total: int, counters: Counters
) -> None:
    """Tag the parts still to do on the cluster, in whatever order they finish, adding each
    part's counts as it lands and reporting progress; local and remote folders alike."""
    from distributed import as_completed

    done_parts = total - len(todo)
    for future in as_completed([submit(index) for index in todo]):
        _, _, part_done = future.result()
        counters.merge(Counters.from_dict(part_done))
        done_parts += 1
        run.report(counters.rows, done_parts, total)
