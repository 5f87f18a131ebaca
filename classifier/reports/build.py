"""``build_report``: a tagged archive in, the report document (plain data, JSON-ready) out.

Two streaming passes, so memory follows periods, topics and stories, never rows: the first
counts (:class:`~classifier.reports.tally.Tally`), the second reads back only the headlines of
the stories and wire groups the report shows, for their keywords and canonical headline. A
column the report would use and the file lacks (``story``, ``wire_group``, ``topics``) turns
its section off with the reason in ``unavailable``; only a file that is no tagged archive at all
(no time column, no ``topic``) is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from classifier.errors import DataError
from classifier.readers.chunks import Chunk
from classifier.readers.stream import open_reader
from classifier.reports import sections
from classifier.reports.document import Sections, assemble
from classifier.reports.options import ReportOptions
from classifier.reports.periods import Undated
from classifier.reports.tally import Tally, story_id
from classifier.text import normalise_headline

CHUNK_ROWS = 8192
SAMPLE_HEADLINES = 40  # distinct headlines per shown story, for its keywords
CHART_STORIES = 8  # stories drawn in the timeline chart

Progress = Callable[[int, int | None], None]


def _column(chunk: Chunk, name: str | None) -> list[Any]:
    if name is None:
        return [None] * len(chunk)
    if chunk.table is not None:
        return chunk.table.column(name).to_pylist()
    return [record.get(name) for record in chunk.records or []]


def _chunks(path: Path, options: ReportOptions, progress: Progress | None) -> Iterator[Chunk]:
    with open_reader(
        path, text_column=options.text_column, reserved=set(), encoding=options.encoding
    ) as reader:
        done = 0
        for chunk in reader.chunks(CHUNK_ROWS):
            yield chunk
            done += len(chunk)
            if progress is not None:
                fraction = reader.fraction_done()
                total = reader.total_rows or (round(done / fraction) if fraction else None)
                progress(done, max(total, done) if total else None)


def _layout(path: Path, options: ReportOptions) -> dict[str, str | None]:
    """Which of the columns the report reads this file has; refuses a file that is no report's."""
    with open_reader(
        path, text_column=options.text_column, reserved=set(), encoding=options.encoding
    ) as reader:
        columns = set(reader.columns)
    if options.time_column not in columns:
        raise DataError(
            f"{path}: no {options.time_column!r} column; found {', '.join(sorted(columns))} "
            "(choose one with --time-column)"
        )
    if "topic" not in columns:
        raise DataError(
            f"{path}: no 'topic' column: this is not a tagged archive (run headline-topics tag)"
        )

    def present(name: str) -> str | None:
        return name if name in columns else None

    return {
        "time": options.time_column,
        "topic": "topic",
        "topics": present("topics"),
        "error": present("tag_error"),
        "story": present(options.story_column),
        "wire": present(options.wire_column),
        "wire_count": present(options.wire_count_column),
        "wire_canonical": present("wire_canonical"),
    }


def _unavailable(layout: dict[str, str | None], options: ReportOptions) -> list[str]:
    out = []
    if layout["topics"] is None:
        out.append("no 'topics' column: each headline counts for its primary topic only")
    if layout["story"] is None:
        out.append(
            f"no {options.story_column!r} column: top and emerging stories are unavailable "
            "(run headline-topics tag with --clusters stories)"
        )
    if layout["wire"] is None:
        out.append(
            f"no {options.wire_column!r} column: wire-copy groups are unavailable "
            "(run headline-topics tag with --clusters stories, which groups wire copies)"
        )
    return out


def count_archive(
    path: Path, options: ReportOptions, layout: dict[str, str | None], progress: Progress | None
) -> Tally:
    """The first pass: every row counted by period, topic, story and wire group."""
    tally = Tally(options.by)
    for chunk in _chunks(path, options, progress):
        values = [
            _column(chunk, layout[key])
            for key in ("time", "topic", "topics", "error", "story", "wire", "wire_count")
        ]
        for i, row in enumerate(zip(*values, strict=True)):
            issue = chunk.issues[i]
            time, topic, topics, error, story, wire, wire_count = row
            if issue:  # a row the reader could not parse whole is counted as untagged, not lost
                error = f"unreadable row: {issue}"
            tally.add(chunk.start + i + 1, time, topic, topics, error, story, wire, wire_count)
    return tally


def collect_headlines(
    path: Path,
    options: ReportOptions,
    layout: dict[str, str | None],
    tally: Tally,
    stories: set[Any],
    groups: set[Any],
) -> tuple[dict[Any, list[str]], dict[Any, str]]:
    """The second pass: up to :data:`SAMPLE_HEADLINES` distinct headlines of each story in
    ``stories``, and the canonical (else the first) headline of each wire group in ``groups``."""
    samples: dict[Any, dict[str, str]] = {s: {} for s in stories}
    canonical: dict[Any, str] = {}
    if not stories and not groups:
        return {}, {}
    for chunk in _chunks(path, options, None):
        story_ids = _column(chunk, layout["story"] if stories else None)
        group_ids = _column(chunk, layout["wire"] if groups else None)
        named = _column(chunk, layout["wire_canonical"] if groups else None)
        times = _column(chunk, layout["time"])
        dated = [not isinstance(tally.period(t), Undated) for t in times]
        for text, has_date, story, group, name in zip(
            chunk.texts, dated, story_ids, group_ids, named, strict=True
        ):
            if not has_date or not isinstance(text, str) or not text.strip():
                continue
            kept = samples.get(story_id(story))
            if kept is not None and len(kept) < SAMPLE_HEADLINES:
                kept.setdefault(normalise_headline(text), text.strip())
            group = story_id(group)
            if group in groups and group not in canonical:
                canonical[group] = name.strip() if isinstance(name, str) and name.strip() else text
    return {s: list(k.values()) for s, k in samples.items()}, canonical


def keywords_of(samples: dict[Any, list[str]]) -> dict[Any, list[str]]:
    """c-TF-IDF keywords of each story, its headlines against the other shown stories'."""
    from classifier.clustering.keywords import cluster_keywords  # scikit-learn: only when needed

    order = sorted(samples, key=str)
    texts = [t for s in order for t in samples[s]]
    labels = [i for i, s in enumerate(order) for _ in samples[s]]
    found = cluster_keywords(texts, labels) if texts else {}
    return {s: found.get(i, []) for i, s in enumerate(order)}


def build_report(
    path: str | os.PathLike[str], options: ReportOptions, *, progress: Progress | None = None
) -> dict[str, Any]:
    """The report on a tagged archive, as JSON-ready data (its shape: docs/reports.md)."""
    options.check()
    path = Path(path)
    layout = _layout(path, options)
    tally = count_archive(path, options, layout, progress)
    periods = sections.timeline(tally)
    found = Sections(
        periods=periods,
        topics=tally.topic_names(),
        top=sections.top_stories(tally, periods, options.top),
        emerging=sections.emerging_stories(
            tally,
            periods,
            window=options.emerging_window,
            ratio=options.emerging_ratio,
            min_size=options.emerging_min,
        ),
        chart=sections.biggest_stories(tally, CHART_STORIES),
        wire=sections.biggest_wire_groups(tally, options.wire_top),
    )
    found.emerging = sections.cap_per_period(found.emerging, options.top)
    shown = {s for entries in found.top.values() for s, _ in entries}
    shown |= {e.story for e in found.emerging} | {s for s, _ in found.chart}
    samples, canonical = collect_headlines(
        path, options, layout, tally, shown, {g for g, _ in found.wire}
    )
    found.keywords = keywords_of(samples)
    found.canonical = canonical
    return assemble(path, options, tally, found, _unavailable(layout, options))
