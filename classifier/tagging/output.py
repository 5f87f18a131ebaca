"""The output of a tagging run: built beside its final name, checkpointed, moved into place at the end.

While a run is going, its rows go to a partial file (CSV/JSONL) or a folder of per-chunk Parquet
parts next to ``OUTPUT``, with a state file that counts them (the names are in
:mod:`classifier.tagging.paths`). The state file is replaced atomically, and only after the data
it counts has been fsync'ed, so after a crash (Ctrl-C, kill -9, a full disk, a power cut) the
data on disk is always *at least* what the state says. ``--resume`` cuts the partial output
back to exactly that point and carries on from the next input row, so every input row ends up in
the output once, in input order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from classifier.errors import DataError
from classifier.files import fsync_dir, fsync_file, write_atomic
from classifier.readers.chunks import Chunk
from classifier.readers.formats import FileFormat
from classifier.tagging.paths import STATE_FORMAT, partial_paths, read_state
from classifier.tagging.results import ClusterColumns, TagResult
from classifier.tagging.run import Counters, refuse_changed_job
from classifier.tagging.writers import arrow_table, formatter_for, gzip_member

logger = logging.getLogger(__name__)

MERGE_ROWS = 65_536


class OutputTarget:
    """Writes tagged chunks to a temporary output with checkpoints; ``finish`` moves it into place.

    ``job`` identifies the run (input file, size and mtime, model version, options); a resumed
    run must present the same job, so a changed input or model is refused instead of mixed in.
    """

    def __init__(
        self,
        output: str | os.PathLike[str],
        fmt: FileFormat,
        job: dict[str, Any],
        *,
        columns: list[str],
        clusters: ClusterColumns,
        resume: bool = False,
        force: bool = False,
        checkpoint_seconds: float = 1.0,
    ) -> None:
        self.output = Path(output)
        self.fmt = fmt
        self.job = job
        self.columns = columns
        self.clusters = clusters
        self.resume = resume
        self.force = force
        self.checkpoint_seconds = checkpoint_seconds
        self.partial, self.parts, self.state_path = partial_paths(self.output)
        self.counters = Counters()
        self.resumed_rows = 0
        self.finished = False
        self._handle = None
        self._formatter = (
            None if fmt.kind == "parquet" else formatter_for(fmt, columns, clusters=clusters)
        )
        # (output bytes, input rows, chunks, counters) known to be fully written, updated as one
        self._mark: tuple[int, int, int, dict[str, Any]] = (0, 0, 0, Counters().to_dict())
        self._last_checkpoint = 0.0
        self._parts_synced = 0  # Parquet parts already fsync'ed by a checkpoint
        self._overwrite = force
        self._phase = "writing"

    # -- starting ----------------------------------------------------------------------------
    @property
    def rows_done(self) -> int:
        return self._mark[1]

    @property
    def chunks_done(self) -> int:
        return self._mark[2]

    def begin(self) -> None:
        """Start fresh or pick up an interrupted run, refusing to clobber anything by accident."""
        state = read_state(self.output)
        if state is not None and self.resume:
            self._check_job(state)
            self._overwrite = bool(state.get("overwrite"))
            self._restore(state)
            return
        if state is not None and not self.force:
            raise DataError(
                f"an interrupted run left a partial {self.output} "
                f"({state.get('rows_done', 0)} rows done): pass --resume to continue it "
                "or --force to start over"
            )
        if self.resume:
            logger.warning("nothing to resume for %s; starting from the first row", self.output)
        if self.output.exists() and not self.force:
            raise DataError(f"{self.output} already exists; pass --force to replace it")
        self._clear()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt.kind == "parquet":
            self.parts.mkdir()
            offset = 0
        else:
            self._handle = open(self.partial, "wb")  # noqa: SIM115 - closed in finish/close
            header = self._formatter.header()
            if header and self.fmt.gzip:
                header = gzip_member(header)
            self._handle.write(header)
            offset = len(header)
        self._mark = (offset, 0, 0, self.counters.to_dict())
        self.checkpoint(force=True)

    def _check_job(self, state: dict[str, Any]) -> None:
        refuse_changed_job(self.output, state.get("job", {}), self.job)

    def _restore(self, state: dict[str, Any]) -> None:
        offset, rows, chunks = (
            int(state["offset"]),
            int(state["rows_done"]),
            int(state["chunks_done"]),
        )
        self.counters = Counters.from_dict(state.get("counters", {}))
        self.resumed_rows = rows
        self._mark = (offset, rows, chunks, self.counters.to_dict())
        if state.get("phase") == "finishing":
            self._phase = "finishing"
            self.finished = True  # everything was written; only the move into place may be missing
            return
        if self.fmt.kind == "parquet":
            if not self.parts.is_dir():
                raise DataError(f"cannot resume: {self.parts} is missing; start over with --force")
            for path in self.parts.iterdir():
                if not _is_committed_part(path, chunks):
                    path.unlink()
            logger.info("resuming %s after %d rows (%d parts)", self.output, rows, chunks)
            return
        if not self.partial.is_file() or self.partial.stat().st_size < offset:
            raise DataError(
                f"cannot resume: {self.partial} is missing or shorter than its checkpoint; "
                "start over with --force"
            )
        self._handle = open(self.partial, "r+b")  # noqa: SIM115 - closed in finish/close
        self._handle.truncate(offset)
        self._handle.seek(offset)
        logger.info("resuming %s after %d rows (%d bytes)", self.output, rows, offset)

    def _clear(self) -> None:
        self.partial.unlink(missing_ok=True)
        shutil.rmtree(self.parts, ignore_errors=True)
        self.state_path.unlink(missing_ok=True)

    # -- writing -----------------------------------------------------------------------------
    def write(self, chunk: Chunk, result: TagResult) -> None:
        """Append one tagged chunk; checkpoint when enough time has passed since the last one."""
        if self.fmt.kind == "parquet":
            payload: bytes | pa.Table = arrow_table(
                chunk, result, self.columns, clusters=self.clusters
            )
        else:
            payload = self._formatter.format(chunk, result)
        counters = Counters()
        counters.add(result)
        self.append(payload, len(chunk), counters)

    def append(self, payload: bytes | pa.Table, rows: int, counters: Counters) -> None:
        """Append ``rows`` rows already formatted (CSV/JSONL bytes, uncompressed, or a table).

        The Dask engine's workers format their partitions with the same formatters, so the
        client only appends them here, in input order.
        """
        offset, done, chunks, _ = self._mark
        if self.fmt.kind == "parquet":
            assert isinstance(payload, pa.Table)
            final = self.parts / _part_name(chunks)
            staging = final.with_suffix(".tmp")
            pq.write_table(payload, staging)
            os.replace(staging, final)
        else:
            assert isinstance(payload, bytes)
            data = gzip_member(payload) if self.fmt.gzip and payload else payload
            self._handle.write(data)
            offset += len(data)
        self.counters.merge(counters)
        self._mark = (offset, done + rows, chunks + 1, self.counters.to_dict())
        self.checkpoint()

    def checkpoint(self, *, force: bool = False, phase: str | None = None) -> None:
        """Make the written data durable, then record how much of it there is."""
        if phase is not None:
            self._phase = phase
        phase = self._phase
        now = time.monotonic()
        if not force and now - self._last_checkpoint < self.checkpoint_seconds:
            return
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
        elif self.fmt.kind == "parquet" and self.parts.is_dir():
            for index in range(self._parts_synced, self._mark[2]):
                fsync_file(self.parts / _part_name(index))
            fsync_dir(self.parts)
        offset, rows, chunks, counters = self._mark
        state = {
            "format": STATE_FORMAT,
            "job": self.job,
            "overwrite": self._overwrite,
            "phase": phase,
            "offset": offset,
            "rows_done": rows,
            "chunks_done": chunks,
            "counters": counters,
            "columns": self.columns,
        }
        write_atomic(self.state_path, json.dumps(state, indent=1).encode("utf-8"))
        self._parts_synced = chunks
        self._last_checkpoint = now

    # -- finishing ---------------------------------------------------------------------------
    def finish(self, empty: Chunk, empty_result: TagResult) -> None:
        """Move the complete output into place and remove the partial files and the state."""
        if not self.finished:
            self.checkpoint(force=True, phase="finishing")
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self.output.is_dir():
            raise DataError(f"{self.output} is a directory; choose a file name for the output")
        if self.fmt.kind == "parquet" and self.parts.is_dir():
            self._merge_parts(empty, empty_result)
        if self.partial.is_file():
            os.replace(self.partial, self.output)
            fsync_dir(self.output.parent)
        elif not self.output.is_file():
            raise DataError(f"cannot finish: neither {self.partial} nor {self.output} exists")
        shutil.rmtree(self.parts, ignore_errors=True)
        self.state_path.unlink(missing_ok=True)
        self.finished = True

    def _merge_parts(self, empty: Chunk, empty_result: TagResult) -> None:
        """One Parquet file from the per-chunk parts, in order, in row groups of ~64k rows."""
        count = self._mark[2]
        writer = None
        pending: list[pa.Table] = []
        pending_rows = 0
        schema = None
        try:
            for index in range(count):
                table = pq.read_table(self.parts / _part_name(index))
                if schema is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(self.partial, schema)
                pending.append(table.cast(schema) if table.schema != schema else table)
                pending_rows += table.num_rows
                if pending_rows >= MERGE_ROWS:
                    writer.write_table(pa.concat_tables(pending), row_group_size=MERGE_ROWS * 2)
                    pending, pending_rows = [], 0
            if writer is None:
                table = arrow_table(empty, empty_result, self.columns, clusters=self.clusters)
                writer = pq.ParquetWriter(self.partial, table.schema)
                writer.write_table(table)
            elif pending:
                writer.write_table(pa.concat_tables(pending), row_group_size=MERGE_ROWS * 2)
        finally:
            if writer is not None:
                writer.close()
        fsync_file(self.partial)

    def close(self) -> None:
        """Leave the partial output resumable: record what is on disk and close the file."""
        if self.finished:
            return
        try:
            self.checkpoint(force=True)
        except OSError as exc:  # e.g. the disk is full; the previous checkpoint still holds
            logger.warning("could not save a final checkpoint: %s", exc)
        finally:
            if self._handle is not None:
                with contextlib.suppress(OSError):
                    self._handle.close()
                self._handle = None


def _part_name(index: int) -> str:
    return f"part-{index:08d}.parquet"


def _is_committed_part(path: Path, chunks_done: int) -> bool:
    name = path.name
    if not (name.startswith("part-") and name.endswith(".parquet")):
        return False
    try:
        return int(name[5:-8]) < chunks_done
    except ValueError:
        return False
