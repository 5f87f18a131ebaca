"""Run the Dask engine: build the partitioned frame, then write it as one file or a folder.

For one output file the client fetches partitions in input order, a few in flight, and appends
them through the same checkpointed ``OutputTarget`` as the local engine, so ``--resume`` works
per partition and the file is byte for byte the local engine's. A folder output is written by
the workers themselves (:mod:`.folder`).
"""

from __future__ import annotations

import os
import time
from collections import deque
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from classifier.encoders import backend_for
from classifier.readers.chunks import Chunk
from classifier.readers.formats import detect_format
from classifier.tagging.dask.context import DaskRun
from classifier.tagging.dask.folder import write_folder
from classifier.tagging.dask.partitions import Plan, plan_partitions
from classifier.tagging.dask.worker import ModelSpec, preload_plugin, tagged_frame
from classifier.tagging.defaults import DEFAULT_BLOCKSIZE
from classifier.tagging.output import OutputTarget
from classifier.tagging.paths import is_partitioned_output
from classifier.tagging.results import TagResult
from classifier.tagging.run import (
    Counters,
    ProgressCallback,
    TagSummary,
    check_paths,
    make_job,
    reading_identity,
)
from classifier.tagging.writers import arrow_table, tag_schema
from classifier.topics.store import ModelStore


def frame_chunk(frame: pd.DataFrame, columns: list[str]) -> tuple[Chunk, TagResult]:
    """Split a tagged frame back into the original columns and the tags, for the file writers."""
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    tags = {name: table.column(name).to_pylist() for name in tag_schema(False).names}
    original = table.select(columns)
    chunk = Chunk(0, [None] * table.num_rows, [None] * table.num_rows, table=original)
    models = tags["model"]
    result = TagResult(
        tags["topic"],
        tags["confidence"],
        [t or [] for t in tags["topics"]],
        [e or "" for e in tags["tag_error"]],
        models[0] if models else "",
    )
    return chunk, result


def _meta(plan: Plan, spec: ModelSpec) -> pd.DataFrame:
    """An empty frame with the partitions' columns and types."""
    result = TagResult([], [], [], [], spec.version)
    return arrow_table(plan.empty_chunk(), result, list(plan.columns), clusters=False).to_pandas(
        types_mapper=pd.ArrowDtype
    )


def _client(scheduler: Any) -> tuple[Any, bool]:
    """A client for ``scheduler`` (an address or a Client), and whether this run must close it."""
    from distributed import Client

    if scheduler is None:
        raise ValueError("the dask engine needs --scheduler tcp://HOST:PORT")
    if isinstance(scheduler, str):
        return Client(scheduler, set_as_default=False), True
    return scheduler, False


def tag_dask(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    spec: ModelSpec,
    *,
    scheduler: Any,
    blocksize: int = DEFAULT_BLOCKSIZE,
    resume: bool = False,
    force: bool = False,
    progress: ProgressCallback | None = None,
    window: int | None = None,
    encoding: str | None = None,
    header: bool = True,
) -> TagSummary:
    """Tag ``input_path`` on a Dask cluster; ``scheduler`` is an address or a ``Client``.

    ``encoding`` and ``header`` say how to read a CSV input, as for the local engine.
    """

    input_path, output_path = Path(input_path), Path(output_path)
    check_paths(input_path, output_path)
    plan = plan_partitions(
        input_path, spec.text_column, blocksize, encoding=encoding, header=header
    )
    partitioned = is_partitioned_output(output_path)
    fmt = None if partitioned else detect_format(output_path)
    job = make_job(
        input_path,
        text_column=spec.text_column,
        model=spec.version,
        # the CLI resolves the backend; a caller that left it to the model reads it here
        encoder=spec.backend
        or backend_for(ModelStore(spec.models_dir).read_manifest(spec.version)),
        clusters=None,
        output_format="parquet-folder" if fmt is None else fmt,
        engine="dask",
        **plan.identity(),
        **reading_identity(None, True, spec.max_chars),
    )
    started = time.monotonic()
    client, owned = _client(scheduler)
    try:
        with client.as_current():
            run = DaskRun(
                client,
                plan,
                spec,
                output_path,
                fmt,
                job,
                resume,
                force,
                window or 2 * _workers(client),
                progress,
            )
            counters, resumed = _run(run)
    finally:
        if owned:
            client.close()
    return TagSummary.of_run(
        (input_path, output_path), spec.version, "dask", counters, started=started, resumed=resumed
    )


def _workers(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def _run(run: DaskRun) -> tuple[Counters, int]:
    """Build the partitioned frame and write it; the client is the current one here."""
    import dask
    import dask.dataframe as dd

    run.client.register_plugin(preload_plugin(run.spec))
    with dask.config.set({"dataframe.convert-string": False}):
        frame = dd.from_map(
            tagged_frame,
            list(run.plan.parts),
            plan=run.plan,
            spec=run.spec,
            meta=_meta(run.plan, run.spec),
            enforce_metadata=False,
        )
        pieces = frame.to_delayed()
    if run.fmt is None:
        return write_folder(run, pieces)
    return _write_file(run, pieces)


def _write_file(run: DaskRun, pieces: list[Any]) -> tuple[Counters, int]:
    """Fetch partitions in input order (a few in flight) and append them to one output file."""
    assert run.fmt is not None
    columns = list(run.plan.columns)
    target = OutputTarget(
        run.output,
        run.fmt,
        run.job,
        columns=columns,
        clusters=False,
        resume=run.resume,
        force=run.force,
        checkpoint_seconds=0.0,
    )
    target.begin()
    try:
        if not target.finished:
            queue: deque = deque()
            upcoming = iter(range(target.chunks_done, len(pieces)))
            for index in upcoming:
                queue.append(run.client.compute(pieces[index]))
                if len(queue) >= run.window:
                    break
            while queue:
                frame = queue.popleft().result()
                index = next(upcoming, None)
                if index is not None:
                    queue.append(run.client.compute(pieces[index]))
                chunk, result = frame_chunk(frame, columns)
                target.write(chunk, result)
                run.report(target.rows_done, target.chunks_done, len(pieces))
        empty = run.plan.empty_chunk()
        target.finish(empty, TagResult([], [], [], [], run.job["model"]))
    finally:
        target.close()
    return target.counters, target.resumed_rows
