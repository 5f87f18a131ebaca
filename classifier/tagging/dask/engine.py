"""Run the Dask engine: plan the partitions, check the workers, then tag into a file or a folder.

One task per partition (plain ``client.submit``: a partition is a list of rows to tag, not a
dataframe to compute on). For one output file the client fetches the formatted partitions in
input order, a few in flight, and appends them through the same checkpointed ``OutputTarget`` as
the local engine, so ``--resume`` works per partition and the file is byte for byte the local
engine's. A folder output is written by the workers themselves (:mod:`.folder`). A worker that
dies mid-task loses nothing: the scheduler runs its tasks again elsewhere, and a task's output
is only appended (or its part renamed into place) once it is complete.
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

from classifier.encoders import backend_for
from classifier.errors import DataError
from classifier.readers.formats import detect_format
from classifier.readers.urls import is_url
from classifier.tagging.dask.context import DaskRun
from classifier.tagging.dask.folder import write_folder
from classifier.tagging.dask.folder_remote import write_remote_folder
from classifier.tagging.dask.partitions import plan_partitions
from classifier.tagging.dask.worker import (
    ModelSpec,
    PartOutput,
    missing_paths,
    preload_plugin,
    tag_part,
)
from classifier.tagging.defaults import DEFAULT_BLOCKSIZE, DEFAULT_CHUNK_SIZE
from classifier.tagging.output import OutputTarget
from classifier.tagging.paths import is_partitioned_output, partial_paths, remote_staging
from classifier.tagging.results import TagResult
from classifier.tagging.run import (
    Counters,
    ProgressCallback,
    TagSummary,
    check_paths,
    make_job,
    reading_identity,
)
from classifier.topics.store import ModelStore


def _client(scheduler: Any, timeout: float | None) -> tuple[Any, bool]:
    """A client for ``scheduler`` (an address or a Client), and whether this run must close it.

    An address that does not answer is one clear error after ``timeout`` seconds (default:
    Dask's ``distributed.comm.timeouts.connect``), not a hang.
    """
    import dask.config
    from dask.utils import parse_timedelta
    from distributed import Client

    if scheduler is None:
        raise ValueError("the dask engine needs --scheduler tcp://HOST:PORT")
    if not isinstance(scheduler, str):
        return scheduler, False
    if timeout is None:
        timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")
    try:
        return Client(scheduler, set_as_default=False, timeout=timeout), True
    except (OSError, TimeoutError) as exc:
        raise DataError(
            f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s ({exc}); is "
            "`dask scheduler` running there? (DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=60s "
            "waits longer)"
        ) from exc


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
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    connect_timeout: float | None = None,
    encoding: str | None = None,
    header: bool = True,
) -> TagSummary:
    """Tag ``input_path`` on a Dask cluster; ``scheduler`` is an address or a ``Client``.

    Workers tag each partition ``chunk_size`` rows at a time, as the local engine does, so a
    worker's memory does not grow with ``blocksize``. ``encoding`` and ``header`` say how to
    read a CSV/JSONL input, as for the local engine; ``spec.max_chars`` is the headline limit.
    """
    if chunk_size < 1:
        raise ValueError("chunk size must be at least 1")

    input_path = str(input_path) if is_url(input_path) else Path(input_path)
    output_path = str(output_path) if is_url(output_path) else Path(output_path)
    check_paths(input_path, output_path)
    partitioned = is_partitioned_output(output_path)
    fmt = None if partitioned else detect_format(output_path)
    if is_url(output_path) and fmt is not None:
        raise DataError(
            f"{output_path}: on object storage the dask engine writes a folder of Parquet parts; "
            "name the output without an extension (or write one file to a local path)"
        )
    # the scheduler first: an unreachable one is an error before the scan of a large input
    client, owned = _client(scheduler, connect_timeout)
    try:
        started = time.monotonic()
        plan = plan_partitions(
            input_path, spec.text_column, blocksize, encoding=encoding, header=header
        )
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
            **reading_identity(
                None, True, spec.max_chars, spec.uncertain_below
            ),  # encoding, header: in the plan's
        )
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
            started += _prepare(run)  # the workers' model loads are start-up, not tagging
            counters, resumed = _run(run, chunk_size)
    finally:
        if owned:
            client.close()
    return TagSummary.of_run(
        (input_path, output_path), spec.version, "dask", counters, started=started, resumed=resumed
    )


def _workers(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def _prepare(run: DaskRun) -> float:
    """Check the workers and load the model on each; returns the seconds that took.

    The summary leaves them out of its rows/s, as the local engine's leave out its model load,
    so the two engines' figures compare reading, tagging and writing.
    """
    began = time.monotonic()
    check_workers(run)
    run.client.register_plugin(preload_plugin(run.spec))
    return time.monotonic() - began


def _run(run: DaskRun, chunk_size: int) -> tuple[Counters, int]:
    """Tag every partition into the output."""
    task_plan = dataclasses.replace(run.plan, parts=())  # every task needs the layout, not the list
    if run.fmt is None and is_url(run.output):
        out = PartOutput("folder", run.plan.columns, folder=remote_staging(str(run.output)))
    elif run.fmt is None:
        staging = partial_paths(Path(run.output)).parts
        out = PartOutput("folder", run.plan.columns, folder=str(staging.resolve()))
    elif run.fmt.kind == "parquet":
        out = PartOutput("table", run.plan.columns)
    else:
        out = PartOutput(run.fmt.kind, run.plan.columns, delimiter=run.fmt.delimiter)

    def submit(index: int) -> Any:
        return run.client.submit(
            tag_part,
            run.plan.parts[index],
            task_plan,
            run.spec,
            out,
            index,
            chunk_size,
            key=f"headline-topics-part-{index:05d}-{uuid.uuid4().hex[:8]}",
        )

    if run.fmt is None:
        remote = is_url(run.output)
        return (write_remote_folder if remote else write_folder)(run, submit)
    return _write_file(run, submit)


def check_workers(run: DaskRun) -> None:
    """Refuse to start when a worker cannot see the input or the model, naming both."""
    inputs = {part.path for part in run.plan.parts if not is_url(part.path)}
    paths = [("the input", str(Path(p).resolve())) for p in sorted(inputs)]
    paths.append(("the model", str(Path(run.spec.models_dir) / run.spec.version)))
    if run.spec.encoder:
        paths.append(("the encoder", run.spec.encoder))
    if run.fmt is None and not is_url(run.output):
        paths.append(("the output folder", str(Path(run.output).resolve().parent)))
    answers = run.client.run(missing_paths, paths)
    if not answers:
        raise DataError("the Dask scheduler has no workers; start some with `dask worker ADDRESS`")
    for address, missing in sorted(answers.items()):
        if missing:
            raise DataError(
                f"worker {address} cannot see {'; '.join(missing)}: workers need the input, the "
                "model store and the output folder at the same paths as the client (a shared "
                "file system or an image with them, see docs/dask.md)"
            )


def _write_file(run: DaskRun, submit: Any) -> tuple[Counters, int]:
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
            upcoming = iter(range(target.chunks_done, len(run.plan.parts)))
            for index in upcoming:
                queue.append(submit(index))
                if len(queue) >= run.window:
                    break
            while queue:
                payload, rows, counters = queue.popleft().result()
                index = next(upcoming, None)
                if index is not None:
                    queue.append(submit(index))
                target.append(payload, rows, Counters.from_dict(counters))
                run.report(target.rows_done, target.chunks_done, len(run.plan.parts))
        empty = run.plan.empty_chunk()
        target.finish(empty, TagResult([], [], [], [], run.job["model"]))
    finally:
        target.close()
    return target.counters, target.resumed_rows
