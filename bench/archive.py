"""Benchmark ``headline-topics report`` on a real dated archive: trends, stories, scaling.

On ``../shared/data/cap_nyt_dev.csv`` (13,774 NYT front-page headlines, 1996-2006, with a
``year`` column and a CAP-derived ``topic``; skips cleanly when absent):

1. **tag** it with the shipped model, in a fresh process: ``tag --clusters stories`` (with
   ``--time-column year`` when ``tag`` has that option, i.e. once the story tracker is in; the
   stories then come in a ``story`` column, else in the ``cluster`` column of the sampled fit).
2. **topic shares by year against the file's own labels**: for every topic, the Pearson
   correlation between the report's primary-topic share per year and the share of the year's
   headlines the CAP labels give that topic (target: >= 0.9 for every topic). Shares of
   headlines *carrying* the topic are shown beside it.
3. **top stories of each year**, with their keywords and sizes, as the report prints them.
4. **time and memory as the archive grows** 1x to 10x: the tagged file repeated with its years
   shifted by 11 per copy (and its story ids offset, so a longer archive has more stories):
   the time of ``build_report``'s two passes in this process, imports warm (target: linear in
   rows), and the ``report`` command in a fresh process, its wall time and peak RSS (target:
   flat; the counts are periods x topics + stories).

Run: ``.venv/bin/python bench/archive.py [--sizes 1,2,5,10] [--repeats 2] [--work DIR] [--keep]
[--tagged FILE]``
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_line, shared_file  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
YEARS = 11  # 1996-2006: the shift between two copies of the archive


def cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "classifier.cli", *argv]


def measured(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) of ``command`` in a fresh child process, and its stdout."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "if r.returncode: sys.exit(r.stderr)\n"
        "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + '\\n')\n"
        "sys.stdout.write(r.stdout)\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, cwd=ROOT
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    rss, _, out = done.stdout.partition("\n")
    return wall, int(rss) / 1024, out


def tag_archive(source: Path, work: Path) -> tuple[Path, str, float]:
    """The archive tagged with the shipped model; the story column it has; seconds taken."""
    tagged = work / "tagged.csv"
    command = ["tag", str(source), str(tagged), "--clusters", "stories", "--force"]
    command += ["--cache", str(work / "cache"), "--no-progress", "--json"]
    help_text = subprocess.run(cli("tag", "--help"), capture_output=True, text=True).stdout
    if "--time-column" in help_text:  # the story tracker: stories in time order
        command += ["--time-column", "year"]
    wall, rss, out = measured(cli(*command))
    summary = json.loads(out.strip().splitlines()[-1])
    with open(tagged, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    story = "story" if "story" in header else "cluster"
    print(
        f"tagged {summary['rows_in']:,} rows with {summary['model']} in {wall:.1f} s "
        f"(peak {rss:.0f} MiB); stories from the {story!r} column"
    )
    return tagged, story, wall


def label_shares(tagged: Path) -> dict[str, dict[str, float]]:
    """year -> topic -> share of the year's headlines the file's own labels give the topic."""
    counts: dict[str, dict[str, int]] = {}
    with open(tagged, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            year = counts.setdefault(row["year"], {})
            year[row["topic_input"]] = year.get(row["topic_input"], 0) + 1
    return {y: {t: n / sum(c.values()) for t, n in c.items()} for y, c in sorted(counts.items())}


def correlations(doc: dict, labels: dict[str, dict[str, float]]) -> None:
    print()
    print(
        "topic shares by year against the CAP labels: Pearson r over the 11 years (target >= 0.9)"
    )
    print(
        f"{'topic':<13}{'r primary':>10}{'r carrying':>11}   labels / primary / carrying, mean share"
    )
    for topic in doc["topics"]:
        years = [p["period"] for p in doc["periods"]]
        truth = np.array([labels[y].get(topic, 0.0) for y in years])
        primary = np.array([p["primary_shares"][topic] for p in doc["periods"]])
        carrying = np.array([p["shares"][topic] for p in doc["periods"]])
        r_primary = float(np.corrcoef(truth, primary)[0, 1])
        r_carrying = float(np.corrcoef(truth, carrying)[0, 1])
        print(
            f"{topic:<13}{r_primary:>10.3f}{r_carrying:>11.3f}   "
            f"{truth.mean():.3f} / {primary.mean():.3f} / {carrying.mean():.3f}"
        )


def top_stories(doc: dict, shown: int = 3) -> None:
    print()
    print(f"top {shown} stories of each year ({doc['stories']['count']:,} stories in all)")
    for period in doc["stories"]["top"]:
        for i, story in enumerate(period["stories"][:shown]):
            lead = period["period"] if i == 0 else ""
            words = ", ".join(story["keywords"][:5])
            print(
                f"{lead:<6}#{story['story']:<6}{story['size']:>4} headlines  {story['topic'] or '-':<12} {words}"
            )


def repeated(tagged: Path, copies: int, story: str, target: Path) -> int:
    """``tagged`` ``copies`` times, years shifted by 11 per copy, story and wire ids offset."""
    with open(tagged, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ids = [c for c in (story, "wire_group") if c in rows[0]]  # every copy gets its own ids
    offset = {c: max(int(r[c]) for r in rows if r[c] not in ("", "-1")) + 1 for c in ids}
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for copy in range(copies):
            for row in rows:
                shifted = dict(row, year=str(int(row["year"]) + YEARS * copy))
                for column in ids:
                    if row[column] not in ("", "-1"):
                        shifted[column] = str(int(row[column]) + offset[column] * copy)
                writer.writerow(shifted)
    return len(rows) * copies


def scaling(tagged: Path, story: str, sizes: list[int], work: Path, repeats: int) -> None:
    """Time of the two passes in this process (imports warm; the best of ``repeats``), and the
    peak RSS of the ``report`` command in a fresh process, per archive size."""
    from classifier.reports.build import build_report
    from classifier.reports.options import ReportOptions

    options = ReportOptions(time_column="year", by="year", story_column=story)
    build_report(tagged, options)  # warm: scikit-learn and the keyword code are imported once
    print()
    print(
        f"report as the archive grows (--by year; years shifted by {YEARS} per copy); time: "
        f"build_report in this process, best of {repeats}; memory: the command in a fresh process"
    )
    print(
        f"{'size':>5}{'rows':>10}{'years':>7}{'stories':>9}{'pass s':>8}{'s/100k rows':>13}"
        f"{'command s':>11}{'peak MiB':>10}"
    )
    points = []
    for size in sizes:
        archive = work / f"archive-{size}x.csv"
        rows = repeated(tagged, size, story, archive)
        best = math.inf
        for _ in range(repeats):
            started = time.perf_counter()
            doc = build_report(archive, options)
            best = min(best, time.perf_counter() - started)
        command = cli("report", str(archive), "--time-column", "year", "--by", "year")
        command += ["--story-column", story, "--json", "--no-progress"]
        wall, rss, _ = measured(command)
        points.append((rows, best, rss))
        print(
            f"{size:>4}x{rows:>10,}{len(doc['periods']):>7}{doc['stories']['count']:>9,}"
            f"{best:>8.1f}{best / rows * 100_000:>13.1f}{wall:>11.1f}{rss:>10.0f}"
        )
        archive.unlink()
    if len(points) >= 2:
        rows, walls, peaks = (np.array(v, dtype=float) for v in zip(*points, strict=True))
        slope, start = np.polyfit(rows, walls, 1)
        worst = float(np.max(np.abs(walls - (start + slope * rows)) / walls))
        print(
            f"passes: {start:.1f} s + {slope * 100_000:.1f} s per 100k rows; "
            f"worst point off that line by {100 * worst:.0f}%"
        )
        print(
            f"peak RSS {peaks[-1] / peaks[0]:.3f}x from {int(rows[0]):,} to {int(rows[-1]):,} rows"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,2,5,10", help="archive sizes (default 1,2,5,10)")
    parser.add_argument(
        "--repeats", type=int, default=2, help="timings per size, the best kept (default 2)"
    )
    parser.add_argument("--work", help="folder for the tagged file and the cache (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--tagged",
        help="a tagged copy made by an earlier run (skips tagging, for the report parts)",
    )
    args = parser.parse_args()
    print(machine_line())
    source = shared_file("cap_nyt_dev.csv")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-archive-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.tagged:
            tagged = Path(args.tagged)
            with open(tagged, newline="", encoding="utf-8") as handle:
                story = "story" if "story" in next(csv.reader(handle)) else "cluster"
            print(f"tagged copy {tagged} from an earlier run; stories from the {story!r} column")
        else:
            tagged, story, _ = tag_archive(source, work)
        from classifier.reports.build import build_report
        from classifier.reports.options import ReportOptions
        from classifier.reports.table import render_text

        options = ReportOptions(time_column="year", by="year", story_column=story)
        started = time.perf_counter()
        doc = build_report(tagged, options)
        print(f"report built in {time.perf_counter() - started:.1f} s (in process)")
        correlations(doc, label_shares(tagged))
        top_stories(doc)
        if os.environ.get("BENCH_ARCHIVE_TEXT"):
            print(render_text(doc))
        scaling(tagged, story, [int(s) for s in args.sizes.split(",")], work, args.repeats)
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
