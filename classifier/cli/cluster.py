"""``headline-topics cluster``: group a file of headlines into stories or themes.

Reads CSV/TSV/JSONL (a headline column) or plain text (one headline per line; ``-`` for stdin),
prints the clusters as a table or JSON, and optionally writes every headline's cluster id
(``--out``) and a 2-D map (``--plot``). Rows that cannot be clustered (blank, not text, broken
JSON) are listed with their row number, never dropped in silence.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier import cli
from classifier.clustering.cluster import LEVELS, HeadlineClusterer, describe
from classifier.topics.data import DataError, Problem, iter_records

logger = logging.getLogger(__name__)

RECORD_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json")
OUT_SUFFIXES = (".csv", ".jsonl", ".json")
TABLE_CLUSTERS = 20


@dataclass
class Headlines:
    """Usable headlines with their row numbers in the file, and the rows that were not usable."""

    texts: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_headlines(
    source: str, *, text_column: str = "headline", encoding: str = "utf-8-sig"
) -> Headlines:
    """Headlines from a CSV/TSV/JSONL file, or one per line from any other file or stdin."""
    out = Headlines()
    path = Path(source)
    if source != "-" and path.suffix.lower() in RECORD_SUFFIXES:
        for number, record in iter_records(path, encoding=encoding, required=(text_column,)):
            if isinstance(record, Problem):
                out.problems.append(record)
                continue
            _keep(out, source, number, record.get(text_column), text_column)
        return out
    if source == "-":
        raw = sys.stdin.buffer.read()
    else:
        if not path.is_file():
            raise DataError(f"{source}: no such file")
        raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{source}: not valid {encoding} text (byte {exc.start}); "
            "save it as UTF-8 or pass --encoding with the file's encoding"
        ) from exc
    except LookupError as exc:
        raise DataError(f"unknown encoding {encoding!r}") from exc
    for number, line in enumerate(io.StringIO(text, newline=None), start=1):
        _keep(out, source, number, line.rstrip("\r\n"), "line")
    return out


def _keep(out: Headlines, source: str, number: int, value: object, what: str) -> None:
    if not isinstance(value, str):
        out.problems.append(Problem(source, number, f"{what} is not text"))
    elif not value.strip():
        out.problems.append(Problem(source, number, f"empty {what}"))
    else:
        out.texts.append(" ".join(value.split()))
        out.rows.append(number)


def check_writable(path: str | None, force: bool, what: str) -> Path | None:
    """Refuse to overwrite without --force, and fail before the slow work, not after it."""
    if path is None:
        return None
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder; give a file name")
    if target.exists() and not force:
        raise FileExistsError(f"{what} {path} already exists; pass --force to overwrite it")
    if not target.parent.exists():
        raise FileNotFoundError(f"{what} {path}: folder {target.parent} does not exist")
    return target


def write_atomic(target: Path, write: Callable[[Any], None], *, binary: bool = False) -> None:
    """Write to a temporary file beside ``target`` and rename it into place."""
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        mode = "wb" if binary else "w"
        kwargs = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(handle, mode, **kwargs) as stream:
            write(stream)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_resources(args: argparse.Namespace):
    """The encoder and, unless --no-topics, the topic model whose shares describe clusters."""
    if args.no_topics:
        return cli._embedder(args), None
    model = cli._load_model(args)
    return model.embedder, model


def cmd_cluster(args: argparse.Namespace) -> int:
    out_path = check_writable(args.out, args.force, "--out")
    plot_path = check_writable(args.plot, args.force, "--plot")
    if out_path is not None and out_path.suffix.lower() not in OUT_SUFFIXES:
        raise ValueError(f"--out must end in {', '.join(OUT_SUFFIXES)}; got {args.out}")
    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise ValueError(f"--plot must be a .png file; got {args.plot}")
    if out_path is not None and plot_path is not None and out_path.resolve() == plot_path.resolve():
        raise ValueError("--out and --plot must be different files")
    params: dict[str, Any] = {"level": args.level}
    if args.threshold is not None and args.level != "stories":
        raise ValueError("--threshold applies to --level stories only")
    if args.top < 0:
        raise ValueError(f"--top must be 0 or more; got {args.top}")
    if args.threshold is not None:
        params["distance_threshold"] = args.threshold
    if args.min_cluster_size is not None:
        params["min_cluster_size"] = args.min_cluster_size
    HeadlineClusterer(**params).validate_params()  # bad settings fail before any encoding

    data = read_headlines(args.input, text_column=args.text_column, encoding=args.encoding)
    for problem in data.problems[:5]:
        logger.warning("skipped %s", problem)
    if len(data.problems) > 5:
        logger.warning("... and %d more unusable rows", len(data.problems) - 5)
    if not data.texts:
        raise DataError(
            f"{args.input}: no headlines to cluster ({len(data.problems)} unusable rows)"
        )
    embedder, model = load_resources(args)
    logger.info("embedding %d headlines", len(data.texts))
    embeddings = embedder.encode(data.texts)
    topics = None
    if model is not None:
        predictions = model.predict(data.texts, embeddings=embeddings)
        topics = [p.topic for p in predictions]
    clusterer = HeadlineClusterer(**params).fit(embeddings, data.texts, topics=topics)
    result = describe(clusterer, model=model)
    result["input"] = args.input
    result["skipped"] = [{"row": p.row, "reason": p.reason} for p in data.problems]

    if out_path is not None:
        _write_assignments(out_path, result, data, topics)
    if plot_path is not None:
        from classifier.clustering.plot import plot_clusters

        plot_clusters(
            embeddings,
            clusterer.labels_,
            clusterer.clusters_,
            plot_path,
            title=f"{args.input}: {clusterer.n_clusters_} {args.level}",
        )
    if args.json:
        cli._emit(json.dumps(result, ensure_ascii=False))
    else:
        _print_table(result, args.top)
        if out_path is not None:
            cli._emit(f"cluster of every headline written to {out_path}")
        if plot_path is not None:
            cli._emit(f"map drawn to {plot_path}")
    return 0


def _write_assignments(
    path: Path, result: dict[str, Any], data: Headlines, topics: list[str] | None
) -> None:
    suffix = path.suffix.lower()
    if suffix == ".json":
        write_atomic(path, lambda f: f.write(json.dumps(result, ensure_ascii=False, indent=1)))
        return
    rows = []
    for i, (row, text) in enumerate(zip(data.rows, data.texts, strict=True)):
        entry: dict[str, Any] = {"row": row, "headline": text, "cluster": result["labels"][i]}
        if topics is not None:
            entry["topic"] = topics[i]
        rows.append(entry)
    for problem in data.problems:  # unusable rows stay visible in the output, with the reason
        rows.append(
            {"row": problem.row, "headline": None, "cluster": None, "error": problem.reason}
        )
    rows.sort(key=lambda r: r["row"])
    if suffix == ".jsonl":
        write_atomic(
            path, lambda f: f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        )
        return
    columns = ["row", "headline", "cluster"] + (["topic"] if topics is not None else [])
    columns.append("error")

    def write_csv(stream) -> None:
        writer = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)

    write_atomic(path, write_csv)


def _print_table(result: dict[str, Any], top: int) -> None:
    clusters = result["clusters"]
    model = f", topics from model {result['model']}" if result["model"] else ""
    cli._emit(
        f"{result['level']}: {result['n_clusters']} clusters in {result['n_headlines']} headlines, "
        f"{result['n_unclustered']} unclustered{model}"
    )
    if result["skipped"]:
        first = result["skipped"][0]
        cli._emit(
            f"skipped {len(result['skipped'])} unusable row(s), e.g. row {first['row']}: {first['reason']}"
        )
    if result["sampled"]:
        cli._emit(
            f"clustered a sample of {result['params']['sample_size']}; the rest were assigned to "
            "the nearest cluster"
        )
    for cluster in clusters[:top]:
        topic = ""
        if "top_topic" in cluster:
            topic = f"  mostly {cluster['top_topic']} ({cluster['topic_shares'][cluster['top_topic']]:.0%})"
        keywords = ", ".join(cluster["keywords"]) or "(no keywords)"
        cli._emit(f"\n#{cluster['id']}  {cluster['size']} headlines{topic}\n  {keywords}")
        for headline in cluster["representative_headlines"]:
            cli._emit(f"    - {headline}")
    if len(clusters) > top:
        cli._emit(f"\n... and {len(clusters) - top} more clusters (see --json or --out)")


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    command = add(
        "cluster",
        cmd_cluster,
        "group headlines into stories (same event) or themes (broad subject), named by keywords",
    )
    command.add_argument(
        "input",
        help="CSV/TSV/JSONL with a headline column, or a text file with one headline per line "
        "('-' reads stdin)",
    )
    command.add_argument("--level", choices=LEVELS, default="stories", help="default: stories")
    command.add_argument("--json", action="store_true", help="print one JSON object")
    command.add_argument(
        "--out", help="write each headline's cluster id: .csv, .jsonl, or .json (whole result)"
    )
    command.add_argument("--plot", help="draw a 2-D map of the clusters to this .png")
    command.add_argument("--force", action="store_true", help="overwrite --out/--plot files")
    command.add_argument(
        "--text-column", default="headline", help="CSV/JSONL column (default: headline)"
    )
    command.add_argument("--model", help="topic model version (default: current)")
    command.add_argument(
        "--no-topics",
        action="store_true",
        help="do not run the classifier: clusters without topic shares",
    )
    command.add_argument(
        "--threshold",
        type=float,
        help="stories: largest average cosine distance inside a story (default 0.5)",
    )
    command.add_argument(
        "--min-cluster-size",
        type=int,
        help="smaller groups are unclustered (default 2 for stories, 5 for themes)",
    )
    command.add_argument(
        "--top",
        type=int,
        default=TABLE_CLUSTERS,
        help=f"clusters shown in the table (default {TABLE_CLUSTERS})",
    )
    command.add_argument("--encoding", default="utf-8-sig", help="text encoding of INPUT")
