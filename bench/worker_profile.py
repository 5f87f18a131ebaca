"""Where a service worker's time goes under load: CPU per thread, and py-spy's samples.

Used by ``bench/service.py --profile DIR`` during its 32-client phase. Two views, because one
alone misleads:

- **CPU per thread** from ``/proc/PID/task/*/stat``, named by ``py-spy dump``: the batcher
  thread (encoder calls and the head), onnxruntime's own pool threads (native, no Python name),
  gunicorn's main loop, and the request threads. This counts native time outside the GIL,
  which is where the encoder runs.
- **py-spy record --gil**: stacks of whichever thread holds the GIL, summed by what the code is
  doing (the table of :data:`CATEGORIES`); this is the Python work that the 32 request threads
  and the batcher take turns at.

py-spy needs ptrace permission over the worker (root, or ``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# (label, a piece of the stack that marks it); the first that matches a sample wins
CATEGORIES = (
    ("encoder (onnxruntime, tokenizer)", "classifier/encoders/"),
    ("head: TF-IDF and both heads (model.scores)", "scores (classifier/topics/model.py"),
    ("answers: describe, to_dict", "describe (classifier/topics/model.py"),
    ("recent headlines (LRU)", "classifier/service/recent.py"),
    ("batcher: queue and hand-off", "classifier/service/batcher.py"),
    ("request body: JSON parse", "json_body"),
    ("request fields: validation", "classifier/service/fields.py"),
    ("response: JSON encode", "jsonify"),
    ("Prometheus metrics", "prometheus_client"),
    ("Flask and Werkzeug dispatch", "flask/"),
    ("gunicorn request threads: parse, write", "ThreadWorker.handle "),
    ("gunicorn main loop: poll, accept, keep-alive", "ThreadWorker.run "),
)


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each thread of ``pid``."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def thread_names(pid: int) -> dict[int, str]:
    """Python thread names by native thread id (``py-spy dump``); native threads are absent."""
    tool = py_spy()
    if tool is None:
        return {}
    text = subprocess.run(
        [tool, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=60
    ).stdout
    return {
        int(m.group(1), 0): m.group(2)
        for m in re.finditer(r'^Thread (0x[0-9A-Fa-f]+|\d+) \([^)]*\): "([^"]*)"', text, re.M)
    }


def thread_kind(name: str | None) -> str:
    if name is None:
        return "native threads (onnxruntime's pool)"
    if name == "MainThread":
        return "gunicorn main loop"
    if name == "encoder-batcher":
        return "batcher thread (encoder calls, head)"
    if name.startswith("ThreadPoolExecutor"):
        return "request threads (HTTP, JSON, answers)"
    return f"other ({name})"


def cpu_by_kind(before: dict[int, float], after: dict[int, float], names: dict[int, str]):
    """{kind: CPU seconds} between two :func:`thread_cpu` snapshots."""
    kinds: Counter[str] = Counter()
    for tid, seconds in after.items():
        kinds[thread_kind(names.get(tid))] += seconds - before.get(tid, 0.0)
    return kinds


def start_record(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    """``py-spy record --gil`` of ``pid`` for ``seconds``, raw stacks into ``out``."""
    tool = py_spy()
    if tool is None:
        return None
    command = [tool, "record", "--pid", str(pid), "--gil", "--rate", "200"]
    command += ["--duration", str(max(1, round(seconds))), "--format", "raw", "--output", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def categorise(raw: Path) -> tuple[int, Counter[str]]:
    """(samples, {category: samples}) of a py-spy raw (collapsed stacks) file."""
    counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        n = int(number)
        total += n
        for label, mark in CATEGORIES:
            if mark in stack:
                counts[label] += n
                break
        else:
            leaf = stack.rsplit(";", 1)[-1]
            counts[f"other: {leaf.split(' (')[0]}"] += n
    return total, counts


def report(kinds: Counter[str], wall: float, samples: int, counts: Counter[str]) -> str:
    cores = len(os.sched_getaffinity(0))
    lines = [f"CPU per thread over {wall:.1f} s ({cores} cores: {cores * wall:.1f} CPU s at most):"]
    total = sum(kinds.values()) or 1.0
    for kind, seconds in kinds.most_common():
        lines.append(f"  {kind:<44}{seconds:>7.2f} s  {100 * seconds / total:>5.1f}%")
    lines.append(f"py-spy --gil: {samples} samples of the thread holding the GIL")
    for label, n in counts.most_common(14):
        lines.append(f"  {label:<52}{100 * n / max(samples, 1):>5.1f}%")
    return "\n".join(lines)
