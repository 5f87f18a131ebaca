"""Run the examples in README.md and check, or rewrite, the output shown under each one.

Why: a README whose examples were "captured with an earlier build" teaches the wrong thing and
nobody notices. This fails when what a marked example prints now differs from what the README
shows, so a change that alters an example is seen in that change (tests/system/test_readme_examples.py).

An example is ``<!-- example: NAME -->`` followed by a fenced block of ``$ command`` lines, each
followed by what it prints (stdout and stderr together, as on a terminal). Each block runs so
that it changes nothing in the checkout (only a missing ONNX export is made, as ./dev serve would):

- in a scratch folder standing for the repository root: ``data/`` links to the real one,
  ``models/`` is a copy of the store (its ``encoders/`` export cache linked, not copied) named by
  ``HEADLINE_TOPICS_MODELS``, so ``train`` and ``promote`` write only to the copy; the small
  files the examples read are written there (:func:`write_example_files`);
- with ``.venv/bin`` first on ``PATH``, offline, without any other ``HEADLINE_TOPICS_*`` setting;
- a command ending in ``&`` is the service: started on a free port (``8000`` in the block's
  commands is replaced by it), waited for on ``/readyz``, stopped when the block ends.

Only what must vary is ignored: timings, the scratch folder's path, the names and dates of
versions the example trained itself, and the last places of decimals that fp32 rounding moves
between CPUs, one borderline headline in a trained example's metrics included
(:data:`DECIMAL_TOLERANCE`). ``--check`` (the default) prints a diff and exits 1;
``--update`` writes the real output back (the scratch folder shown as the repository root);
``--only NAME`` runs one example; ``--readme docs/service.md`` another page's examples.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from example_inputs import write_example_files  # noqa: E402

logger = logging.getLogger("readme_examples")

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
STORE = ROOT / "models"
VENV_BIN = ROOT / ".venv" / "bin"

MARKER = re.compile(r"^<!-- example: ([\w-]+) -->\s*$")
FENCE = re.compile(r"^```")
PROMPT = "$ "
CRASH = "Traceback (most recent call last)"  # never what an example means to show
COMMAND_TIMEOUT_S = 600
READY_TIMEOUT_S = 180
EXAMPLE_PORT = "8000"
PORT_IN_COMMAND = re.compile(r"(?<=:)8000\b|(?<=--port )8000\b")
# Shapes of what changes from run to run; each is replaced by a placeholder before comparing.
VERSION = re.compile(r"\bv\d{8}-\d{6}-[0-9a-f]{8}\b")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")
DURATION = re.compile(r"\b\d[\d,]*(?:\.\d+)? ?(?:ms|s)\b")
RATE = re.compile(r"\b\d[\d,]*(?:\.\d+)? (rows|headlines)/s\b")
JSON_TIMING = re.compile(r'("\w*(?:_seconds|_per_second|_ms)": )-?[\d.eE+-]+')
ABSOLUTE_STORE = re.compile(r"(?<![\w.])/[^\s'\"]*?/(?=models\b)")


@dataclass
class Step:
    """One ``$ command`` of a block and the output shown (or printed) under it."""

    command: str
    output: list[str] = field(default_factory=list)


@dataclass
class Block:
    """A marked example: its name and where its lines sit in the README (fences excluded)."""

    name: str
    first: int
    end: int
    steps: list[Step]


def parse(lines: list[str]) -> list[Block]:
    """Find every marked block; a marker not followed by a ``$``-block is an error, not a skip."""
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = MARKER.match(lines[i])
        if not match:
            i += 1
            continue
        name = match.group(1)
        if i + 1 >= len(lines) or not FENCE.match(lines[i + 1]):
            raise SystemExit(f"README.md:{i + 1}: example {name!r} is not followed by a ``` block")
        first = i + 2
        end = first
        while end < len(lines) and not FENCE.match(lines[end]):
            end += 1
        if end == len(lines):
            raise SystemExit(f"README.md:{i + 2}: example {name!r}: the block is never closed")
        steps: list[Step] = []
        for line in lines[first:end]:
            if line.startswith(PROMPT):
                steps.append(Step(line[len(PROMPT) :]))
            elif not steps:
                raise SystemExit(f"README.md:{first + 1}: example {name!r} must start with '$ '")
            else:
                steps[-1].output.append(line)
        if any(b.name == name for b in blocks):
            raise SystemExit(f"README.md:{i + 1}: a second example is named {name!r}")
        blocks.append(Block(name, first, end, steps))
        i = end + 1
    return blocks


def shipped_versions() -> set[str]:
    """Versions in the real store: their names and dates are stable, so they are compared."""
    return {p.name for p in STORE.iterdir() if p.is_dir() and VERSION.fullmatch(p.name)}


def normalise(lines: list[str], stable_versions: set[str]) -> list[str]:
    """Replace what must vary between runs by placeholders, so only real changes remain."""
    out = []
    for line in lines:
        new_versions = [v for v in VERSION.findall(line) if v not in stable_versions]
        for version in new_versions:
            line = line.replace(version, "<new version>")
        if new_versions:
            line = TIMESTAMP.sub("<time>", line)
        line = JSON_TIMING.sub(r"\1<t>", line)
        line = RATE.sub(r"<n> \1/s", line)
        line = DURATION.sub("<t>", line)
        line = ABSOLUTE_STORE.sub("<root>/", line)
        out.append(line.rstrip())
    return out


DECIMAL = re.compile(r"-?\d+\.\d+")
#: Scores move in their last places between CPUs (fp32 rounding), and an example that trains a
#: model may see one borderline headline decided the other way: on a topic with ~40 true
#: headlines that moves its F1 by 0.004-0.01 (seen: 0.7802 on AVX2, 0.7760 on AVX-512). Bigger
#: moves, or any change in words, counts or labels, still fail the check.
DECIMAL_TOLERANCE = 0.01


def same_output(shown: list[str], new: list[str]) -> bool:
    """Equal line by line, decimals within DECIMAL_TOLERANCE (plus 0.1% of their size)."""
    if len(shown) != len(new):
        return False
    for a, b in zip(shown, new, strict=True):
        if DECIMAL.split(a) != DECIMAL.split(b):
            return False
        for x, y in zip(DECIMAL.findall(a), DECIMAL.findall(b), strict=True):
            if abs(float(x) - float(y)) > DECIMAL_TOLERANCE + 1e-3 * abs(float(x)):
                return False
    return True


# -- running --------------------------------------------------------------------------------
def without_exports(folder: str, names: list[str]) -> list[str]:
    """Copy the versions, not the 150 MB of ONNX exports: those are linked."""
    return ["encoders"] if Path(folder) == STORE else []


@contextmanager
def workspace() -> Iterator[Path]:
    """A scratch copy of what the examples touch, removed afterwards whatever happens."""
    with tempfile.TemporaryDirectory(prefix="readme-examples-") as tmp:
        work = Path(tmp)
        (work / "data").symlink_to(ROOT / "data")
        models = work / "models"
        shutil.copytree(STORE, models, ignore=without_exports)
        (models / "encoders").symlink_to(STORE / "encoders")
        write_example_files(work)
        yield work


def environment(work: Path) -> dict[str, str]:
    """The user's environment minus our settings, plus what makes a run offline and repeatable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HEADLINE_TOPICS_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        HEADLINE_TOPICS_MODELS=str(work / "models"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",  # stdout and stderr interleave as on a terminal
        COLUMNS="80",
        LC_ALL="C.UTF-8",
    )
    env.pop("VIRTUAL_ENV", None)
    return env


def free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def wait_ready(port: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Block until the service answers /readyz with 200; its log explains a failed start."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the service exited ({server.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the service was not ready within {READY_TIMEOUT_S} s:\n{log.read_text()}")


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop a background command and its children (gunicorn's workers): its own group only."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def run_block(block: Block) -> list[Step]:
    """Run a block's commands in a fresh workspace and return them with what they printed."""
    port = free_port()
    results: list[Step] = []
    servers: list[tuple[subprocess.Popen[bytes], Path]] = []
    with workspace() as work:
        env = environment(work)
        try:
            for step in block.steps:
                command = PORT_IN_COMMAND.sub(port, step.command)
                if command.rstrip().endswith("&"):
                    log = work / f".server-{len(servers)}.log"
                    with log.open("wb") as sink:
                        server = subprocess.Popen(
                            ["bash", "-c", command.rstrip().rstrip("&")],
                            cwd=work,
                            env=env,
                            stdout=sink,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    servers.append((server, log))
                    results.append(Step(step.command))
                    continue
                for server, log in servers:
                    wait_ready(port, server, log)
                done = subprocess.run(
                    ["bash", "-c", command],
                    cwd=work,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    timeout=COMMAND_TIMEOUT_S,
                    check=False,
                )
                text = done.stdout.decode("utf-8", errors="backslashreplace")
                text = text.replace(str(work), str(ROOT)).replace(f":{port}", f":{EXAMPLE_PORT}")
                results.append(Step(step.command, [line.rstrip() for line in text.splitlines()]))
        finally:
            for server, _ in servers:
                stop(server)
    return results


def render(steps: list[Step]) -> list[str]:
    return [line for step in steps for line in [PROMPT + step.command, *step.output]]


def ensure_export() -> bool:
    """Make a missing ONNX export first (in models/encoders, as ./dev serve would), so that no
    example prints its making; when it exists this takes under a second."""
    env = environment(ROOT)
    del env["HEADLINE_TOPICS_MODELS"]
    command = ["headline-topics", "export", "--backend", "onnx-int8"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        logger.error("could not make the ONNX export:\n%s%s", done.stdout, done.stderr)
    return done.returncode == 0


def rerun(block: Block, stable: set[str]) -> tuple[bool, list[str], list[str]] | None:
    """Run one block: (unchanged?, what it shows, what it prints now), or None if it failed."""
    started = time.monotonic()
    try:
        actual = run_block(block)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        logger.error("%s: could not run the example: %s", block.name, exc)
        return None
    if any(CRASH in line for step in actual for line in step.output):
        logger.error("%s: a command crashed:\n%s", block.name, "\n".join(render(actual)))
        return None
    shown, new = normalise(render(block.steps), stable), normalise(render(actual), stable)
    elapsed = time.monotonic() - started
    unchanged = same_output(shown, new)
    logger.info("%-14s %s (%.0f s)", block.name, "same" if unchanged else "CHANGED", elapsed)
    return unchanged, shown, render(actual)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail if an output changed (default)")
    mode.add_argument("--update", action="store_true", help="rewrite the blocks in the file")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this example")
    parser.add_argument("--readme", type=Path, default=README, help="default: README.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    readme: Path = args.readme
    if not (STORE / "CURRENT").is_file():
        logger.error("no shipped model in %s: the examples need it (models/CURRENT)", STORE)
        return 3
    lines = readme.read_text(encoding="utf-8").splitlines()
    blocks = [b for b in parse(lines) if not args.only or b.name in args.only]
    if not blocks:
        logger.error("%s has no '<!-- example: NAME -->' block to run", readme.name)
        return 2
    if not ensure_export():
        return 1
    stable = shipped_versions()
    changed: list[str] = []
    for block in reversed(blocks):  # bottom up, so rewriting a block keeps the others' lines
        result = rerun(block, stable)
        if result is None:
            return 1  # nothing is rewritten after a failure
        same, shown, new = result
        if same:
            continue
        changed.insert(0, block.name)
        if args.update:
            lines[block.first : block.end] = new
        else:
            diff = difflib.unified_diff(
                shown, normalise(new, stable), readme.name, "now", lineterm=""
            )
            logger.info("\n".join(diff))
    if args.update:
        if changed:
            tmp = readme.with_name(f".{readme.name}.tmp")
            tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
            os.replace(tmp, readme)
        logger.info("rewrote %d example(s): %s", len(changed), ", ".join(changed) or "none")
        return 0
    if changed:
        logger.error(
            "%d example(s) in %s differ from the current build: %s\n"
            "run .venv/bin/python scripts/readme_examples.py --update and read the diff",
            len(changed),
            readme.name,
            ", ".join(changed),
        )
        return 1
    logger.info("all examples in %s match the current build", readme.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
