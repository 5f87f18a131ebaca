"""``headline-topics tag INPUT OUTPUT``: label every row of an archive, resumably, with a progress bar.

The engines are :func:`classifier.tagging.tagger.tag_file` (local) and
:func:`classifier.tagging.dask.tag_dask`; this module checks the options and the paths
before the model loads, picks the model and backend (an interrupted run keeps its own), and
prints the summary they return. The engines, pandas and the model load only when a run starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from classifier import config
from classifier.cli import _util
from classifier.clustering.levels import LEVELS, STORIES
from classifier.encoders.base import DEFAULT_BATCH_SIZE
from classifier.errors import DataError
from classifier.tagging.defaults import (
    DEFAULT_BLOCKSIZE,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CLUSTER_SAMPLE,
    DEFAULT_MEMO_SIZE,
)

if TYPE_CHECKING:
    from classifier.tagging.run import TagSummary
    from classifier.topics.store import ModelStore

# resume, force and progress: (rows done so far, rows in all or None until known) -> None
Common = dict[str, bool | Callable[[int, int | None], None]]


def register(add: _util.AddCommand) -> None:
    tag = add(
        "tag",
        cmd_tag,
        "label every row of a CSV, JSONL or Parquet archive (gzip CSV/JSONL too), streaming "
        "and resumable; the output format follows OUTPUT's extension",
    )
    tag.add_argument("input", help="archive to tag: .csv .tsv .jsonl .ndjson (.gz) or .parquet")
    tag.add_argument(
        "output",
        help="file to write (.csv/.tsv/.jsonl/.ndjson, optionally .gz, or .parquet); with "
        "--engine dask a name without extension is a folder of Parquet parts",
    )
    tag.add_argument(
        "--text-column",
        default="headline",
        help="column holding the headline (default headline; with --no-header, its number)",
    )
    _util.add_input_options(tag, what="INPUT")
    tag.add_argument("--model", help="model version (default: current; on --resume: the run's)")
    _util.add_uncertain_below(tag)
    tag.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"headlines per encoder batch (default {DEFAULT_BATCH_SIZE})",
    )
    tag.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK_SIZE,
        help=f"rows read, tagged and written at a time (default {DEFAULT_CHUNK_SIZE})",
    )
    tag.add_argument(
        "--cache",
        metavar="DIR",
        help="keep embeddings in DIR (keyed by encoder and text) so later runs skip the encoder",
    )
    tag.add_argument(
        "--resume", action="store_true", help="continue an interrupted run writing OUTPUT"
    )
    tag.add_argument(
        "--force", action="store_true", help="replace OUTPUT / discard an interrupted run"
    )
    tag.add_argument(
        "--clusters",
        nargs="?",
        const=STORIES,
        choices=LEVELS,
        help="stories (default): track every row, in file order, into stories that can begin "
        "anywhere (columns story, wire_group, wire_count); themes: fit themes on a sample of "
        "the archive and give every row its cluster (-1: none); local engine",
    )
    tag.add_argument(
        "--cluster-sample",
        type=int,
        default=DEFAULT_CLUSTER_SAMPLE,
        metavar="N",
        help=f"themes: distinct headlines to fit them on (default {DEFAULT_CLUSTER_SAMPLE:,})",
    )
    _util.add_story_options(tag)
    tag.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local: this process; dask: the workers of --scheduler (default local)",
    )
    tag.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    tag.add_argument(
        "--blocksize",
        type=int,
        default=DEFAULT_BLOCKSIZE,
        help="dask engine: bytes of CSV/JSONL per partition, cut where a record ends (default 8 MiB)",
    )
    tag.add_argument(
        "--checkpoint-every",
        type=_util.non_negative_number,
        default=1.0,
        metavar="SECONDS",
        help="local engine: save a resume point at most this often (default 1; 0: every chunk)",
    )
    tag.add_argument(
        "--memo-size",
        type=int,
        default=DEFAULT_MEMO_SIZE,
        help=f"distinct headlines remembered per run (default {DEFAULT_MEMO_SIZE:,})",
    )
    _util.add_progress_option(tag)
    tag.add_argument(
        "--encoder-threads",
        type=int,
        metavar="N",
        help="encoder CPU threads per process (default: every core; with the dask engine and "
        "several worker processes per machine, pass cores // processes)",
    )
    tag.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def _saved_job(args: argparse.Namespace) -> dict:
    """The interrupted run's job (model, encoder...) when resuming; empty otherwise."""
    if not args.resume:
        return {}
    from classifier.tagging.paths import read_folder_job, read_state

    if args.engine == "local" or _single_file(args):
        state = read_state(args.output)
        return state.get("job", {}) if state else {}
    return read_folder_job(args.output)


def _single_file(args: argparse.Namespace) -> bool:
    from classifier.tagging.paths import is_partitioned_output

    return not is_partitioned_output(Path(args.output))


def _check_early(args: argparse.Namespace) -> None:
    """Catch wrong paths and names before spending seconds loading the model (under the lock:
    another run's partial output is not an interrupted run's)."""
    from classifier.readers.formats import detect_format
    from classifier.readers.urls import is_url
    from classifier.tagging.paths import partial_paths
    from classifier.tagging.run import check_paths

    if is_url(args.input) or is_url(args.output):
        if args.engine != "dask":
            raise DataError(
                "s3:// and other URLs are for --engine dask; with the local engine, copy the "
                "archive to a local file first"
            )
        check_paths(args.input, args.output)
        return
    input_path, output = Path(args.input), Path(args.output)
    if not input_path.is_dir():
        detect_format(input_path)
    folder = args.engine == "dask" and not _single_file(args)
    if not folder:
        detect_format(output)
    run = partial_paths(output)
    interrupted = run.state.exists() or run.parts.exists()
    if output.exists() and not (args.force or (args.resume and interrupted)):
        raise DataError(f"{output} already exists; pass --force to replace it")


def _check_resume(args: argparse.Namespace, job: dict) -> None:
    """Refuse a --resume whose options differ from the interrupted run's before any work (the
    model load, the cluster fit), not when the output is opened; the rest is checked then."""
    from classifier.tagging.run import input_identity, refuse_changed_job

    if not job:
        return
    now = {
        **input_identity(args.input),
        "text_column": args.text_column,
        "clusters": _clusters_job(args),
    }
    refuse_changed_job(Path(args.output), job, now, [key for key in now if key in job])


def _clusters_job(args: argparse.Namespace) -> str | None:
    """What the job records for --clusters (as the engine does), to compare on --resume."""
    from classifier.tagging.run import clusters_id

    if args.stories is not None:
        return args.stories.job_id()
    return clusters_id(args.clusters, args.cluster_sample) if args.clusters else None


def cmd_tag(args: argparse.Namespace) -> int:
    from classifier.readers.decoding import text_encoding
    from classifier.readers.urls import is_url
    from classifier.tagging.lock import output_lock
    from classifier.tagging.run import check_paths

    _util.require_at_least_one(
        args,
        "batch_size",
        "chunk_size",
        "memo_size",
        "blocksize",
        "cluster_sample",
        "encoder_threads",
    )
    if args.cluster_sample < 2:
        raise ValueError(
            f"--cluster-sample must be at least 2 (a fit needs two headlines), not {args.cluster_sample}"
        )
    if args.resume and args.force:
        raise ValueError("--resume and --force contradict each other: pick one")
    if args.engine == "local" and args.scheduler:
        raise ValueError("--scheduler is for --engine dask")
    if args.engine == "dask" and args.clusters:
        raise ValueError(
            "--clusters works with the local engine only: it fits one clusterer on a sample of "
            "the whole archive before the first row is tagged, which the dask engine does not do "
            "yet; run it with --engine local (or tag on dask, then run `cluster` on the output)"
        )
    args.stories = _util.story_options(args)
    args.max_chars = _util.max_headline_chars(args)
    text_encoding(args.encoding)  # an unknown encoding is refused before the model loads
    if is_url(args.output):  # object storage has no folders to check and no flock
        return _tag(args)
    if not is_url(args.input):
        check_paths(Path(args.input), Path(args.output))
    _util.require_output_folder(args.output, "OUTPUT")
    with output_lock(args.output):
        return _tag(args)


def _tag(args: argparse.Namespace) -> int:
    """The run, once it holds the output's lock."""
    from classifier.encoders import backend_for
    from classifier.tagging.paths import partial_paths, read_state

    _check_early(args)
    if args.stories is not None:  # a state that would be replaced: refused before the model loads
        args.stories.check(Path(args.output), force=args.force, resume=args.resume)
    job = _saved_job(args)
    _check_resume(args, job)
    store = _util.store_from(args)
    # --model, else the interrupted run's model when resuming, else the current one
    version = store.resolve(args.model or job.get("model"))
    manifest = store.read_manifest(version)
    encoder = args.encoder or config.encoder_path() or manifest["embedding"].get("path")
    # a resumed run keeps its backend: another one would label the rest a little differently
    saved_backend = str(job.get("encoder", "")).partition(":")[0] or None
    args.backend = backend_for(manifest, args.backend or saved_backend)
    bar = _util.ProgressBar(args.progress, desc="tagging", unit=" rows")
    # what both engines take alike: how to treat an earlier run, and whom to tell the progress
    common = {"resume": args.resume, "force": args.force, "progress": bar.update}
    try:
        if args.engine == "dask":
            summary = _run_dask(args, store, version, encoder, common)
        else:
            summary = _run_local(args, store, version, manifest, common)
    except KeyboardInterrupt:
        bar.close()
        state = None if "://" in args.output else read_state(args.output)
        done = state.get("rows_done", 0) if state else 0
        _util.tell(
            f"interrupted: {done:,} rows are saved; run the same command with --resume to continue"
        )
        return 130
    except OSError as exc:
        bar.close()
        if "://" not in args.output and partial_paths(Path(args.output)).state.exists():
            raise OSError(
                f"{exc}; the rows written so far are kept: fix the cause and run again with --resume"
            ) from exc
        raise
    bar.close()
    if args.json:
        _util.emit_json(summary.to_dict())
    else:
        _util.emit("\n".join(summary.lines()))
    return 0


def _run_local(
    args: argparse.Namespace, store: ModelStore, version: str, manifest: dict, common: Common
) -> TagSummary:
    from classifier.tagging import open_cache, tag_file

    # the path: --encoder, else $HEADLINE_TOPICS_ENCODER, else the manifest's, as in cmd_tag
    embedder = _util.model_encoder(
        manifest,
        args,
        store.root,
        batch_size=args.batch_size,
        threads=config.encoder_threads(1, args.encoder_threads),
    )
    model = store.load(version, embedder=embedder)
    cache = open_cache(args.cache, model)
    if args.stories is not None and not args.json:
        by = f"by {args.time_column}" if args.time_column else "in file order"
        _util.tell(f"stories: tracking every row {by} (state: see docs/tagging.md#stories)")
    elif args.clusters and not args.json:
        _util.tell(
            f"clusters: sampling up to {args.cluster_sample:,} distinct headlines, embedding them "
            f"and fitting {args.clusters} before tagging"
        )
    try:
        summary = tag_file(
            args.input,
            args.output,
            model,
            text_column=args.text_column,
            chunk_size=args.chunk_size,
            cache=cache,
            clusters=args.clusters,
            cluster_sample=args.cluster_sample,
            checkpoint_seconds=args.checkpoint_every,
            memo_size=args.memo_size,
            encode_batch_size=args.batch_size,
            encoding=args.encoding,
            header=not args.no_header,
            max_chars=args.max_chars,
            uncertain_below=args.uncertain_below,
            stories=args.stories,
            **common,
        )
        if args.stories is not None and not args.json:
            state = args.stories.state_path(Path(args.output))
            _util.tell(f"stories: state saved to {state} (a later file: --stories-from {state})")
        return summary
    finally:
        if cache is not None:
            cache.close()


def _run_dask(
    args: argparse.Namespace,
    store: ModelStore,
    version: str,
    encoder: str | None,
    common: Common,
) -> TagSummary:
    try:
        from classifier.tagging.dask import ModelSpec, tag_dask
    except ImportError as exc:  # pragma: no cover - dask is an optional extra
        raise DataError(
            f"the dask engine needs dask and distributed: pip install 'headline-topics[dask]' ({exc})"
        ) from exc
    if not args.scheduler:
        raise ValueError("--engine dask needs --scheduler tcp://HOST:PORT (see dask-scheduler)")
    spec = ModelSpec(
        models_dir=str(store.root.resolve()),
        version=version,
        encoder=str(encoder) if encoder else None,
        backend=args.backend,
        threads=args.encoder_threads,
        text_column=args.text_column,
        cache_dir=str(Path(args.cache).resolve()) if args.cache else None,
        memo_size=args.memo_size,
        encode_batch_size=args.batch_size,
        max_chars=args.max_chars,
        uncertain_below=args.uncertain_below,
    )
    return tag_dask(
        args.input,
        args.output,
        spec,
        scheduler=args.scheduler,
        blocksize=args.blocksize,
        encoding=args.encoding,
        header=not args.no_header,
        **common,
    )
