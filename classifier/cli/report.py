"""``headline-topics report TAGGED``: topics and stories of a tagged archive over time.

The work is :func:`classifier.reports.build.build_report`; this module checks the options and
the output paths before the archive is read (a report on ten years should not fail at the end
on an existing file), then prints the text or JSON and writes the HTML page and PNG charts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from classifier.cli import _util
from classifier.files import would_overwrite
from classifier.reports.charts import CHART_NAMES  # matplotlib loads only when drawing
from classifier.reports.options import ReportOptions
from classifier.reports.periods import PERIODS


def register(add: _util.AddCommand) -> None:
    report = add(
        "report",
        cmd_report,
        "topic shares, top and emerging stories and wire-copy groups of a tagged archive, "
        "per day, week, month or year: text, JSON, a self-contained HTML page, PNG charts",
        backend_help=None,
    )
    report.add_argument("tagged", help="what tag wrote: .csv .tsv .jsonl .ndjson (.gz) or .parquet")
    report.add_argument(
        "--time-column", required=True, help="column of the dates or years (required)"
    )
    report.add_argument(
        "--by", choices=PERIODS, default="month", help="period to count by (default month)"
    )
    report.add_argument(
        "--text-column", default="headline", help="column of the headlines (default headline)"
    )
    report.add_argument(
        "--story-column", default="story", help="column of the story ids (default story)"
    )
    report.add_argument(
        "--wire-column",
        default="wire_group",
        help="column of the wire-copy group ids (default wire_group)",
    )
    report.add_argument(
        "--top",
        type=_util.whole_number(1),
        default=5,
        metavar="N",
        help="stories shown per period, emerging ones too (default 5)",
    )
    report.add_argument(
        "--wire-top",
        type=_util.whole_number(1),
        default=10,
        metavar="N",
        help="wire-copy groups shown (default 10)",
    )
    report.add_argument(
        "--emerging-window",
        type=_util.whole_number(1),
        default=3,
        metavar="K",
        help="a story emerges against the mean of its previous K periods (default 3)",
    )
    report.add_argument(
        "--emerging-ratio",
        type=_util.positive_number,
        default=3.0,
        metavar="X",
        help="... when its count is at least X times that mean (default 3)",
    )
    report.add_argument(
        "--emerging-min",
        type=_util.whole_number(1),
        default=5,
        metavar="N",
        help="... and at least N headlines (default 5)",
    )
    report.add_argument(
        "--encoding", help="text encoding of a CSV/JSONL TAGGED (default UTF-8; tag writes UTF-8)"
    )
    report.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="what stdout gets: text tables or one JSON document (default text)",
    )
    report.add_argument("--json", action="store_true", help="the same as --format json")
    report.add_argument(
        "--html", metavar="FILE", help="also write a self-contained HTML report with charts"
    )
    report.add_argument(
        "--png", metavar="DIR", help="also write each chart as a PNG file into DIR (it must exist)"
    )
    report.add_argument(
        "--force", action="store_true", help="replace an existing --html file or --png charts"
    )
    _util.add_progress_option(report)


def _check_outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """Refuse, before the archive is read, outputs that cannot or must not be written."""
    if args.html or args.png:
        from classifier.reports.charts import require_matplotlib

        require_matplotlib()
    html = _util.check_writable(args.html, args.force, "--html")
    if html is not None and would_overwrite(html, Path(args.tagged)):
        raise ValueError(f"--html {args.html} is the input file; give another name")
    png = None
    if args.png:
        png = Path(args.png)
        if not png.is_dir():
            raise FileNotFoundError(f"--png {args.png}: no such folder; create it first")
        existing = [n for n in CHART_NAMES if (png / f"{n}.png").exists()]
        if existing and not args.force:
            raise FileExistsError(
                f"--png {args.png} already has {existing[0]}.png; pass --force to overwrite"
            )
    return html, png


def cmd_report(args: argparse.Namespace) -> int:
    from classifier.reports.build import build_report
    from classifier.reports.table import render_text

    options = ReportOptions(
        time_column=args.time_column,
        by=args.by,
        text_column=args.text_column,
        story_column=args.story_column,
        wire_column=args.wire_column,
        top=args.top,
        wire_top=args.wire_top,
        emerging_window=args.emerging_window,
        emerging_ratio=args.emerging_ratio,
        emerging_min=args.emerging_min,
        encoding=args.encoding,
    )
    options.check()
    html, png = _check_outputs(args)
    bar = _util.ProgressBar(args.progress, desc="reading", unit=" rows")
    try:
        doc = build_report(args.tagged, options, progress=bar.update)
    finally:
        bar.close()
    if args.json or args.format == "json":
        _util.emit_json(doc, ensure_ascii=False)
    else:
        _util.emit(render_text(doc))
    if html is not None:
        from classifier.files import write_atomic
        from classifier.reports.html import render_html

        write_atomic(html, render_html(doc).encode("utf-8"))
        _util.tell(f"wrote {html}")
    if png is not None:
        from classifier.reports.charts import write_pngs

        written = write_pngs(doc, png)
        _util.tell(f"wrote {len(written)} chart(s) to {png}: {', '.join(p.name for p in written)}")
    return 0
