"""Helpers shared by the benchmarks: where the measurement data is, tables, memory."""

from __future__ import annotations

import csv
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def machine_line() -> str:
    """Which CPU (model and the features that pick the kernels) and commit the figures are from.

    Every benchmark prints it first: the same code runs other kernels on other CPUs, so a figure
    without its CPU cannot be compared with another.
    """
    import subprocess

    from classifier.cpu import cpu_info

    cpu = cpu_info()
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    return f"CPU: {cpu.line()}; int8 products by {cpu.int8_kernel}; commit {commit or 'unknown'}"


def shared_file(name: str) -> Path:
    """A measurement file from ../shared/data, or exit 0 with a note when it is absent."""
    path = SHARED / name
    if not path.is_file():
        print(f"skipped: {path} is not here (the benchmark needs ../shared/data/{name})")
        sys.exit(0)
    return path


def read_cap(path: Path) -> tuple[list[str], list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["headline"] for r in rows], [r["topic"] for r in rows]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True))]
    lines.append("-|-".join("-" * w for w in widths))
    for row in cells[1:]:
        lines.append(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)
