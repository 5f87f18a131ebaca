"""The ``headline-topics`` command: builds the parser from the command modules and dispatches.

Each sub-command lives in a module of its own with a ``register(add)`` function that adds its
options; what they share (common options, the store, encoder and model from the options,
printing, error handling) is in :mod:`classifier.cli._util`. No command imports this module, so
the dependencies point one way. Output meant for people or pipes goes to stdout; logging and
errors go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from classifier.cli import (
    cluster,
    diff,
    evaluate,
    export,
    export_index,
    models,
    predict,
    report,
    serve,
    suggest,
    tag,
    train,
)
from classifier.cli._util import EXPECTED_ERRORS, command_adder, run

__all__ = ["EXPECTED_ERRORS", "build_parser", "main"]

# In the order ``--help`` lists them.
COMMANDS = (
    train,
    models,
    evaluate,
    predict,
    serve,
    cluster,
    tag,
    report,
    export,
    export_index,
    suggest,
    diff,
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("headline-topics")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


class Parser(argparse.ArgumentParser):
    """argparse with the project's rule for a user's mistake: one line on stderr and exit 2 (the
    usage argparse prints first is what ``--help`` is for)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="headline-topics", description="Tell what news headlines are about.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    add = command_adder(sub)
    for command in COMMANDS:
        command.register(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return run(args)
