"""Parquet archives, read by row groups with their column types kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from classifier.errors import DataError
from classifier.readers.base import Reader, check_typed_input
from classifier.readers.chunks import Chunk, rename_clashes


class ParquetReader(Reader):
    """A Parquet file, read by row groups; its column types are kept."""

    def __init__(self, *args: Any, **read: Any):  # Reader's arguments
        super().__init__(*args, **read)
        path, text_column, reserved = self.path, self.text_column, self.reserved
        check_typed_input(path, self.encoding_given, self.header)
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{path}: not a readable Parquet file: {exc}") from exc
        names = self._file.schema_arrow.names
        if text_column not in names:
            raise DataError(
                f"{path}: no {text_column!r} column; found {', '.join(names)} "
                "(choose one with --text-column)"
            )
        self.renames = rename_clashes(names, reserved)
        self.columns = [self.renames.get(c, c) for c in names]
        self.total_rows = self._file.metadata.num_rows
        self._done = 0

    def chunks(self, size: int, skip: int = 0) -> Iterator[Chunk]:
        metadata = self._file.metadata
        first_group, offset = 0, 0
        while (
            first_group < metadata.num_row_groups
            and offset + metadata.row_group(first_group).num_rows <= skip
        ):
            offset += metadata.row_group(first_group).num_rows
            first_group += 1
        start = skip
        drop = skip - offset
        groups = list(range(first_group, metadata.num_row_groups))
        if not groups:
            return
        try:
            for batch in self._file.iter_batches(batch_size=size, row_groups=groups):
                table = pa.Table.from_batches([batch])
                if drop:
                    cut = min(drop, table.num_rows)
                    table, drop = table.slice(cut), drop - cut
                    if not table.num_rows:
                        continue
                texts = table.column(self.text_column).to_pylist()
                table = table.rename_columns(self.columns)
                self._done = start + table.num_rows
                yield Chunk(start, texts, [None] * len(texts), table=table)
                start += table.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise DataError(
                f"{self.path}: the file is damaged ({exc}); reading stopped after row {start:,}"
            ) from exc

    def empty_chunk(self) -> Chunk:
        return Chunk.empty(self._file.schema_arrow, self.columns)

    def fraction_done(self) -> float | None:
        return self._done / self.total_rows if self.total_rows else None

    def close(self) -> None:
        self._file.close()
