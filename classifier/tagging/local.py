"""The local engine: tag a whole archive in this process, chunk by chunk, resumably.

One process reads the input chunk by chunk, tags each chunk with a :class:`Tagger` and appends
it to a checkpointed temporary output (:class:`OutputTarget`), so memory stays flat whatever
the archive's size and an interrupted run can be resumed. The Dask engine
(:mod:`classifier.tagging.dask`) runs the same tagger on the partitions of a cluster.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from classifier.config import DEFAULT_MAX_HEADLINE_CHARS, UNCERTAIN_BELOW
from classifier.encoders.cache import EmbeddingCache
from classifier.readers.formats import detect_format
from classifier.readers.stream import Reader, open_reader
from classifier.tagging.clusters import fit_clusters
from classifier.tagging.defaults import DEFAULT_CHUNK_SIZE, DEFAULT_CLUSTER_SAMPLE
from classifier.tagging.output import OutputTarget
from classifier.tagging.results import STORIES_KIND, output_columns
from classifier.tagging.run import (
    ProgressCallback,
    TagSummary,
    check_paths,
    clusters_id,
    make_job,
    reading_identity,
)
from classifier.tagging.stories import StoryOptions, StoryStep
from classifier.tagging.tagger import DEFAULT_MEMO_SIZE, ClusterAssigner, Tagger, encoder_id

if TYPE_CHECKING:
    from classifier.topics.model import TopicModel


def tag_file(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    model: TopicModel,
    *,
    text_column: str = "headline",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    cache: EmbeddingCache | None = None,
    clusters: str | None = None,
    cluster_sample: int = DEFAULT_CLUSTER_SAMPLE,
    assigner: ClusterAssigner | None = None,
    assigner_id: str | None = None,
    resume: bool = False,
    force: bool = False,
    checkpoint_seconds: float = 1.0,
    memo_size: int = DEFAULT_MEMO_SIZE,
    encode_batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    encoding: str | None = None,
    header: bool = True,
    max_chars: int = DEFAULT_MAX_HEADLINE_CHARS,
    uncertain_below: float = UNCERTAIN_BELOW,
    stories: StoryOptions | None = None,
) -> TagSummary:
    """Tag every row of ``input_path`` into ``output_path`` (format from its extension).

    Rows come out in input order, once each, with their original columns plus ``topic``,
    ``confidence``, ``topics``, ``uncertain`` (confidence under ``uncertain_below``), ``model``
    and ``tag_error``. With ``clusters`` (``"stories"`` or
    ``"themes"``) a clusterer is fitted on ``cluster_sample`` distinct headlines of the archive
    and every row gets the id it assigns (``-1``: none) in a ``cluster`` column; a pre-fitted
    ``assigner`` (with an ``assigner_id`` naming it for ``resume``) may be given instead.
    ``encoding`` and ``header`` say how to read a CSV/JSONL input (see ``open_reader``); a
    headline over ``max_chars`` characters is a skipped row, with the reason, never embedded.

    ``clusters="stories"`` tracks every row into stories in file order instead
    (:mod:`classifier.tagging.stories`, set up by ``stories``): the columns are ``story``,
    ``wire_group`` and ``wire_count``, and the tracker's state is saved beside the output.
    """
    if chunk_size < 1:
        raise ValueError("chunk size must be at least 1")
    if clusters is not None and assigner is not None:
        raise ValueError("pass clusters= or a fitted assigner=, not both")
    input_path, output_path = Path(input_path), Path(output_path)
    check_paths(input_path, output_path)
    out_fmt = detect_format(output_path)
    tracking = clusters == STORIES_KIND
    if tracking:
        stories = stories or StoryOptions()
        stories.check(output_path, force=force, resume=resume)
        assigner_id = stories.job_id()
    elif clusters is not None:
        assigner_id = clusters_id(clusters, cluster_sample)
    with_clusters = assigner is not None or clusters is not None
    kind = STORIES_KIND if tracking else with_clusters
    reserved = set(output_columns(kind))
    tagger = Tagger(
        model,
        text_column=text_column,
        cache=cache,
        assigner=assigner,
        memo_size=memo_size,
        encode_batch_size=encode_batch_size,
        max_chars=max_chars,
        uncertain_below=uncertain_below,
    )
    step = StoryStep(stories, tagger) if tracking and stories is not None else None
    tag = step.tag if step is not None else tagger.tag
    read = {"encoding": encoding, "header": header}
    job = make_job(
        input_path,
        text_column=text_column,
        model=tagger.version,
        encoder=encoder_id(model),
        clusters=assigner_id if with_clusters else None,
        output_format=out_fmt,
        engine="local",
        **reading_identity(encoding, header, max_chars, uncertain_below),
    )
    started = time.monotonic()
    with open_reader(input_path, text_column=text_column, reserved=reserved, **read) as reader:
        target = OutputTarget(
            output_path,
            out_fmt,
            job,
            columns=reader.columns,
            clusters=kind,
            resume=resume,
            force=force,
            checkpoint_seconds=checkpoint_seconds,
        )
        if step is not None:
            step.bind(reader.columns)
        target.begin()
        try:
            if clusters is not None and not tracking and not target.finished:
                fit_clusters(
                    tagger, input_path, text_column, level=clusters, size=cluster_sample, **read
                )
            if step is not None and target.rows_done and not target.finished:
                step.replay(input_path, target.rows_done, chunk_size, reserved, read)
            if not target.finished:
                for chunk in reader.chunks(chunk_size, skip=target.rows_done):
                    target.write(chunk, tag(chunk))
                    if progress is not None:
                        progress(target.rows_done, _estimate_total(reader, target.rows_done))
                if step is not None:  # saved before the output moves into place: see stories.py
                    step.save(output_path)
            empty = reader.empty_chunk()
            target.finish(empty, tag(empty))
        finally:
            target.close()
    return TagSummary.of_run(
        (input_path, output_path),
        tagger.version,
        "local",
        target.counters,
        started=started,
        resumed=target.resumed_rows,
        stats={**tagger.stats.to_dict(), **(step.stats() if step is not None else {})},
    )


def _estimate_total(reader: Reader, rows_done: int) -> int | None:
    """The archive's row count: exact for Parquet, else extrapolated from the bytes read."""
    if reader.total_rows is not None:
        return reader.total_rows
    fraction = reader.fraction_done()
    if not fraction or rows_done == 0:
        return None
    return max(rows_done, int(round(rows_done / fraction)))
