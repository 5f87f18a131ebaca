"""What the tagger adds to every row: the tag columns and their values for one chunk.

The names and their order are written down once, here; the writers and the summary counters
take them from ``TAG_COLUMNS`` and :meth:`TagResult.columns`, so the CSV, JSONL and Parquet
outputs cannot disagree about which columns a tagged row has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from classifier.config import UNCERTAIN_BELOW

TAG_COLUMNS = ("topic", "confidence", "topics", "uncertain", "model", "tag_error")
CLUSTER_COLUMN = "cluster"
STORY_COLUMNS = ("story", "wire_group", "wire_count")  # --clusters stories (the story tracker)
TOPICS_SEPARATOR = ";"  # between the names in a CSV ``topics`` cell
STORIES_KIND = "stories"
# Which cluster columns a run adds: False none, True ``cluster``, "stories" STORY_COLUMNS.
ClusterColumns = bool | str


def output_columns(clusters: ClusterColumns) -> tuple[str, ...]:
    """The columns a run adds, in output order: the tag columns, then the cluster columns."""
    if clusters == STORIES_KIND:
        return TAG_COLUMNS + STORY_COLUMNS
    return TAG_COLUMNS + ((CLUSTER_COLUMN,) if clusters else ())


def issue_kind(issue: str) -> str:
    """The part of a ``tag_error`` message that summaries count by (before the first colon)."""
    return issue.split(":", 1)[0]


@dataclass
class TagResult:
    """What the tagger says about each row of a chunk (parallel lists)."""

    topic: list[str | None]
    confidence: list[float | None]
    topics: list[list[str]]
    errors: list[str]
    model: str
    cluster: list[int | None] | None = None
    stories: tuple[list[int | None], ...] | None = None  # story, wire_group, wire_count
    #: ``uncertain`` is judged on the 4-decimal confidence the row shows, so a reader who
    #: filters on ``confidence`` gets the same rows as one who filters on ``uncertain``.
    uncertain_below: float = UNCERTAIN_BELOW

    def uncertain(self) -> list[bool | None]:
        """Per row: is its confidence under ``uncertain_below`` (None: the row has no label)."""
        bar = self.uncertain_below
        return [None if score is None else score < bar for score in self.confidence]

    def columns(self, clusters: ClusterColumns) -> list[list[Any]]:
        """One list of values per column of ``output_columns(clusters)``, in that order."""
        n = len(self.errors)
        values = [
            self.topic,
            self.confidence,
            self.topics,
            self.uncertain(),
            [self.model] * n,
            self.errors,
        ]
        if clusters == STORIES_KIND:
            values.extend(self.stories if self.stories is not None else [[None] * n] * 3)
        elif clusters:
            values.append(self.cluster if self.cluster is not None else [None] * n)
        return values
