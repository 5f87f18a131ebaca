"""What every tagging run shares, whichever engine runs it: its identity, counters and summary.

A run is identified by a *job* (input file, size and mtime, model, encoder, options): a resumed
run must present the same job, so that a changed input or model is refused instead of mixed in.
The counters are saved with each checkpoint, so a resumed run's summary adds up to the whole
archive. Both the local and the Dask engine build their job, counters and summary here.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.config import DEFAULT_MAX_HEADLINE_CHARS, UNCERTAIN_BELOW
from classifier.errors import DataError
from classifier.files import would_overwrite
from classifier.readers.formats import FileFormat
from classifier.readers.urls import is_url, url_identity
from classifier.tagging.results import TagResult, issue_kind

ProgressCallback = Callable[[int, int | None], None]  # (rows done, estimated total or None)


def check_paths(input_path: Path | str, output_path: Path | str) -> None:
    """Refuse a missing input, or an output that would overwrite it, before any work."""
    if is_url(input_path) or is_url(output_path):
        if str(input_path) == str(output_path):
            raise DataError("the output would overwrite the input; choose another output file")
        if is_url(input_path):
            url_identity(str(input_path))  # a missing object or a folder is a clear error
            return
    input_path, output_path = Path(input_path), Path(output_path)
    if input_path.is_dir():
        raise DataError(f"{input_path} is a folder; name a CSV, JSONL or Parquet file")
    if not input_path.exists():
        raise DataError(f"{input_path}: no such file")
    if not is_url(output_path) and would_overwrite(output_path, input_path):
        raise DataError("the output would overwrite the input; choose another output file")


def input_identity(path: Path | str) -> dict[str, Any]:
    """What must not change between an interrupted run and its resumption."""
    if is_url(path):
        return url_identity(str(path))
    path = Path(path)
    stat = path.stat()
    return {"input": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def make_job(
    input_path: Path | str,
    *,
    text_column: str,
    model: str,
    encoder: str,
    clusters: str | None,
    output_format: FileFormat | str,
    engine: str,
    **extra: Any,
) -> dict[str, Any]:
    """The identity of a run, as its resume state records it (the key order is the file's)."""
    if isinstance(output_format, FileFormat):
        output_format = output_format.label
    return {
        **input_identity(input_path),
        "text_column": text_column,
        "model": model,
        "encoder": encoder,
        "clusters": clusters,
        "output_format": output_format,
        "engine": engine,
        **extra,
    }


def reading_identity(
    encoding: str | None,
    header: bool,
    max_chars: int,
    uncertain_below: float = UNCERTAIN_BELOW,
) -> dict[str, Any]:
    """How the input is read and its rows marked, for the job: a resumed run must do both the
    same way, or one output would hold two meanings of ``uncertain``. Recorded only when not
    the default, so that the runs of earlier versions still resume."""
    identity: dict[str, Any] = {}
    if encoding is not None:
        identity["encoding"] = encoding
    if not header:
        identity["header"] = False
    if max_chars != DEFAULT_MAX_HEADLINE_CHARS:
        identity["max_headline_chars"] = max_chars
    if uncertain_below != UNCERTAIN_BELOW:
        identity["uncertain_below"] = uncertain_below
    return identity


def clusters_id(level: str, sample: int) -> str:
    """How a run's job records its ``--clusters`` options (the level and the sample size)."""
    return f"{level}, fitted on {sample} distinct headlines"


def refuse_changed_job(
    output: Path, saved: dict[str, Any], job: dict[str, Any], keys: list[str] | None = None
) -> None:
    """Refuse to resume ``output`` when the job differs from the interrupted run's (in ``keys``,
    else in any key), naming each difference."""
    if keys is None:
        keys = sorted(set(saved) | set(job))
    changed = [key for key in keys if saved.get(key) != job.get(key)]
    if changed:
        details = "; ".join(f"{k}: was {saved.get(k)!r}, now {job.get(k)!r}" for k in changed)
        raise DataError(
            f"cannot resume {output}: the run is not the same ({details}); start over with --force"
        )


@dataclass
class Counters:
    """Running totals that go into the summary; saved in the state so a resumed run adds up."""

    rows: int = 0
    tagged: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)
    topics: Counter = field(default_factory=Counter)
    unclustered: int = 0  # tagged rows that no cluster took (cluster -1)

    def add(self, result: TagResult) -> None:
        self.rows += len(result.errors)
        if result.cluster is not None:
            self.unclustered += sum(1 for c in result.cluster if c == -1)
        for topic, error in zip(result.topic, result.errors, strict=True):
            if error:
                self.skipped += 1
                self.reasons[issue_kind(error)] += 1
            else:
                self.tagged += 1
                self.topics[topic] += 1

    def merge(self, other: Counters) -> None:
        """Add the totals of another part of the same run (a Dask partition)."""
        self.rows += other.rows
        self.tagged += other.tagged
        self.skipped += other.skipped
        self.reasons.update(other.reasons)
        self.topics.update(other.topics)
        self.unclustered += other.unclustered

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "tagged": self.tagged,
            "skipped": self.skipped,
            "reasons": dict(self.reasons),
            "topics": dict(self.topics),
            "unclustered": self.unclustered,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Counters:
        return cls(
            rows=int(data.get("rows", 0)),
            tagged=int(data.get("tagged", 0)),
            skipped=int(data.get("skipped", 0)),
            reasons=Counter(data.get("reasons", {})),
            topics=Counter(data.get("topics", {})),
            unclustered=int(data.get("unclustered", 0)),
        )


@dataclass
class TagSummary:
    """What a run did, for people (``lines``) and for machines (``to_dict``)."""

    input: str
    output: str
    model: str
    engine: str
    counters: Counters
    elapsed: float
    rows_this_run: int
    resumed_after: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of_run(
        cls,
        paths: tuple[Path, Path],
        model: str,
        engine: str,
        counters: Counters,
        *,
        started: float,
        resumed: int,
        stats: dict[str, int] | None = None,
    ) -> TagSummary:
        """The summary of a run over ``paths`` (input, output) that began at ``started``."""
        return cls(
            str(paths[0]),
            str(paths[1]),
            model,
            engine,
            counters,
            elapsed=time.monotonic() - started,
            rows_this_run=counters.rows - resumed,
            resumed_after=resumed,
            stats=stats or {},
        )

    @property
    def rows_per_second(self) -> float:
        return self.rows_this_run / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        c = self.counters
        return {
            "input": self.input,
            "output": self.output,
            "model": self.model,
            "engine": self.engine,
            "rows_in": c.rows,
            "rows_tagged": c.tagged,
            "rows_skipped": c.skipped,
            "skipped_reasons": dict(c.reasons.most_common()),
            "topics": dict(c.topics.most_common()),
            "unclustered": c.unclustered,
            "resumed_after": self.resumed_after,
            "rows_this_run": self.rows_this_run,
            "elapsed_seconds": round(self.elapsed, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            **self.stats,
        }

    def lines(self) -> list[str]:
        c = self.counters
        out = [f"tagged {self.input} -> {self.output} with model {self.model} ({self.engine})"]
        resumed = f" (resumed after {self.resumed_after:,})" if self.resumed_after else ""
        out.append(f"rows in: {c.rows:,}{resumed}  tagged: {c.tagged:,}  skipped: {c.skipped:,}")
        for reason, count in c.reasons.most_common():
            out.append(f"  skipped {count:,}: {reason}")
        width = max((len(t) for t in c.topics), default=5)
        for topic, count in c.topics.most_common():
            share = count / c.tagged if c.tagged else 0.0
            out.append(f"  {topic:<{width}} {count:>10,}  {share:6.1%}")
        if self.stats:
            s = self.stats
            out.append(
                f"distinct headlines: {s.get('distinct', 0):,}  embedded: {s.get('encoded', 0):,}  "
                f"from cache: {s.get('cache_hits', 0):,}  duplicates reused: {s.get('reused', 0):,}"
            )
        if self.stats.get("cluster_sample"):
            s = self.stats
            out.append(
                f"clusters: {s['clusters']:,} fitted on {s['cluster_sample']:,} sampled headlines; "
                f"rows in no cluster: {c.unclustered:,}"
            )
        if "stories_started" in self.stats:
            s = self.stats
            behind = s.get("rows_behind_clock", 0)
            out.append(
                f"stories: {s['stories_started']:,} started, {s['stories_open']:,} still open"
                + (
                    f"; {behind:,} rows came too late for their time (see --time-column)"
                    if behind
                    else ""
                )
            )
        out.append(
            f"elapsed: {self.elapsed:.1f} s for {self.rows_this_run:,} rows "
            f"({self.rows_per_second:,.0f} rows/s)"
        )
        return out
