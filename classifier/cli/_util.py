"""What every ``headline-topics`` command shares, so that no command imports another one.

The options every command takes, the model store, encoder and model they name, the one way to
print, and the one way a user's mistake ends a command. Command modules import this module and
never the package's ``__init__``, which imports them to build the parser: that is what keeps the
graph free of cycles (spaCy's ``cli/_util.py`` plays the same part).

``headline-topics --help`` builds every command's options, so this module and the command modules
import nothing heavy at module level: torch, scikit-learn and scipy load inside the functions
that open a store, an encoder or a model, which only a command that runs calls.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from classifier import config
from classifier.cli._newtopic import add_new_topic_options, new_topics  # re-exported, as below
from classifier.cli._progress import (  # re-exported: commands use them as _util.*
    PROGRESS_SLICE,
    EncodingProgress,
    ProgressBar,
    add_progress_option,
)
from classifier.cli._stories import add_story_options, story_options  # re-exported, for tag
from classifier.encoders.base import BACKENDS
from classifier.errors import HeadlineTopicsError
from classifier.files import would_overwrite
from classifier.readers.decoding import text_encoding

if TYPE_CHECKING:
    from classifier.encoders.base import Encoder
    from classifier.topics.model import TopicModel
    from classifier.topics.store import ModelStore

# The CLI's own logger (the name people see on stderr); library modules log under classifier.*.
logger = logging.getLogger("headline_topics")

BACKEND_HELP = (
    f"encoder backend: {', '.join(BACKENDS[:-1])} or {BACKENDS[-1]} (default: "
    "$HEADLINE_TOPICS_ENCODER_BACKEND, else the one the model was trained on)"
)
# Errors that end a command with one line and exit 2 rather than a traceback: the package's own,
# and the built-in ones its checks and the file system raise for a user's mistake.
EXPECTED_ERRORS = (HeadlineTopicsError, ValueError, OSError)

Handler = Callable[[argparse.Namespace], int]
__all__ = [
    "PROGRESS_SLICE",
    "EncodingProgress",
    "ProgressBar",
    "add_new_topic_options",
    "add_progress_option",
    "add_story_options",
    "new_topics",
    "story_options",
]


class AddCommand(Protocol):
    """What each command module's ``register`` is handed to add its sub-command."""

    def __call__(
        self, name: str, handler: Handler, help_text: str, *, backend_help: str | None = ...
    ) -> argparse.ArgumentParser: ...


# -- options ---------------------------------------------------------------------------------------
def add_common_options(command: argparse.ArgumentParser, *, backend_help: str | None) -> None:
    """--models-dir and --encoder on every command; --backend where the command embeds."""
    command.add_argument(
        "--models-dir",
        help="model store (default: $HEADLINE_TOPICS_MODELS, else ./models if it exists, else "
        "the store bundled with the package, read-only: train and promote refuse to write there)",
    )
    command.add_argument(
        "--encoder", help="local sentence-transformers folder (default: bundled MiniLM)"
    )
    if backend_help:
        command.add_argument("--backend", choices=BACKENDS, help=backend_help)


def add_input_options(
    command: argparse.ArgumentParser, *, what: str, encoding_default: str | None = None
) -> None:
    """The options of every command that reads headlines from a file: --encoding, --no-header
    and --max-headline-chars, worded alike everywhere."""
    shown = (
        f"default {encoding_default}: UTF-8, with or without a byte-order mark"
        if encoding_default
        else "default UTF-8; a byte-order mark is dropped"
    )
    command.add_argument(
        "--encoding", default=encoding_default, help=f"text encoding of {what} ({shown})"
    )
    command.add_argument(
        "--no-header",
        action="store_true",
        help=f"{what} is a CSV/TSV without a header row: its columns are named by number, "
        "1, 2, ... so --text-column 2 is the second",
    )
    add_max_headline_chars(command)


def add_labelled_columns(command: argparse.ArgumentParser) -> None:
    """--text-column and --label-column, for the commands that read labelled files."""
    command.add_argument(
        "--text-column",
        default="headline",
        help="column of the headlines (default headline; with --no-header, its number)",
    )
    command.add_argument(
        "--label-column",
        default="topic",
        help="column of the topics (default topic; with --no-header, its number)",
    )


def labelled_reading(args: argparse.Namespace) -> dict[str, Any]:
    """What train and evaluate pass on to the reader of a labelled file."""
    return {
        "encoding": args.encoding,
        "text_column": args.text_column,
        "label_column": args.label_column,
        "header": not args.no_header,
        "max_chars": max_headline_chars(args),
    }


def add_max_headline_chars(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--max-headline-chars",
        type=whole_number(1),
        metavar="N",
        help="longest headline accepted, in characters; a longer one is flagged with why, "
        f"never cut or embedded (default: ${config.MAX_HEADLINE_CHARS_ENV}, else "
        f"{config.DEFAULT_MAX_HEADLINE_CHARS})",
    )


def add_uncertain_below(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--uncertain-below",
        type=number_between(0, 1),
        default=config.UNCERTAIN_BELOW,
        help="mark answers with a confidence under this as uncertain "
        f"(default {config.UNCERTAIN_BELOW:g})",
    )


def max_headline_chars(args: argparse.Namespace) -> int:
    """The headline length limit in force: --max-headline-chars, the environment, or 1000."""
    value = getattr(args, "max_headline_chars", None)
    if value is not None and value < 1:
        raise ValueError(f"--max-headline-chars must be at least 1, not {value}")
    return config.max_headline_chars(value)


def command_adder(sub: argparse._SubParsersAction) -> AddCommand:
    """The ``add`` function handed to each command module's ``register``."""

    def add(
        name: str, handler: Handler, help_text: str, *, backend_help: str | None = BACKEND_HELP
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        add_common_options(command, backend_help=backend_help)
        return command

    return add


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def positive_number(text: str) -> float:
    """An argparse type: a finite number above zero (``0``, ``-1``, ``inf`` and ``nan`` are not)."""
    value = _finite(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, not {text}")
    return value


def non_negative_number(text: str) -> float:
    """An argparse type: a finite number of at least zero (``-1``, ``inf`` and ``nan`` are not)."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``minimum`` (to ``maximum``), so that a count of 0 or
    a port of 70000 is refused by the option's name before any work."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if maximum is not None and not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be between {minimum} and {maximum}, not {text}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {text}")
        return value

    parse.__name__ = "whole number"
    return parse


def number_between(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number from ``low`` to ``high`` (``nan`` and ``inf`` are not)."""

    def parse(text: str) -> float:
        value = _finite(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}, not {text}")
        return value

    parse.__name__ = "number"
    return parse


def require_at_least_one(args: argparse.Namespace, *dests: str, show_value: bool = False) -> None:
    """Refuse a count option below 1 (unset ones pass), naming the option the user typed."""
    for dest in dests:
        value = getattr(args, dest)
        if value is not None and value < 1:
            option = "--" + dest.replace("_", "-")
            raise ValueError(
                f"{option} must be at least 1" + (f", not {value}" if show_value else "")
            )


# -- files a command writes -------------------------------------------------------------------------
def require_output_folder(path: str | os.PathLike[str], what: str) -> Path:
    """The one rule for where a command writes a file: into a folder that exists.

    No command creates a missing folder for its output (a typo in a path would otherwise become a
    new folder and a file nobody finds); the model store (``--models-dir``) and the caches are
    stores, not outputs, and are created when first used.
    """
    target = Path(path)
    folder = target.parent
    if not folder.exists():
        raise FileNotFoundError(f"{what} {path}: folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise NotADirectoryError(f"{what} {path}: {folder} is not a folder")
    return target


def check_writable(path: str | None, force: bool, what: str) -> Path | None:
    """A file an option names for output: refused before the slow work, not after it, when it is
    a folder, exists (without --force) or its folder does not."""
    if path is None:
        return None
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder; give a file name")
    if target.exists() and not force:
        raise FileExistsError(f"{what} {path} already exists; pass --force to overwrite it")
    return require_output_folder(target, what)


def check_file_and_out(args: argparse.Namespace, path: str, what: str) -> Path | None:
    """--out (not ``path``, named ``what``), ``path`` and --encoding checked before a model loads."""
    out = check_writable(args.out, args.force, "--out")
    if out is not None and would_overwrite(out, Path(path)):
        raise ValueError(f"--out {args.out} is {what} itself; name another file")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such file")
    text_encoding(args.encoding)
    return out


# -- store, encoder, model -------------------------------------------------------------------------
def store_from(args: argparse.Namespace) -> ModelStore:
    """The model store --models-dir names, else ``config.models_dir()`` (see there)."""
    from classifier.topics.store import ModelStore

    return ModelStore(args.models_dir or config.models_dir())


def new_encoder(args: argparse.Namespace) -> Encoder:
    """The encoder for new work (training, clustering without a model): --backend or the default."""
    from classifier.encoders import make_embedder

    backend = getattr(args, "backend", None) or config.encoder_backend() or config.DEFAULT_BACKEND
    return make_embedder(
        args.encoder or config.encoder_path(),
        backend=backend,
        cache_dir=config.encoder_cache_dir(args.models_dir),
    )


def model_encoder(
    manifest: Mapping[str, Any], args: argparse.Namespace, models_dir: Path, **options: Any
) -> Encoder:
    """The encoder a saved model runs with: the one it was trained on, unless --encoder or
    --backend say otherwise; ``options`` (batch size, threads) go to the encoder."""
    from classifier.encoders import embedder_for

    return embedder_for(
        manifest,
        encoder=args.encoder,
        backend=getattr(args, "backend", None),
        models_dir=models_dir,
        **options,
    )


def load_model(args: argparse.Namespace) -> TopicModel:
    """The model --model names (default: the current one) with the encoder it runs with."""
    store = store_from(args)
    name = store.resolve(getattr(args, "model", None))
    return store.load(name, embedder=model_encoder(store.read_manifest(name), args, store.root))


# -- output ----------------------------------------------------------------------------------------
def emit(line: str) -> None:
    """One line for people or pipes on stdout (logging goes to stderr)."""
    sys.stdout.write(line + "\n")


def emit_lines(lines: Iterable[str]) -> None:
    for line in lines:
        emit(line)


def emit_json(value: Any, **dumps: Any) -> None:
    emit(json.dumps(value, **dumps))


def tell(line: str) -> None:
    """A line for the person at the terminal (progress, interruptions, errors): stderr."""
    sys.stderr.write(line + "\n")


def per_class_table(per_class: Mapping[str, Mapping[str, Any]]) -> str:
    """Precision, recall, F1 and support per topic, as ``train`` and ``evaluate`` print them."""
    lines = [f"{'topic':<14}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for label, row in per_class.items():
        lines.append(
            f"{label:<14}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}"
            f"{row['support']:>10}"
        )
    return "\n".join(lines)


# -- running a command -----------------------------------------------------------------------------
# The exit code of a command whose reader went away (``models | head -1``): what a shell reports
# for a program that SIGPIPE ended, as ``yes | head -1`` gives; Python ignores SIGPIPE itself.
CLOSED_PIPE_EXIT = 128 + 13


def _closed_pipe() -> int:
    """End quietly after stdout's reader has gone: no message, no traceback.

    Python's advice (the ``signal`` module's notes on SIGPIPE): point stdout at /dev/null, so the
    flush at interpreter exit has somewhere to put what is still buffered instead of failing again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is no file (a test's capture): nothing to redirect
        pass
    return CLOSED_PIPE_EXIT


def run(args: argparse.Namespace) -> int:
    """Run the chosen command: a user's mistake is one line on stderr and exit 2, Ctrl-C is 130,
    a closed pipe on stdout a quiet exit (:data:`CLOSED_PIPE_EXIT`)."""
    try:
        code = args.handler(args)
        sys.stdout.flush()  # here, where a closed pipe can still be told from a failure
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except EXPECTED_ERRORS as exc:
        tell(f"headline-topics {args.command}: error: {exc}")
        return 2
    except KeyboardInterrupt:
        tell("interrupted")
        return 130
