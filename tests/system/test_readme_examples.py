"""The examples in README.md and docs/service.md are real output of the current build.

The slow tests run every example (scripts/readme_examples.py) and fail, with the script's diff,
when an output changed; the fast ones pin what the script ignores, so that a real change cannot
hide behind normalisation.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "readme_examples.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme_examples", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


examples = load_script()


def test_blocks_are_found_with_their_commands_and_outputs():
    lines = [
        "text",
        "<!-- example: one -->",
        "```",
        "$ echo a",
        "a",
        "$ echo b &",
        "```",
        "<!-- example: two -->",
        "```",
        "$ true",
        "```",
    ]
    first, second = examples.parse(lines)
    assert (first.name, first.first, first.end) == ("one", 3, 6)
    assert [(s.command, s.output) for s in first.steps] == [("echo a", ["a"]), ("echo b &", [])]
    assert (second.name, [s.command for s in second.steps]) == ("two", ["true"])


@pytest.mark.parametrize(
    "lines",
    [
        ["<!-- example: x -->", "no fence"],
        ["<!-- example: x -->", "```", "output before any command", "```"],
        ["<!-- example: x -->", "```", "$ true"],
        ["<!-- example: x -->", "```", "$ true", "```", "<!-- example: x -->", "```", "$ a", "```"],
    ],
)
def test_a_malformed_block_is_an_error_not_a_skip(lines):
    with pytest.raises(SystemExit):
        examples.parse(lines)


def test_only_what_varies_is_normalised():
    shipped = {"v20261201-202857-44f64b54"}
    line = (
        "* v20261201-210052-4f75a7ec  2026-12-01T21:00:52+00:00  0.6832  "
        "v20261201-202857-44f64b54 2026-12-01T20:28:57+00:00"
    )
    assert examples.normalise([line], shipped) == [
        "* <new version>  <time>  0.6832  v20261201-202857-44f64b54 <time>"
    ]
    # the shipped version and its date, scores and counts are compared as they are
    same = "v20261201-202857-44f64b54 2026-12-01T20:28:57+00:00 0.9305 rows in: 7"
    assert examples.normalise([same], shipped) == [same]
    assert examples.normalise(["elapsed: 0.1 s for 7 rows (54 rows/s)"], shipped) == [
        "elapsed: <t> for 7 rows (<n> rows/s)"
    ]
    assert examples.normalise(['{"elapsed_seconds": 1.14, "rows_in": 6430}'], shipped) == [
        '{"elapsed_seconds": <t>, "rows_in": 6430}'
    ]
    assert examples.normalise(["written to /tmp/readme-x/models/v1"], shipped) == [
        "written to <root>/models/v1"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("page", ["README.md", "docs/service.md"])
def test_every_example_matches_the_current_build(page):
    if not (ROOT / "models" / "CURRENT").is_file():
        pytest.skip("the shipped model (models/CURRENT) is missing")
    if not (ROOT / ".venv" / "bin" / "headline-topics").is_file():
        pytest.skip("no .venv/bin/headline-topics: run ./dev setup")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--readme", str(ROOT / page)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_decimals_may_move_in_their_last_places_between_cpus_but_nothing_else():
    same = examples.same_output
    assert same(
        ['"confidence": 0.9862, "topic": "trade"'], ['"confidence": 0.9871, "topic": "trade"']
    )
    # one borderline headline decided the other way by a model trained on another CPU
    assert same(["trade F1 0.7802 against 0.9143"], ["trade F1 0.7760 against 0.9143"])
    assert not same(['"confidence": 0.9862'], ['"confidence": 0.9662'])
    assert not same(["trade F1 0.7802"], ["trade F1 0.7602"])
    assert not same(['"topic": "trade", 0.98'], ['"topic": "health", 0.98'])
    assert not same(["a", "b"], ["a"])
