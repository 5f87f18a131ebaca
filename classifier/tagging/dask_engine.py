"""The Dask engine of ``headline-topics tag``: the same tagging, spread over a cluster.

The input becomes a ``dask.dataframe`` with one partition per byte block of a CSV file or per
row group of a Parquet file (``dd.from_map`` over our own block readers, so bad rows are kept and
marked exactly as in the local engine). Each worker process loads the model once, through a
per-process cache that a worker plugin fills at start-up, and tags partition after partition
with the same ``Tagger`` as the local engine.

Output is either one file (the client writes partitions in input order through the same
checkpointed ``OutputTarget``, so ``--resume`` works per partition) or, for an output name with
no extension, a folder of Parquet parts written by the workers themselves, one file per
partition, each renamed into place only when complete (a resumed run skips the parts that exist).
Workers need to see the input, the model folder and the output folder at the same paths: run
them on one machine or on a shared file system.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from classifier.encoders.embedding import backend_for, embedder_for
from classifier.files import fsync_dir, write_atomic
from classifier.tagging.io import (
    Chunk,
    CsvReader,
    CsvRows,
    FileFormat,
    TagResult,
    arrow_table,
    detect_format,
    iter_csv_fields,
    output_columns,
    rename_clashes,
    tag_schema,
)
from classifier.tagging.output import Counters, OutputTarget
from classifier.tagging.tagger import (
    DEFAULT_MEMO_SIZE,
    ProgressCallback,
    Tagger,
    TagSummary,
    check_paths,
    open_cache,
)
from classifier.topics.data import DataError
from classifier.topics.store import ModelStore

logger = logging.getLogger(__name__)

DEFAULT_BLOCKSIZE = 8 << 20  # bytes of CSV per partition (~80,000 headlines)
SUMMARY_KEY = b"headline_topics.counters"
JOB_FILE = "_tagjob.json"


# -- what a worker needs to build its tagger ------------------------------------------------------
@dataclass(frozen=True)
class ModelSpec:
    """Everything a worker needs to load the model and tagger; hashable, so it keys the cache."""

    models_dir: str
    version: str
    encoder: str | None = None
    backend: str | None = None  # None: the one the model was trained on
    threads: int | None = None  # encoder threads per worker process (None: every core)
    text_column: str = "headline"
    cache_dir: str | None = None
    memo_size: int = DEFAULT_MEMO_SIZE
    encode_batch_size: int | None = None
    embedder_factory: Callable[[], Any] | None = None  # tests inject a fake encoder


_TAGGERS: dict[ModelSpec, Tagger] = {}
_TAGGER_LOCKS: dict[ModelSpec, threading.Lock] = {}
_LOAD_LOCK = threading.Lock()
LOADS: Counter = Counter()  # model loads in this process, per spec (checked by the tests)


def load_model(spec: ModelSpec):
    store = ModelStore(spec.models_dir)
    if spec.embedder_factory is not None:
        embedder = spec.embedder_factory()
    else:
        embedder = embedder_for(
            store.read_manifest(spec.version),
            encoder=spec.encoder,
            backend=spec.backend,
            models_dir=spec.models_dir,
            threads=spec.threads,
        )
    return store.load(spec.version, embedder=embedder)


def worker_tagger(spec: ModelSpec) -> tuple[Tagger, threading.Lock]:
    """This process's tagger for ``spec``, loading the model the first time only."""
    with _LOAD_LOCK:
        if spec not in _TAGGERS:
            model = load_model(spec)
            _TAGGERS[spec] = Tagger(
                model,
                text_column=spec.text_column,
                cache=open_cache(spec.cache_dir, model),
                memo_size=spec.memo_size,
                encode_batch_size=spec.encode_batch_size,
            )
            _TAGGER_LOCKS[spec] = threading.Lock()
            LOADS[spec] += 1
            logger.info("worker process %d loaded model %s", os.getpid(), spec.version)
        return _TAGGERS[spec], _TAGGER_LOCKS[spec]


def preload_plugin(spec: ModelSpec):
    """A worker plugin that loads the model as each worker starts (or joins) the cluster."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class PreloadModel(WorkerPlugin):
        name = f"headline-topics-model-{spec.version}"

        def __init__(self, spec: ModelSpec) -> None:
            self.spec = spec

        def setup(self, worker) -> None:
            worker_tagger(self.spec)

    return PreloadModel(spec)


# -- partitions ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """One partition of the input: a byte range of a CSV file or a row group of a Parquet file."""

    path: str
    start: int = 0
    end: int = -1  # -1: to the end (a gzip file is one partition)
    row_group: int = -1


@dataclass(frozen=True)
class Plan:
    fmt: FileFormat
    parts: tuple[Part, ...]
    columns: tuple[str, ...]  # output names of the input columns
    header: tuple[str, ...] = ()
    header_end: int = 0
    text_column: str = "headline"

    def identity(self) -> dict[str, Any]:
        return {"partitions": len(self.parts), "boundaries": [p.start for p in self.parts][:1000]}


def plan_partitions(path: Path, text_column: str, blocksize: int) -> Plan:
    """Split an input into partitions; CSV by byte blocks aligned to lines, Parquet by row group."""
    fmt = detect_format(path)
    reserved = set(output_columns(False))
    if fmt.kind == "parquet":
        files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        if not files:
            raise DataError(f"{path}: no .parquet files")
        schema = pq.read_schema(files[0])
        if text_column not in schema.names:
            raise DataError(f"{path}: no {text_column!r} column; found {', '.join(schema.names)}")
        renames = rename_clashes(schema.names, reserved)
        parts = []
        for file in files:
            groups = pq.ParquetFile(file).metadata.num_row_groups
            parts += [Part(str(file), row_group=g) for g in range(groups)]
        columns = tuple(renames.get(c, c) for c in schema.names)
        return Plan(fmt, tuple(parts), columns, text_column=text_column)
    if fmt.kind != "csv":
        raise DataError(
            f"{path}: the dask engine reads CSV and Parquet; tag JSONL with the local engine "
            "or convert it to Parquet"
        )
    with CsvReader(path, fmt, text_column, reserved) as reader:
        header, columns = tuple(reader.rows.source), tuple(reader.columns)
    size = path.stat().st_size
    if fmt.gzip:
        return Plan(fmt, (Part(str(path)),), columns, header, 0, text_column)
    with open(path, "rb") as handle:
        handle.readline()
        header_end = handle.tell()
    starts = list(range(header_end, size, max(1, blocksize))) or [header_end]
    parts = tuple(
        Part(str(path), start, starts[i + 1] if i + 1 < len(starts) else size)
        for i, start in enumerate(starts)
    )
    return Plan(fmt, parts, columns, header, header_end, text_column)


def read_part(part: Part, plan: Plan) -> Chunk:
    """The rows of one partition, parsed exactly like the local engine parses them."""
    if plan.fmt.kind == "parquet":
        table = pq.ParquetFile(part.path).read_row_group(part.row_group)
        texts = table.column(plan.text_column).to_pylist()
        table = table.rename_columns(list(plan.columns))
        return Chunk(0, texts, [None] * len(texts), table=table)
    reserved = set(output_columns(False))
    if part.end < 0:  # gzip: the whole file is one partition
        reader = CsvReader(Path(part.path), plan.fmt, plan.text_column, reserved)
        with reader:
            chunks = list(reader.chunks(1 << 62))
        return chunks[0] if chunks else Chunk(0, [], [], records=[])
    with open(part.path, "rb") as handle:
        if part.start > plan.header_end:
            handle.seek(part.start - 1)
            handle.readline()  # the line that straddles the boundary belongs to the block before
        else:
            handle.seek(plan.header_end)
        position, lines = handle.tell(), []
        while position < part.end:
            line = handle.readline()
            if not line:
                break
            lines.append(line)
            position += len(line)
    text = b"".join(lines).decode("utf-8", "surrogateescape")
    rows = CsvRows(list(plan.header), plan.text_column, reserved)
    parsed = csv.reader(io.StringIO(text, newline=""), delimiter=plan.fmt.delimiter)
    return rows.build(0, iter_csv_fields(parsed))


def tagged_frame(part: Part, plan: Plan, spec: ModelSpec) -> pd.DataFrame:
    """Read and tag one partition on a worker; the result is a pandas frame with Arrow types."""
    chunk = read_part(part, plan)
    tagger, lock = worker_tagger(spec)
    with lock:  # a tagger's memo is not thread-safe; the encoder uses every core anyway
        result = tagger.tag(chunk)
    table = arrow_table(chunk, result, list(plan.columns), clusters=False)
    return table.to_pandas(types_mapper=pd.ArrowDtype)


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
    if plan.fmt.kind == "parquet":
        schema = pq.read_schema(plan.parts[0].path)
        base = schema.empty_table().rename_columns(list(plan.columns))
        chunk = Chunk(0, [], [], table=base)
    else:
        chunk = Chunk(0, [], [], records=[])
    result = TagResult([], [], [], [], spec.version)
    return arrow_table(chunk, result, list(plan.columns), clusters=False).to_pandas(
        types_mapper=pd.ArrowDtype
    )


def write_part(frame: pd.DataFrame, folder: str, index: int) -> dict[str, Any]:
    """Write one partition as a Parquet part (atomically) and return its counters."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    counters = _frame_counters(table)
    # pandas' own metadata would name Arrow-backed dtypes that pandas cannot read back
    table = table.replace_schema_metadata({SUMMARY_KEY: json.dumps(counters.to_dict()).encode()})
    final = Path(folder) / f"part-{index:05d}.parquet"
    staging = final.with_name(final.name + ".tmp")
    pq.write_table(table, staging)
    with open(staging, "rb") as handle:
        os.fsync(handle.fileno())
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


# -- running ---------------------------------------------------------------------------------------
def _client(scheduler: Any):
    from distributed import Client

    if scheduler is None:
        raise ValueError("the dask engine needs --scheduler tcp://HOST:PORT")
    if isinstance(scheduler, str):
        return Client(scheduler, set_as_default=False), True
    return scheduler, False


def is_partitioned_output(path: Path) -> bool:
    """An output name without a file extension (or an existing folder) is a folder of parts."""
    return path.is_dir() or not Path(path.name).suffix


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
) -> TagSummary:
    """Tag ``input_path`` on a Dask cluster; ``scheduler`` is an address or a ``Client``."""

    input_path, output_path = Path(input_path), Path(output_path)
    check_paths(input_path, output_path)
    plan = plan_partitions(input_path, spec.text_column, blocksize)
    partitioned = is_partitioned_output(output_path)
    fmt = None if partitioned else detect_format(output_path)
    stat = input_path.stat()
    job = {
        "input": str(input_path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "text_column": spec.text_column,
        "model": spec.version,
        # the CLI resolves the backend; a caller that left it to the model reads it here
        "encoder": spec.backend
        or backend_for(ModelStore(spec.models_dir).read_manifest(spec.version)),
        "clusters": None,
        "output_format": "parquet-folder"
        if partitioned
        else f"{fmt.kind}{'.gz' if fmt.gzip else ''}",
        "engine": "dask",
        **plan.identity(),
    }
    started = time.monotonic()
    client, owned = _client(scheduler)
    try:
        with client.as_current():
            counters, resumed = _run(
                client,
                plan,
                spec,
                output_path,
                fmt,
                job,
                partitioned,
                resume,
                force,
                window,
                progress,
            )
    finally:
        if owned:
            client.close()
    return TagSummary(
        input=str(input_path),
        output=str(output_path),
        model=spec.version,
        engine="dask",
        counters=counters,
        elapsed=time.monotonic() - started,
        rows_this_run=counters.rows - resumed,
        resumed_after=resumed,
    )


def _run(client, plan, spec, output_path, fmt, job, partitioned, resume, force, window, progress):
    """Build the partitioned frame and write it; the client is the current one here."""
    import dask
    import dask.dataframe as dd

    client.register_plugin(preload_plugin(spec))
    with dask.config.set({"dataframe.convert-string": False}):
        frame = dd.from_map(
            tagged_frame,
            list(plan.parts),
            plan=plan,
            spec=spec,
            meta=_meta(plan, spec),
            enforce_metadata=False,
        )
        pieces = frame.to_delayed()
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = window or 2 * workers
    if partitioned:
        return _write_folder(client, pieces, plan, output_path, job, resume, force, progress)
    return _write_file(client, pieces, plan, output_path, fmt, job, resume, force, window, progress)


def _write_file(client, pieces, plan, output_path, fmt, job, resume, force, window, progress):
    """Fetch partitions in input order (a few in flight) and append them to one output file."""
    columns = list(plan.columns)
    target = OutputTarget(
        output_path,
        fmt,
        job,
        columns=columns,
        clusters=False,
        resume=resume,
        force=force,
        checkpoint_seconds=0.0,
    )
    target.begin()
    try:
        if not target.finished:
            queue: deque = deque()
            upcoming = iter(range(target.chunks_done, len(pieces)))
            for index in upcoming:
                queue.append(client.compute(pieces[index]))
                if len(queue) >= window:
                    break
            while queue:
                frame = queue.popleft().result()
                index = next(upcoming, None)
                if index is not None:
                    queue.append(client.compute(pieces[index]))
                chunk, result = frame_chunk(frame, columns)
                target.write(chunk, result)
                if progress is not None:
                    progress(
                        target.rows_done, _estimate(target.rows_done, target.chunks_done, pieces)
                    )
        empty = Chunk(0, [], [], records=[])
        if plan.fmt.kind == "parquet":
            schema = pq.read_schema(plan.parts[0].path)
            empty = Chunk(0, [], [], table=schema.empty_table().rename_columns(columns))
        target.finish(empty, TagResult([], [], [], [], job["model"]))
    finally:
        target.close()
    return target.counters, target.resumed_rows


def _write_folder(client, pieces, plan, output_path, job, resume, force, progress):
    """Workers write one Parquet part per partition into a staging folder, renamed at the end."""
    from dask import delayed

    staging = output_path.parent / f".{output_path.name}.parts"
    job_file = staging / JOB_FILE
    if output_path.exists() and not force and not (resume and staging.is_dir()):
        raise DataError(f"{output_path} already exists; pass --force to replace it")
    if staging.is_dir() and resume:
        saved = json.loads(job_file.read_text()) if job_file.is_file() else {}
        if saved.get("job") != job:
            raise DataError(
                f"cannot resume {output_path}: the run is not the same; start over with --force"
            )
        overwrite = bool(saved.get("overwrite"))
    elif staging.is_dir() and not force:
        raise DataError(
            f"an interrupted run left {staging}: pass --resume to continue it or --force to "
            "start over"
        )
    else:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        overwrite = force
        write_atomic(job_file, json.dumps({"job": job, "overwrite": overwrite}).encode())
    counters = Counters()
    resumed = 0
    todo = []
    for index, piece in enumerate(pieces):
        part = staging / f"part-{index:05d}.parquet"
        if part.is_file():
            done = Counters.from_dict(
                json.loads(pq.read_schema(part).metadata[SUMMARY_KEY].decode())
            )
            _merge(counters, done)
            resumed += done.rows
        else:
            todo.append(delayed(write_part)(piece, str(staging), index))
    for stale in staging.glob("*.tmp"):
        stale.unlink()
    if todo:
        from distributed import as_completed

        done = len(pieces) - len(todo)
        for future in as_completed(client.compute(todo)):
            _merge(counters, Counters.from_dict(future.result()))
            done += 1
            if progress is not None:
                progress(counters.rows, _estimate(counters.rows, done, pieces))
    job_file.unlink()
    fsync_dir(staging)
    if output_path.exists():
        if not (force or overwrite):
            raise DataError(f"{output_path} already exists; pass --force to replace it")
        old = output_path.parent / f".{output_path.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(output_path, old)
        os.replace(staging, output_path)
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    else:
        os.replace(staging, output_path)
    fsync_dir(output_path.parent)
    return counters, resumed


def _estimate(rows: int, parts_done: int, pieces: list) -> int | None:
    """Total rows, guessed from the rows per finished partition (partitions are similar in size)."""
    if not parts_done:
        return None
    return max(rows, round(rows * len(pieces) / parts_done))


def _merge(total: Counters, part: Counters) -> None:
    total.rows += part.rows
    total.tagged += part.tagged
    total.skipped += part.skipped
    total.reasons.update(part.reasons)
    total.topics.update(part.topics)
    total.unclustered += part.unclustered
