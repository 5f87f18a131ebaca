"""``headline-topics cluster``: group a file of headlines into stories, themes or sections.

Reads CSV/TSV/JSONL (a headline column) or plain text (one headline per line; ``-`` for stdin),
prints the clusters as a table or JSON, and optionally writes every headline's cluster id
(``--out``; with themes and sections also its story, theme and section) and a 2-D map
(``--plot``). Rows that cannot be clustered (blank, not text, broken
JSON) are listed with their row number, never dropped in silence.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifier.cli import _util
from classifier.clustering.levels import DEFAULT_LEVEL, LEVELS, check_level_options
from classifier.errors import DataError
from classifier.files import would_overwrite, write_atomic
from classifier.readers.formats import is_record_file
from classifier.readers.records import Problem, iter_lines, iter_records
from classifier.text import headline_problem, spreadsheet_safe, too_long

if TYPE_CHECKING:
    from classifier.encoders.base import Encoder
    from classifier.topics.model import TopicModel

logger = logging.getLogger(__name__)

# the clusterer's parameters as this command's options name them, for shared error messages
CLI_NAMES = {"distance_threshold": "--threshold", "level": "--level"}

OUT_SUFFIXES = (".csv", ".jsonl", ".json")
# --out columns of the levels a themes or sections run also found, fine to broad
HIERARCHY_COLUMNS = {"stories": "story", "themes": "theme", "sections": "section"}
TABLE_CLUSTERS = 20


@dataclass
class Headlines:
    """Usable headlines with their row numbers in the file, and the rows that were not usable."""

    texts: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_headlines(
    source: str,
    *,
    text_column: str = "headline",
    encoding: str | None = "utf-8-sig",
    header: bool = True,
    max_chars: int | None = None,
) -> Headlines:
    """Headlines from a CSV/TSV/JSONL file, or one per line from any other file or stdin.

    A headline over ``max_chars`` characters is an unusable row, never normalised or embedded.
    """
    out = Headlines()
    if is_record_file(source):
        records = iter_records(source, encoding=encoding, required=(text_column,), header=header)
        for number, record in records:
            if isinstance(record, Problem):
                out.problems.append(record)
                continue
            _keep(out, source, number, record.get(text_column), text_column, max_chars)
        return out
    if not header:
        raise DataError(f"{source}: --no-header is for CSV and TSV files")
    for number, line in iter_lines(source, encoding=encoding):
        _keep(out, source, number, line, "line", max_chars)
    return out


def _keep(
    out: Headlines, source: str, number: int, value: object, what: str, max_chars: int | None
) -> None:
    problem = headline_problem(value, max_chars)
    if problem == "not text":
        out.problems.append(Problem(source, number, f"{what} is not text"))
    elif problem == "too long":
        length = len(value)  # type: ignore[arg-type]  # headline_problem found text
        out.problems.append(
            Problem(source, number, f"{what} too long: {too_long(length, max_chars or 0)}")
        )
    elif problem == "not UTF-8":
        out.problems.append(Problem(source, number, f"{what} is not valid UTF-8"))
    elif problem is not None:
        out.problems.append(Problem(source, number, f"empty {what}"))
    else:
        assert isinstance(value, str)
        out.texts.append(" ".join(value.split()))
        out.rows.append(number)


def load_resources(args: argparse.Namespace) -> tuple[Encoder, TopicModel | None]:
    """The encoder and, unless --no-topics, the topic model whose shares describe clusters."""
    if args.no_topics:
        return _util.new_encoder(args), None
    model = _util.load_model(args)
    return model.embedder, model


def check_options(args: argparse.Namespace) -> tuple[dict[str, Any], Path | None, Path | None]:
    """The clusterer's parameters and the --out/--plot targets, all checked before slow work."""
    from classifier.clustering.estimator import HeadlineClusterer

    out_path = _util.check_writable(args.out, args.force, "--out")
    plot_path = _util.check_writable(args.plot, args.force, "--plot")
    for what, target in (("--out", out_path), ("--plot", plot_path)):
        if target is not None and args.input != "-" and would_overwrite(target, Path(args.input)):
            raise ValueError(f"{what} would overwrite the input {args.input}; choose another file")
    if out_path is not None and out_path.suffix.lower() not in OUT_SUFFIXES:
        raise ValueError(f"--out must end in {', '.join(OUT_SUFFIXES)}; got {args.out}")
    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise ValueError(f"--plot must be a .png file; got {args.plot}")
    if out_path is not None and plot_path is not None and out_path.resolve() == plot_path.resolve():
        raise ValueError("--out and --plot must be different files")
    params: dict[str, Any] = {"level": args.level}
    check_level_options(args.level, {"distance_threshold": args.threshold}, CLI_NAMES)
    if args.threshold is not None:
        params["distance_threshold"] = args.threshold
    if args.min_cluster_size is not None:
        params["min_cluster_size"] = args.min_cluster_size
    HeadlineClusterer(**params).validate_params()  # bad settings fail before any encoding
    return params, out_path, plot_path


@dataclass
class Clustered:
    """A finished run: the JSON-ready result, and what --out and --plot are made from."""

    result: dict[str, Any]
    embeddings: Any
    clusterer: Any
    topics: list[str] | None


def cluster_data(
    data: Headlines,
    params: dict[str, Any],
    embedder: Encoder,
    model: TopicModel | None,
    *,
    source: str,
) -> Clustered:
    """Embed the headlines once, label them with ``model`` if any, and cluster them."""
    from classifier.clustering.estimator import HeadlineClusterer
    from classifier.clustering.summary import describe

    logger.info("embedding %d headlines", len(data.texts))
    embeddings = embedder.encode(data.texts)
    topics = None
    if model is not None:
        predictions = model.predict(data.texts, embeddings=embeddings)
        topics = [p.topic for p in predictions]
    clusterer = HeadlineClusterer(**params).fit(embeddings, texts=data.texts, topics=topics)
    result = describe(clusterer, model=model)
    result["input"] = source
    result["skipped"] = [{"row": p.row, "reason": p.reason} for p in data.problems]
    return Clustered(result, embeddings, clusterer, topics)


def cmd_cluster(args: argparse.Namespace) -> int:
    params, out_path, plot_path = check_options(args)
    data = read_headlines(
        args.input,
        text_column=args.text_column,
        encoding=args.encoding,
        header=not args.no_header,
        max_chars=_util.max_headline_chars(args),
    )
    for problem in data.problems[:5]:
        logger.warning("skipped %s", problem)
    if len(data.problems) > 5:
        logger.warning("... and %d more unusable rows", len(data.problems) - 5)
    if not data.texts:
        raise DataError(
            f"{args.input}: no headlines to cluster ({len(data.problems)} unusable rows)"
        )
    embedder, model = load_resources(args)
    embedder = _util.EncodingProgress(embedder, args.progress, desc="embedding")
    run = cluster_data(data, params, embedder, model, source=args.input)
    result, clusterer = run.result, run.clusterer

    if out_path is not None:
        write_atomic(out_path, assignments_file(out_path.suffix.lower(), result, data, run.topics))
    if plot_path is not None:
        from classifier.clustering.plot import plot_clusters

        plot_clusters(
            run.embeddings,
            clusterer.labels_,
            clusterer.clusters_,
            plot_path,
            title=f"{args.input}: {clusterer.n_clusters_} {args.level}",
        )
    if args.json:
        _util.emit_json(result, ensure_ascii=False)
    else:
        _util.emit_lines(cluster_table(result, args.top))
        if out_path is not None:
            _util.emit(f"cluster of every headline written to {out_path}")
        if plot_path is not None:
            _util.emit(f"map drawn to {plot_path}")
    return 0


def assignments_file(
    suffix: str, result: dict[str, Any], data: Headlines, topics: list[str] | None
) -> bytes:
    """The --out file: the whole result (.json), or one row per input row (.jsonl, .csv)."""
    if suffix == ".json":
        return json.dumps(result, ensure_ascii=False, indent=1).encode("utf-8")
    rows = []
    levels = [name for name in HIERARCHY_COLUMNS if name in result.get("hierarchy", {})]
    for i, (row, text) in enumerate(zip(data.rows, data.texts, strict=True)):
        entry: dict[str, Any] = {"row": row, "headline": text, "cluster": result["labels"][i]}
        for name in levels:
            entry[HIERARCHY_COLUMNS[name]] = result["hierarchy"][name]["labels"][i]
        if topics is not None:
            entry["topic"] = topics[i]
        rows.append(entry)
    for problem in data.problems:  # unusable rows stay visible in the output, with the reason
        rows.append(
            {"row": problem.row, "headline": None, "cluster": None, "error": problem.reason}
        )
    rows.sort(key=lambda r: r["row"])
    if suffix == ".jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    columns = ["row", "headline", "cluster"] + [HIERARCHY_COLUMNS[name] for name in levels]
    columns += ["topic"] if topics is not None else []
    columns.append("error")
    stream = io.StringIO(newline="")
    writer = csv.writer(stream)
    writer.writerow(columns)
    cell = lambda value: spreadsheet_safe("" if value is None else str(value))  # noqa: E731
    writer.writerows([cell(r.get(c)) for c in columns] for r in rows)
    return stream.getvalue().encode("utf-8")


def cluster_table(result: dict[str, Any], top: int) -> list[str]:
    """The result for people: a summary, then the ``top`` largest clusters with examples."""
    clusters = result["clusters"]
    model = f", topics from model {result['model']}" if result["model"] else ""
    lines = [
        f"{result['level']}: {result['n_clusters']} clusters in {result['n_headlines']} headlines, "
        f"{result['n_unclustered']} unclustered{model}"
    ]
    if result["skipped"]:
        first = result["skipped"][0]
        lines.append(
            f"skipped {len(result['skipped'])} unusable row(s), e.g. row {first['row']}: {first['reason']}"
        )
    if result["sampled"]:
        lines.append(
            f"clustered a sample of {result['params']['sample_size']}; the rest were assigned to "
            "the nearest cluster"
        )
    hierarchy = result.get("hierarchy", {})
    if hierarchy:
        lines.append(
            "hierarchy: "
            + ", ".join(f"{hierarchy[name]['n_clusters']} {name}" for name in hierarchy)
            + " (each story in one theme, each theme in one section)"
        )
    below = {"sections": "themes", "themes": "stories"}.get(result["level"])
    children: dict[int, int] = {}
    for child in hierarchy.get(below, {}).get("clusters", []) if below else []:
        children[child["parent"]] = children.get(child["parent"], 0) + 1
    for cluster in clusters[:top]:
        topic = ""
        if "top_topic" in cluster:
            topic = f"  mostly {cluster['top_topic']} ({cluster['topic_shares'][cluster['top_topic']]:.0%})"
        where = ""
        if cluster.get("parent", -1) >= 0:
            where = f"  in section #{cluster['parent']}" if result["level"] == "themes" else ""
        if below and hierarchy:
            where += f"  {children.get(cluster['id'], 0)} {below}"
        keywords = ", ".join(cluster["keywords"]) or "(no keywords)"
        lines.append(f"\n#{cluster['id']}  {cluster['size']} headlines{where}{topic}\n  {keywords}")
        lines += [f"    - {headline}" for headline in cluster["representative_headlines"]]
    if len(clusters) > top:
        lines.append(f"\n... and {len(clusters) - top} more clusters (see --json or --out)")
    return lines


def register(add: _util.AddCommand) -> None:
    command = add(
        "cluster",
        cmd_cluster,
        "group headlines into stories (same event), themes or sections, named by keywords",
    )
    command.add_argument(
        "input",
        help="CSV/TSV/JSONL with a headline column, or a text file with one headline per line "
        "('-' reads stdin)",
    )
    command.add_argument(
        "--level",
        choices=LEVELS,
        default=DEFAULT_LEVEL,
        help="stories (same event), themes (a few dozen subjects, each a set of stories) or "
        "sections (broad parts of the news, each a set of themes); default: stories",
    )
    command.add_argument("--json", action="store_true", help="print one JSON object")
    command.add_argument(
        "--out", help="write each headline's cluster id: .csv, .jsonl, or .json (whole result)"
    )
    command.add_argument("--plot", help="draw a 2-D map of the clusters to this .png")
    command.add_argument("--force", action="store_true", help="overwrite --out/--plot files")
    command.add_argument(
        "--text-column",
        default="headline",
        help="CSV/JSONL column (default: headline; with --no-header, its number)",
    )
    command.add_argument("--model", help="topic model version (default: current)")
    command.add_argument(
        "--no-topics",
        action="store_true",
        help="do not run the classifier: clusters without topic shares",
    )
    command.add_argument(
        "--threshold",
        type=_util.number_between(0, 2),
        help="stories: largest average cosine distance inside a story (default 0.5)",
    )
    command.add_argument(
        "--min-cluster-size",
        type=_util.whole_number(1),
        help="smaller groups are unclustered (default 2 for stories, 5 for themes)",
    )
    command.add_argument(
        "--top",
        type=_util.whole_number(0),
        default=TABLE_CLUSTERS,
        help=f"clusters shown in the table (default {TABLE_CLUSTERS})",
    )
    _util.add_input_options(command, what="INPUT", encoding_default="utf-8-sig")
    _util.add_progress_option(command)
