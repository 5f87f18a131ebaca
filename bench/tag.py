"""Benchmark ``headline-topics tag``: throughput against the bare encoder, and flat memory.

Builds archives from the real headlines in ``../shared/data/`` (skips cleanly when absent):

* **unique**: every row a distinct headline (``--round-size`` of them). ``tag`` (read CSV,
  normalise, embed, classify, write, checkpoint) against the encoder alone embedding the same
  headlines in one batched call, back to back in each of ``--repeats`` short rounds (the median
  of the per-round ratios, so a busy neighbour skews one round, not the figure). Target: >= 0.9x.
* **~30% duplicates**: the same distinct headlines plus repeats (some re-cased or re-spaced).
  Duplicates cost a dictionary look-up, so rows/s should beat the encoder. Target: above 1x.
* **200,000 rows** drawn from the same distinct headlines: the full-size archive's rows/s.
* **peak RSS** of the command in a fresh process at 50,000 vs 200,000 rows: with the real model
  (distinct headlines capped by ``--unique``, as encoding 140,000 of them takes most of an hour
  on this machine), and with a fast stand-in encoder at a true 30% duplicate share (35,000 vs
  140,000 distinct headlines), which shows the tagger's own memory as the archive grows.
  Target: within 15%.
* **end to end per encoder backend** (``--backends``, default torch then onnx-int8, the new
  default): the ``tag`` command in a fresh process on an archive of ``--unique`` distinct
  headlines, backends alternating over ``--e2e-repeats`` rounds: wall time from start to exit
  (start-up included), rows/s and peak RSS, each as a ratio against the first backend.
* **dask** (``--dask-rows``, default 1,000,000; ``--only-dask``): the archive tagged locally and
  on a scheduler with 2 worker processes of 1 thread each, rows/s as a ratio of the local run,
  peak RSS of each process (:mod:`bench.tag_dask`).

Run: ``.venv/bin/python bench/tag.py [--unique 3000] [--round-size 600] [--repeats 8]
[--backends torch,onnx-int8] [--e2e-repeats 3] [--only-e2e] [--dask-rows 200000,1000000]
[--only-dask]``
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load_headlines() -> list[str] | None:
    """Distinct real headlines (after normalising) from the shared measurement files."""
    from classifier.tagging.tagger import normalise_headline

    nyt, ag = SHARED / "cap_nyt_dev.csv", SHARED / "ag_news_test.csv"
    if not nyt.is_file() or not ag.is_file():
        return None
    texts = []
    with open(nyt, newline="", encoding="utf-8") as handle:
        texts += [row["headline"] for row in csv.DictReader(handle)]
    with open(ag, newline="", encoding="utf-8") as handle:
        texts += [row[1] for row in csv.reader(handle) if len(row) >= 2]
    seen, out = set(), []
    for text in texts:
        key = normalise_headline(text)
        if key and key not in seen:
            seen.add(key)
            out.append(" ".join(text.split()))
    return out


def distinct_pool(headlines: list[str], n: int) -> list[str]:
    """``n`` distinct headlines; beyond the real ones, numbered re-runs of them ("... [2]")."""
    out = list(headlines[:n])
    k = 2
    while len(out) < n:
        out += [f"{h} [{k}]" for h in headlines[: n - len(out)]]
        k += 1
    return out


def vary(text: str, rng: random.Random) -> str:
    """A duplicate as archives have them: same words, other case or spacing."""
    choice = rng.random()
    if choice < 0.2:
        return text.upper()
    if choice < 0.4:
        return "  " + text.replace(" ", "  ")
    return text


def build_archive(path: Path, pool: list[str], rows: int, seed: int = 1) -> None:
    """Every pool headline once, then repeats up to ``rows``, shuffled (seeded)."""
    rng = random.Random(seed)
    texts = list(pool) + [vary(rng.choice(pool), rng) for _ in range(max(0, rows - len(pool)))]
    texts = texts[:rows]
    rng.shuffle(texts)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "headline", "source"])
        for i, text in enumerate(texts):
            writer.writerow([i, text, "bench"])


class HashEmbedder:
    """A fast deterministic stand-in encoder (hashed words, 384 dimensions) for memory runs."""

    name = "bench-hash"
    dimension = 384
    path = Path("/nonexistent/bench-hash")

    def info(self):
        from classifier.encoders import EncoderInfo

        return EncoderInfo(self.name, hashlib.sha256(b"bench-hash").hexdigest(), self.dimension)

    def encode(self, texts, *, batch_size=None):
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        out = np.zeros((len(batch), self.dimension), dtype=np.float32)
        for i, text in enumerate(batch):
            for word in text.split():
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
                out[i, h % self.dimension] += 1.0 if (h >> 20) & 1 else -1.0
            out[i] /= np.linalg.norm(out[i]) or 1.0
        return out[0] if single else out


def child_fake(archive: str, output: str, store: str) -> None:
    """Run in a fresh process: tag with the stand-in encoder, print the summary as JSON."""
    from classifier.tagging import tag_file
    from classifier.topics.store import ModelStore

    model = ModelStore(store).load(embedder=HashEmbedder())
    summary = tag_file(archive, output, model, force=True)
    print(json.dumps(summary.to_dict()))


def peak_rss(command: list[str]) -> tuple[float, dict]:
    """Peak resident memory (MiB) of ``command`` in a fresh process, and its JSON output."""
    wrapper = (
        "import json, resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "if r.returncode: sys.exit(r.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(r.stdout.strip().splitlines()[-1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    rss_kib, summary = done.stdout.strip().splitlines()[-2:]
    return int(rss_kib) / 1024, json.loads(summary)


def end_to_end(args: argparse.Namespace, pool: list[str], work: Path) -> None:
    """The tag command per backend, fresh process each time, start-up included."""
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    archive = work / "e2e.csv"
    build_archive(archive, pool, len(pool))
    runs: dict[str, list[tuple[float, float, dict]]] = {b: [] for b in backends}
    for _ in range(args.e2e_repeats):
        for backend in backends:
            command = [sys.executable, "-m", "classifier.cli", "tag", "--no-progress", "--force"]
            command += ["--json", "--backend", backend, str(archive), str(work / "e2e_out.csv")]
            started = time.perf_counter()
            rss, summary = peak_rss(command)
            runs[backend].append((time.perf_counter() - started, rss, summary))

    def med(backend: str, index: int) -> float:
        return float(np.median([r[index] for r in runs[backend]]))

    reference = backends[0]
    print()
    print(
        f"end to end: 'headline-topics tag --backend B' on {len(pool):,} distinct headlines, "
        f"fresh process, medians of {args.e2e_repeats} alternating runs; x = against {reference}"
    )
    print(
        f"{'backend':<12}{'wall s':>8}{'rows/s':>9}{'x':>7}{'tag-only rows/s':>17}{'peak MiB':>10}"
    )
    for backend in backends:
        wall = med(backend, 0)
        tag_rate = float(np.median([r[2]["rows_per_second"] for r in runs[backend]]))
        print(
            f"{backend:<12}{wall:>8.1f}{len(pool) / wall:>9.0f}"
            f"{med(reference, 0) / wall:>6.2f}x{tag_rate:>17.0f}{med(backend, 1):>10.0f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--unique", type=int, default=3000, help="distinct headlines (default 3000)"
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--small-rows", type=int, default=50_000)
    parser.add_argument(
        "--round-size", type=int, default=600, help="distinct headlines per ratio round (600)"
    )
    parser.add_argument("--repeats", type=int, default=8, help="ratio rounds (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder of archives")
    parser.add_argument("--backends", default="torch,onnx-int8", help="first is the reference")
    parser.add_argument("--e2e-repeats", type=int, default=3)
    parser.add_argument("--only-e2e", action="store_true", help="only the end-to-end section")
    parser.add_argument(
        "--dask-rows", default="1000000", help="archive sizes of the Dask section (comma list)"
    )
    parser.add_argument("--dask-blocksize", type=int, help="default: 1/16 of the archive")
    parser.add_argument("--dask-memo-size", type=int, help="tag --memo-size for the Dask section")
    parser.add_argument("--only-dask", action="store_true", help="only the Dask section")
    parser.add_argument("--child-fake", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_fake:
        child_fake(*args.child_fake)
        return 0
    from bench.common import machine_line

    print(machine_line(), flush=True)

    headlines = load_headlines()
    if headlines is None:
        print(f"skipped: {SHARED} with cap_nyt_dev.csv and ag_news_test.csv is not here")
        return 0
    from classifier import config
    from classifier.tagging import normalise_headline, tag_file
    from classifier.topics.store import ModelStore
    from classifier.topics.training import train_model

    store = ModelStore(config.models_dir())
    if store.current_version() is None:
        print(f"skipped: no current model in {store.root}")
        return 0
    model = store.load()
    model.embedder.encode(["warm up the encoder"])
    work = Path(tempfile.mkdtemp(prefix="bench-tag-"))
    print(f"model {model.version}; {len(headlines):,} distinct real headlines; work dir {work}")
    print(f"cpu: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")

    pool = distinct_pool(headlines, args.round_size)  # the short rounds of the ratio runs
    big_pool = distinct_pool(headlines, args.unique)  # the 200k/50k archives
    unique_csv, dup_csv, big_csv, small_csv = (
        work / name for name in ("unique.csv", "dup30.csv", "big.csv", "small.csv")
    )
    build_archive(unique_csv, pool, len(pool))
    build_archive(dup_csv, pool, round(len(pool) / 0.7))
    build_archive(big_csv, big_pool, args.rows)
    build_archive(small_csv, big_pool, args.small_rows)
    normalised = [normalise_headline(t) for t in pool]
    if args.only_dask:
        run_dask_section(args, headlines, work)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    if args.only_e2e:
        end_to_end(args, big_pool, work)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        return 0

    # -- throughput: encoder alone vs tag, back to back in each round ----------------------------
    # The machine may be shared: each round measures the three runs within a few minutes of each
    # other and the ratios are taken per round, then the median over rounds is reported. CPU
    # seconds (all threads of this process) are shown beside wall seconds.
    def timed(run) -> tuple[float, float, object]:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        return time.perf_counter() - wall, time.process_time() - cpu, result

    n_dup = round(len(pool) / 0.7)
    rounds = []
    for _ in range(args.repeats):
        encoder = timed(lambda: model.embedder.encode(normalised))
        unique = timed(lambda: tag_file(unique_csv, work / "unique_out.csv", model, force=True))
        dup = timed(lambda: tag_file(dup_csv, work / "dup_out.csv", model, force=True))
        rounds.append((encoder, unique, dup))
    big_wall, big_cpu, big_summary = timed(
        lambda: tag_file(big_csv, work / "big_out.csv", model, force=True)
    )
    dup_distinct = rounds[-1][2][2].stats["distinct"]

    def median(values):
        return float(np.median(values))

    def rate_ratio(index: int, rows: int, clock: int) -> float:
        return median([(rows / r[index][clock]) / (len(pool) / r[0][clock]) for r in rounds])

    table = [
        ("encoder alone, distinct headlines", len(pool), len(pool), 0, len(pool)),
        ("tag, every row distinct", len(pool), len(pool), 1, len(pool)),
        ("tag, ~30% duplicate rows", n_dup, dup_distinct, 2, n_dup),
    ]
    print()
    print(
        f"throughput: median of {args.repeats} rounds, each timing the encoder and tag back to "
        "back (same process, same loaded model)"
    )
    print(
        f"{'run':<36}{'rows':>8}{'distinct':>9}{'wall s':>8}{'rows/s':>8}{'vs enc':>8}"
        f"{'cpu s':>8}{'vs enc':>8}"
    )
    for name, n, distinct, index, rows in table:
        wall = median([r[index][0] for r in rounds])
        cpu = median([r[index][1] for r in rounds])
        print(
            f"{name:<36}{n:>8,}{distinct:>9,}{wall:>8.1f}{rows / wall:>8.0f}"
            f"{rate_ratio(index, rows, 0):>7.2f}x{cpu:>8.1f}{rate_ratio(index, rows, 1):>7.2f}x"
        )
    enc_wall = median([r[0][0] for r in rounds])
    enc_cpu = median([r[0][1] for r in rounds])
    print(
        "the full-size archive, once (its own distinct headlines; ratio against the median "
        "encoder rate above)"
    )
    print(
        f"{'tag, ' + format(args.rows, ',') + '-row archive':<36}{big_summary.counters.rows:>8,}"
        f"{big_summary.stats['distinct']:>9,}{big_wall:>8.1f}{args.rows / big_wall:>8.0f}"
        f"{(args.rows / big_wall) / (len(pool) / enc_wall):>7.2f}x{big_cpu:>8.1f}"
        f"{(args.rows / big_cpu) / (len(pool) / enc_cpu):>7.2f}x"
    )
    for i, (encoder, unique, dup) in enumerate(rounds, start=1):
        print(
            f"  round {i}: wall s encoder {encoder[0]:.1f}, tag distinct {unique[0]:.1f}, "
            f"tag 30% dup {dup[0]:.1f}"
        )

    # -- memory: fresh processes at two archive sizes -------------------------------------------
    command = [sys.executable, "-m", "classifier.cli", "tag", "--no-progress", "--force", "--json"]
    real = {
        n: peak_rss(command + [str(path), str(work / f"rss_{n}.csv")])
        for n, path in ((args.small_rows, small_csv), (args.rows, big_csv))
    }
    fake_store = ModelStore(work / "fake-models")
    train = headlines[:1500]
    labels = [f"t{hash(t) % 3}" for t in train]  # the head's quality does not matter here
    fake_model, manifest = train_model(
        train, labels, HashEmbedder(), head_params={"calibration_folds": 2}, source="bench"
    )
    fake_store.save(fake_model, manifest, promote=True)
    fake = {}
    for n in (args.small_rows, args.rows):
        path = work / f"fake_{n}.csv"
        build_archive(path, distinct_pool(headlines, round(n * 0.7)), n)
        fake[n] = peak_rss(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child-fake",
                str(path),
                str(work / f"fake_out_{n}.csv"),
                str(fake_store.root),
            ]
        )

    print()
    print("peak RSS of one tag process (fresh process per run)")
    print(f"{'encoder':<26}{'rows':>9}{'distinct':>10}{'peak MiB':>10}{'rows/s':>9}")
    for label, runs in (("MiniLM (real)", real), ("hashing stand-in", fake)):
        for n, (rss, summary) in runs.items():
            print(
                f"{label:<26}{n:>9,}{summary['distinct']:>10,}{rss:>10.0f}"
                f"{summary['rows_per_second']:>9.0f}"
            )
        small, big = runs[args.small_rows][0], runs[args.rows][0]
        print(
            f"{'':<26}{'ratio ' + format(args.rows, ',') + ' / ' + format(args.small_rows, ','):>29}{big / small:>10.3f}"
        )
    print()
    print("targets: tag >= 0.9x encoder on distinct rows, > 1x with duplicates; RSS ratio <= 1.15")
    end_to_end(args, big_pool, work)
    run_dask_section(args, headlines, work)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run_dask_section(args: argparse.Namespace, headlines: list[str], work: Path) -> None:
    from bench.tag_dask import dask_section

    sizes = [int(n) for n in args.dask_rows.split(",") if n.strip()]
    dask_section(
        headlines,
        work,
        sizes,
        build_archive=build_archive,
        distinct_pool=distinct_pool,
        peak_rss=peak_rss,
        blocksize=args.dask_blocksize,
        memo_size=args.dask_memo_size,
    )


if __name__ == "__main__":
    sys.exit(main())
