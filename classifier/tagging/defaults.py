"""The tagger's sizes, in one place that imports nothing: the CLI shows them in ``--help``."""

from __future__ import annotations

DEFAULT_CHUNK_SIZE = 2048  # rows read, tagged and written at a time by the local engine
DEFAULT_MEMO_SIZE = 1_000_000  # distinct headlines remembered per run (~120 bytes each)
DEFAULT_CLUSTER_SAMPLE = 5000  # distinct headlines a --clusters run fits its clusterer on
DEFAULT_BLOCKSIZE = 8 << 20  # bytes of CSV per Dask partition (~80,000 headlines)
