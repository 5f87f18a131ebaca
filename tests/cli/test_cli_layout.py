"""The command's shape: ``--help`` stays light, and no command imports the entry module.

``--help`` builds every command's options; if that imports torch, scikit-learn or scipy, every
``--help`` and every typo costs seconds. The check runs in a fresh interpreter, since this
test process has imported them long before.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = {"torch", "sklearn", "scipy"}
COMMANDS = [
    "train",
    "models",
    "promote",
    "evaluate",
    "predict",
    "serve",
    "cluster",
    "tag",
    "report",
    "export",
    "suggest",
    "diff",
]
CLI = ROOT / "classifier" / "cli"
ENTRY = ("__init__.py", "__main__.py")


def imported_by(*argv: str) -> set[str]:
    """Top-level packages ``python -m classifier.cli ARGV`` imports (read from -X importtime)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "classifier.cli", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage: headline-topics" in done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert lines, "no -X importtime report"
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines[1:]}


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_imports_no_torch_sklearn_or_scipy(command):
    argv = ["--help"] if command is None else [command, "--help"]
    assert imported_by(*argv) & HEAVY == set()


COMMAND_MODULES = sorted(p.name for p in CLI.glob("*.py") if p.name not in ENTRY)


@pytest.mark.parametrize("path", COMMAND_MODULES)
def test_commands_import_only_the_shared_helpers(path):
    """The entry module imports the commands; a command importing it back is a cycle."""
    tree = ast.parse((CLI / path).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "classifier":
            assert "cli" not in {alias.name for alias in node.names}, path
        if isinstance(node, ast.ImportFrom) and node.module == "classifier.cli":
            assert {alias.name for alias in node.names} == {"_util"}, path
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("classifier.cli."):
            # a command imports the shared helpers; _util may import its own private parts
            helpers = ("classifier.cli._",) if path.startswith("_") else ("classifier.cli._util",)
            assert node.module.startswith(helpers), path
        if isinstance(node, ast.Import):
            assert all(alias.name != "classifier.cli" for alias in node.names), path
