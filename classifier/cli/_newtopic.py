"""``train``'s options for a topic known only by a description (a zero-shot start).

Kept apart from :mod:`classifier.cli.train` so the train command gains one argument group and
one keyword; the topic itself is :mod:`classifier.topics.zeroshot`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from classifier.topics.zeroshot import TopicDescription


def add_new_topic_options(command: argparse.ArgumentParser) -> None:
    group = command.add_argument_group(
        "new topic without examples",
        "a zero-shot start: the topic is scored by similarity to its description and seed "
        "phrases (same encoder), marked zero-shot in the manifest and in every answer, until "
        "DATA has labelled examples of it (docs/teach.md#a-new-topic)",
    )
    group.add_argument("--new-topic", metavar="NAME", help="name of the topic, e.g. climate")
    group.add_argument(
        "--describe", metavar="TEXT", help="what the topic covers, in a sentence or two"
    )
    group.add_argument(
        "--seed-phrase",
        metavar="PHRASE",
        action="append",
        help="a phrase typical of the topic, e.g. 'carbon emissions' (repeat for more)",
    )


def new_topics(args: argparse.Namespace) -> list[TopicDescription]:
    """The described topic of the options (empty when there is none), checked."""
    from classifier.topics.zeroshot import TopicDescription

    seeds = tuple(args.seed_phrase or ())
    if args.new_topic is None:
        if args.describe is not None or seeds:
            raise ValueError("--describe and --seed-phrase need --new-topic NAME")
        return []
    if args.describe is None:
        raise ValueError(f"--new-topic {args.new_topic} needs --describe TEXT")
    topic = TopicDescription(args.new_topic, args.describe, seeds)
    return [topic.checked()]
