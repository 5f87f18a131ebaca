"""How long a retrain on corrections takes: ``train`` as a user runs it, first run and after.

A seeded sample of ``--rows`` headlines of data/headlines.csv (default 7,000, the issue's size)
is the base file; ``--corrections`` other headlines of the file, with their labels, are the
corrections. Each step is ``headline-topics train`` in a fresh process, as a user runs it, on a
store in a temporary folder (the ONNX export comes from the project's cache, so no step exports):

1. the first run: a full fit, every headline embedded (the embedding cache starts empty);
2. ``--add corrections.csv``: ``--fit auto`` picks the quick retrain (docs/teach.md#quick-and-full-retrains---fit);
3. the same with ``--fit full``: the whole cross-validated fit, embeddings from the cache.

Step 2 runs ``--repeats`` times from the same current model (the median is shown: the machines
are noisy). Printed: wall and CPU seconds of each (process start, imports and the promotion gate's scoring
included), quick as a share of full, and how far the two models agree: macro-F1 on the bundled
evaluation file and the share of headlines of cap_nyt_dev.csv (when ../shared/data has it) whose
top topic they give alike. Target: step 2 under 10 s wall.

    .venv/bin/python bench/retrain.py [--rows 7000] [--corrections 100] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, read_cap, shared_file, table  # noqa: E402

TARGET_S = 10.0
CLI = [sys.executable, "-m", "classifier.cli"]


def write_rows(path: Path, header: list[str], rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run_train(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one ``train`` process (its children included), and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(CLI + ["train", *argv], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"train failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def version_of(output: str) -> str:
    return output.split()[1]  # "model VERSION written to ..."


def agreement(store: Path, first: str, second: str) -> float | None:
    """Share of cap_nyt_dev headlines whose top topic the two versions give alike."""
    try:
        texts, _ = read_cap(shared_file("cap_nyt_dev.csv"))
    except SystemExit:
        return None
    from classifier.encoders import embedder_for
    from classifier.topics.store import ModelStore

    models = ModelStore(store)
    encoder = embedder_for(models.read_manifest(first), models_dir=ROOT / "models")
    vectors = encoder.encode(texts)
    a = models.load(first, embedder=encoder).predict_proba(texts, embeddings=vectors)
    b = models.load(second, embedder=encoder).predict_proba(texts, embeddings=vectors)
    return float((a.argmax(axis=1) == b.argmax(axis=1)).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=7000)
    parser.add_argument("--corrections", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="runs of step 2 (median shown)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    print(machine_line(), flush=True)
    with open(ROOT / "data" / "headlines.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    random.Random(args.seed).shuffle(rows)
    if args.rows + args.corrections > len(rows):
        raise SystemExit(f"data/headlines.csv has {len(rows)} rows")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-retrain-"))
    work.mkdir(parents=True, exist_ok=True)
    base = write_rows(work / "base.csv", header, rows[: args.rows])
    fixes = rows[args.rows : args.rows + args.corrections]
    corrections = write_rows(work / "corrections.csv", header, fixes)
    store = work / "models"
    shutil.rmtree(store, ignore_errors=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HEADLINE_TOPICS_ENCODER_CACHE": str(ROOT / "models" / "encoders"),
    }
    common = ["--models-dir", str(store), "--priors", "news", "--no-progress"]
    common += ["--cache", str(work / "embeddings")]
    shutil.rmtree(work / "embeddings", ignore_errors=True)
    steps = [
        ("1. first run (full, embeds every headline)", [str(base), *common]),
        ("2. + corrections, --fit auto", [str(base), *common, "--add", str(corrections)]),
        (
            "3. + corrections, --fit full",
            [str(base), *common, "--add", str(corrections), "--fit", "full", "--no-promote"],
        ),
    ]
    results = []
    for name, argv in steps:
        first = (store / "CURRENT").read_text().strip() if (store / "CURRENT").exists() else None
        wall, cpu, out = run_train(argv, env)
        if "auto" in name and args.repeats > 1:  # the same retrain again from the same start
            runs = [(wall, cpu, out)]
            for _ in range(args.repeats - 1):
                (store / "CURRENT").write_text(first + "\n")
                runs.append(run_train(argv, env))
            print("   quick retrain, wall s of each run: " + ", ".join(f"{r[0]:.1f}" for r in runs))
            wall, cpu, out = sorted(runs)[len(runs) // 2]  # the median run
        manifest = json.loads((store / version_of(out) / "manifest.json").read_text("utf-8"))
        evaluation = manifest.get("evaluation", {})
        results.append((name, wall, cpu, manifest["fit"]["mode"], evaluation.get("macro_f1")))
        print(
            f"   {name}: {wall:.1f} s wall, {cpu:.1f} s CPU, fit {manifest['fit']['mode']}",
            flush=True,
        )
        results[-1] += (version_of(out),)
    print(
        f"\n{args.rows} base rows, {args.corrections} corrections (new labelled headlines of "
        "data/headlines.csv), each step a fresh `headline-topics train` process"
    )
    print(
        table(
            ["step", "wall s", "CPU s", "fit", "macro-F1 on multi_dev.csv"],
            [[n, w, c, m, f if f is not None else "-"] for n, w, c, m, f, _ in results],
        )
    )
    quick, full = results[1], results[2]
    print(f"   quick / full: {quick[1] / full[1]:.2f}x wall, {quick[2] / full[2]:.2f}x CPU")
    same = agreement(store, quick[5], full[5])
    if same is not None:
        print(f"   top topic alike on cap_nyt_dev.csv (quick vs full): {same:.1%}")
    verdict = "met" if quick[3] == "quick" and quick[1] < TARGET_S else "NOT met"
    print(
        f"   target: a retrain on corrections under {TARGET_S:.0f} s wall: {verdict} ({quick[1]:.1f} s)"
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
