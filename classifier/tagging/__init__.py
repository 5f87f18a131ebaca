"""Batch tagging of archives: every row of a CSV, JSONL or Parquet file, streaming and resumable.

Layers, each importing only those below it (the readers come from :mod:`classifier.readers`)::

    defaults.py   the sizes (chunk, memo, cluster sample, Dask block); imports nothing
    results.py    the tag columns and TagResult, what the tagger adds to each row
    paths.py      where a run keeps its partial output and resume state
    run.py        what every run shares: the job (for --resume), Counters, TagSummary
    writers.py    one tagged chunk as CSV/JSONL bytes or an Arrow table
    output.py     OutputTarget: the checkpointed output, moved into place at the end
    tagger.py     Tagger: labels chunks, embedding each distinct headline once
    clusters.py   --clusters themes: fit on a sample of the archive, assign every row
    stories.py    --clusters stories: track every row into stories in file order, save the state
    local.py      tag_file, the local engine
    dask/         the Dask engine, an optional extra (``pip install 'headline-topics[dask]'``)

The public names load on first use (PEP 562), so the command can read the defaults and check
for an interrupted run without importing numpy, pyarrow or the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from classifier._lazy import lazy_attributes

_PUBLIC = {
    "DEFAULT_BLOCKSIZE": "classifier.tagging.defaults",
    "DEFAULT_CHUNK_SIZE": "classifier.tagging.defaults",
    "DEFAULT_CLUSTER_SAMPLE": "classifier.tagging.defaults",
    "DEFAULT_MEMO_SIZE": "classifier.tagging.defaults",
    "Counters": "classifier.tagging.run",
    "TagSummary": "classifier.tagging.run",
    "Tagger": "classifier.tagging.tagger",
    "normalise_headline": "classifier.tagging.tagger",
    "open_cache": "classifier.tagging.tagger",
    "sample_headlines": "classifier.tagging.clusters",
    "tag_file": "classifier.tagging.local",
}

__all__ = [
    "DEFAULT_BLOCKSIZE",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_CLUSTER_SAMPLE",
    "DEFAULT_MEMO_SIZE",
    "Counters",
    "TagSummary",
    "Tagger",
    "normalise_headline",
    "open_cache",
    "sample_headlines",
    "tag_file",
]

if TYPE_CHECKING:
    from classifier.tagging.clusters import sample_headlines
    from classifier.tagging.defaults import (
        DEFAULT_BLOCKSIZE,
        DEFAULT_CHUNK_SIZE,
        DEFAULT_CLUSTER_SAMPLE,
        DEFAULT_MEMO_SIZE,
    )
    from classifier.tagging.local import tag_file
    from classifier.tagging.run import Counters, TagSummary
    from classifier.tagging.tagger import Tagger, normalise_headline, open_cache


__getattr__, __dir__ = lazy_attributes(__name__, _PUBLIC)
