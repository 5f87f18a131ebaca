"""The Dask engine of ``headline-topics tag``: the same tagging, spread over a cluster.

The input is split into partitions: byte ranges of a CSV or JSONL file (gzip too) that start
and end where a record really ends, found by the local reader's own parser, or the row groups of
a Parquet file (:mod:`.partitions`), so every row is read once and bad rows are kept and marked
exactly as in the local engine. Each worker process loads the model once, through a
per-process cache that a worker plugin fills at start-up, and tags partition after partition
with the same ``Tagger`` as the local engine (:mod:`.worker`).

Output is either one file (:mod:`.engine`: the client writes partitions in input order through
the same checkpointed ``OutputTarget``, so ``--resume`` works per partition) or, for an output
name with no extension, a folder of Parquet parts written by the workers themselves, one file
per partition, each renamed into place only when complete (:mod:`.folder`: a resumed run skips
the parts that exist). Workers need to see the input, the model folder and the output folder at
the same paths: run them on one machine or on a shared file system.

Dask is an optional extra. Importing this package checks that it is installed and says how to
install it otherwise, the way model2vec guards its optional sub-packages, so that the rest of
:mod:`classifier.tagging` never needs it.
"""

from __future__ import annotations

import importlib

EXTRA_MODULES = ("dask", "distributed")  # what pyproject's [dask] extra brings


def _require_extra() -> None:
    for name in EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ImportError(
                "the dask engine needs dask and distributed: "
                f"pip install 'headline-topics[dask]' ({exc})",
                name=name,
            ) from exc


_require_extra()

from classifier.tagging.dask.engine import tag_dask  # noqa: E402 - only once the extra is there
from classifier.tagging.dask.folder_parts import is_tag_output_folder  # noqa: E402
from classifier.tagging.dask.partitions import (  # noqa: E402
    Part,
    Plan,
    plan_partitions,
    read_part,
)
from classifier.tagging.dask.worker import LOADS, ModelSpec  # noqa: E402
from classifier.tagging.defaults import DEFAULT_BLOCKSIZE  # noqa: E402

__all__ = [
    "DEFAULT_BLOCKSIZE",
    "LOADS",
    "ModelSpec",
    "Part",
    "Plan",
    "is_tag_output_folder",
    "plan_partitions",
    "read_part",
    "tag_dask",
]
