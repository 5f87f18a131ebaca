"""The options of ``tag --clusters stories`` (the story tracker), and their checks.

They mean something only when tracking stories, so each one given without ``--clusters
stories`` is refused by name rather than ignored; ``--story-quiet`` counts rows without a time
column and takes a unit (``30d``, ``12h``, ``2w``, ``1y``; a bare number is days) with one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from classifier.clustering.levels import STORIES
from classifier.clustering.times import parse_period

if TYPE_CHECKING:
    from classifier.tagging.stories import StoryOptions

_OPTIONS = {
    "time_column": "--time-column",
    "story_quiet": "--story-quiet",
    "story_state": "--story-state",
    "stories_from": "--stories-from",
}


def _period(text: str) -> str:
    """An argparse type: a quiet period that :func:`parse_period` reads (kept as text, since
    its meaning, rows or days, depends on --time-column)."""
    try:
        parse_period(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


_period.__name__ = "period"


def add_story_options(tag: argparse.ArgumentParser) -> None:
    group = tag.add_argument_group("stories (with --clusters stories; docs/tagging.md#stories)")
    group.add_argument(
        "--time-column",
        metavar="COLUMN",
        help="column with each row's date, datetime or year; rows are taken in file order and a "
        "story closes after --story-quiet without news (default: the row's place in the file)",
    )
    group.add_argument(
        "--story-quiet",
        type=_period,
        metavar="PERIOD",
        help="close a story after this long without a new headline: with --time-column a "
        "period (30d, 12h, 2w, 1y; default 30d), else a number of rows (default 10000)",
    )
    group.add_argument(
        "--story-state",
        metavar="DIR",
        help="where to save the tracker's state for a later file (default OUTPUT.stories)",
    )
    group.add_argument(
        "--stories-from",
        metavar="DIR",
        help="carry on the stories (and ids) of an earlier run, from the state it saved",
    )


def story_options(args: argparse.Namespace) -> StoryOptions | None:
    """The tracker's options from the command line; ValueError for one that does not apply."""
    from classifier.tagging.stories import StoryOptions

    if args.clusters != STORIES:
        for dest, option in _OPTIONS.items():
            if getattr(args, dest) is not None:
                raise ValueError(f"{option} applies to --clusters stories only")
        return None
    quiet: float | None = None
    if args.story_quiet is not None:
        if args.time_column is not None:
            quiet = parse_period(args.story_quiet)
        elif args.story_quiet.isdigit():
            quiet = float(int(args.story_quiet))
        else:
            raise ValueError(
                f"--story-quiet counts rows without --time-column: a whole number, "
                f"not {args.story_quiet!r}"
            )
    return StoryOptions(
        time_column=args.time_column,
        quiet=quiet,
        state=Path(args.story_state) if args.story_state else None,
        start_from=Path(args.stories_from) if args.stories_from else None,
    )
