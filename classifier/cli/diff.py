"""``headline-topics diff V1 V2 FILE``: the headlines two model versions answer differently.

The comparison is :func:`classifier.teach.diff.diff_file`; this module loads both versions (each
with the encoder it runs with), prints a summary and a table of the changed headlines, or the
whole result as JSON (``--json``), and writes every change as CSV (``--out``). It changes
nothing in the store: to switch versions, or back, use ``promote``.
"""

from __future__ import annotations

import argparse
import csv
import io
from typing import TYPE_CHECKING

from classifier.cli import _util
from classifier.files import write_atomic
from classifier.text import spreadsheet_safe

if TYPE_CHECKING:
    from classifier.teach.diff import DiffResult
    from classifier.topics.model import TopicModel

OUT_COLUMNS = (
    "row",
    "headline",
    "old_topic",
    "old_topics",
    "old_confidence",
    "new_topic",
    "new_topics",
    "new_confidence",
)
HEADLINE_WIDTH = 60


def register(add: _util.AddCommand) -> None:
    diff = add(
        "diff",
        cmd_diff,
        "list the headlines of FILE that two model versions answer differently, with both "
        "answers and the flows between topics (promote switches versions)",
    )
    diff.add_argument("old", metavar="V1", help="the version to compare from ('current' or a name)")
    diff.add_argument("new", metavar="V2", help="the version to compare to")
    diff.add_argument("file", metavar="FILE", help="headlines: .csv .tsv .jsonl (.gz) or .parquet")
    diff.add_argument(
        "--text-column",
        default="headline",
        help="column of the headlines (default headline; with --no-header, its number)",
    )
    diff.add_argument(
        "--json", action="store_true", help="print the summary and every change as JSON"
    )
    diff.add_argument(
        "--limit",
        type=_util.whole_number(0),
        default=30,
        metavar="N",
        help="changed headlines shown in the table, 0 for none (default 30; --json and --out "
        "have all)",
    )
    diff.add_argument("--out", metavar="FILE", help="write every changed headline to this CSV")
    diff.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    _util.add_input_options(diff, what="FILE")
    _util.add_progress_option(diff)


def _models(args: argparse.Namespace) -> tuple[TopicModel, TopicModel]:
    """Both versions, each with the encoder it runs with: one encoder when they record the same
    (then each headline is embedded once for both)."""
    store = _util.store_from(args)
    versions = [store.resolve(None if n == "current" else n) for n in (args.old, args.new)]
    manifests = [store.read_manifest(v) for v in versions]
    first = _util.model_encoder(manifests[0], args, store.root)
    same = first.info().compare(manifests[1].get("embedding", {})) == "same"
    second = first if same else _util.model_encoder(manifests[1], args, store.root)
    return store.load(versions[0], embedder=first), store.load(versions[1], embedder=second)


def cmd_diff(args: argparse.Namespace) -> int:
    from classifier.teach.diff import diff_file

    out = _util.check_file_and_out(args, args.file, "FILE")
    max_chars = _util.max_headline_chars(args)
    old, new = _models(args)
    bar = _util.ProgressBar(args.progress, desc="comparing", unit=" rows")
    try:
        result = diff_file(
            old,
            new,
            args.file,
            text_column=args.text_column,
            encoding=args.encoding,
            header=not args.no_header,
            max_chars=max_chars,
            progress=lambda done, _fraction: bar.update(done, None),
        )
    finally:
        bar.close()
    if out is not None:
        write_atomic(out, changes_csv(result).encode("utf-8"))
    if args.json:
        _util.emit_json(result.to_dict(), ensure_ascii=False)
    else:
        _util.emit_lines(diff_report(result, args.limit))
    return 0


def changes_csv(result: DiffResult) -> str:
    stream = io.StringIO(newline="")
    writer = csv.writer(stream)
    writer.writerow(OUT_COLUMNS)
    for c in result.changes:
        cells = [
            c.row,
            c.headline,
            c.old.topic,
            ";".join(c.old.topics),
            f"{c.old.confidence:.4f}",
            c.new.topic,
            ";".join(c.new.topics),
            f"{c.new.confidence:.4f}",
        ]
        writer.writerow([spreadsheet_safe(str(cell)) for cell in cells])
    return stream.getvalue()


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def diff_report(result: DiffResult, limit: int) -> list[str]:
    """The summary, the flows between top topics, and the first ``limit`` changes."""
    s = result.summary()
    share = s["changed"] / s["headlines_compared"] if s["headlines_compared"] else 0.0
    lines = [
        f"{s['old']} -> {s['new']} on {s['headlines_compared']} headlines "
        f"({s['rows_read']} rows, {s['repeated_rows']} repeated)",
        f"changed: {s['changed']} ({share:.1%}): top topic {s['topic_changed']}, topic list only "
        f"{s['topics_changed_only']}; mean confidence shift {s['mean_confidence_shift']:+.4f}",
    ]
    for why, count in s["skipped"].items():
        lines.append(f"  skipped {count}: {why}")
    if s["flows"]:
        lines.append("top topic flows:")
        lines += [f"  {f['from']:>12} -> {f['to']:<12} {f['headlines']:>6}" for f in s["flows"]]
    lines.append("headlines listing each topic (old -> new):")
    lines += [f"  {t:<14}{v['old']:>7} -> {v['new']:<7}" for t, v in s["listed"].items()]
    if result.changes and limit:
        lines.append(
            f"{'row':>6}  {'headline':<{HEADLINE_WIDTH}}  {'old: topic confidence [topics]':<34}  new"
        )
        for c in result.changes[:limit]:
            before = f"{c.old.topic} {c.old.confidence:.2f} [{';'.join(c.old.topics)}]"
            after = f"{c.new.topic} {c.new.confidence:.2f} [{';'.join(c.new.topics)}]"
            lines.append(
                f"{c.row:>6}  {_short(c.headline, HEADLINE_WIDTH):<{HEADLINE_WIDTH}}  "
                f"{before:<34}  {after}"
            )
        if len(result.changes) > limit:
            lines.append(f"... and {len(result.changes) - limit} more (--limit, --json, --out)")
    return lines
