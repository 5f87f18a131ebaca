"""The Dask section of ``bench/tag.py``: the same archive tagged locally and on 2 worker processes.

An archive of ``--dask-rows`` rows (default 1,000,000) is built in the work folder from the real
cap_nyt_dev and AG News headlines (numbered re-runs beyond them, so ~70% of the rows are distinct
headlines and ~30% are duplicates, some re-cased or re-spaced), never committed. It is tagged by
``headline-topics tag`` in a fresh process with the local engine (2 encoder threads), then with
``--engine dask`` on a ``dask scheduler`` and two ``dask worker`` processes of 1 thread each
(``--encoder-threads 1``), started here on 127.0.0.1 as a user starts them. Printed: rows/s of
each (tagging only, start-up excluded), the Dask run as a ratio of the local run in the same
run of this script, peak RSS of the local process and of each worker, and whether the two
outputs are the same bytes. Target: the ratio >= 0.9x, worker memory flat from 200k to 1M rows
(``--dask-rows 200000,1000000`` runs both sizes, each on a fresh cluster; ``--dask-memo-size N``
caps the memo of labelled headlines on both engines, which otherwise grows with the distinct
headlines seen, up to ``tag``'s default of 1,000,000).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _dask_command() -> Path:
    return Path(sys.executable).with_name("dask")


class Cluster:
    """``dask scheduler`` + ``dask worker`` processes on 127.0.0.1, stopped on exit."""

    def __init__(self, work: Path, workers: int) -> None:
        self.work, self.workers, self.processes, self.address = work, workers, [], ""

    def __enter__(self) -> Cluster:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        info = self.work / "scheduler.json"
        info.unlink(missing_ok=True)
        log = open(self.work / "dask.log", "ab")  # noqa: SIM115 - closed below
        self.processes.append(
            subprocess.Popen(
                [str(_dask_command()), "scheduler", "--host", "127.0.0.1", "--port", "0"]
                + ["--no-dashboard", "--scheduler-file", str(info)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        while not (info.is_file() and info.stat().st_size):
            time.sleep(0.2)
        time.sleep(0.2)
        self.address = json.loads(info.read_text())["address"]
        for i in range(self.workers):
            self.processes.append(
                subprocess.Popen(
                    [str(_dask_command()), "worker", self.address, "--nthreads", "1"]
                    + ["--no-dashboard", "--memory-limit", "0", "--name", f"bench{i}"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                )
            )
        log.close()
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(self.workers, timeout=300)
        return self

    def worker_peak_rss_mib(self) -> dict[str, float]:
        from distributed import Client

        def peak() -> float:
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        with Client(self.address, timeout=60) as client:
            return {addr: rss for addr, rss in sorted(client.run(peak).items())}

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _tag(command_tail: list[str], peak_rss) -> tuple[float, dict[str, Any]]:
    command = [sys.executable, "-m", "classifier.cli", "tag", "--no-progress", "--force", "--json"]
    return peak_rss(command + command_tail)


def dask_section(
    headlines: list[str],
    work: Path,
    sizes: list[int],
    *,
    build_archive,
    distinct_pool,
    peak_rss,
    blocksize: int | None = None,
    memo_size: int | None = None,
) -> None:
    """Tag each size locally and on 2 Dask workers; print rows/s, the ratio and peak memory.

    ``memo_size`` caps both engines' memo of labelled headlines (``tag --memo-size``): below the
    distinct headlines of the smallest size, it shows the memory that does not grow with them."""
    if not _dask_command().exists():
        print("dask: skipped, no `dask` command next to this Python")
        return
    print()
    print(
        "dask: 'headline-topics tag' local (2 encoder threads) vs --engine dask on 2 worker "
        "processes x 1 thread (--encoder-threads 1); ~30% duplicate rows; tag-only rows/s"
    )
    header = f"{'rows':>10}{'local r/s':>11}{'dask r/s':>10}{'ratio':>8}"
    print(header + f"{'local MiB':>11}{'worker MiB':>22}  same bytes")
    for rows in sizes:
        archive = work / f"dask-{rows}.csv"
        build_archive(archive, distinct_pool(headlines, int(rows * 0.7)), rows, seed=rows)
        block = blocksize or max(64 << 10, archive.stat().st_size // 16)
        local_out, dask_out = work / f"dask-{rows}-local.csv", work / f"dask-{rows}-dask.csv"
        memo = ["--memo-size", str(memo_size)] if memo_size else []
        local_rss, local = _tag(
            [str(archive), str(local_out), "--encoder-threads", "2", *memo], peak_rss
        )
        with Cluster(work, workers=2) as cluster:
            _, remote = _tag(
                [str(archive), str(dask_out), "--engine", "dask", "--scheduler"]
                + [cluster.address, "--blocksize", str(block), "--encoder-threads", "1", *memo],
                peak_rss,
            )
            workers = cluster.worker_peak_rss_mib()
        same = local_out.read_bytes() == dask_out.read_bytes()
        ratio = remote["rows_per_second"] / local["rows_per_second"]
        worker_mib = " / ".join(f"{v:.0f}" for v in workers.values())
        print(
            f"{rows:>10,}{local['rows_per_second']:>11.0f}{remote['rows_per_second']:>10.0f}"
            f"{ratio:>7.2f}x{local_rss:>11.0f}{worker_mib:>22}  {'yes' if same else 'NO'}",
            flush=True,
        )
        for path in (archive, local_out, dask_out):
            path.unlink(missing_ok=True)
