"""What a report is asked for: :class:`ReportOptions`, the command's options as one value."""

from __future__ import annotations

from dataclasses import dataclass

from classifier.reports.periods import PERIODS


@dataclass(frozen=True)
class ReportOptions:
    """What a report is asked for; the CLI's options, with the same defaults."""

    time_column: str
    by: str = "month"
    text_column: str = "headline"
    story_column: str = "story"
    wire_column: str = "wire_group"
    wire_count_column: str = "wire_count"
    top: int = 5
    wire_top: int = 10
    emerging_window: int = 3
    emerging_ratio: float = 3.0
    emerging_min: int = 5
    encoding: str | None = None

    def check(self) -> None:
        if self.by not in PERIODS:
            raise ValueError(f"--by must be one of {', '.join(PERIODS)}, not {self.by!r}")
        for name in ("top", "wire_top", "emerging_window", "emerging_min"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
        if not self.emerging_ratio > 0:
            raise ValueError("--emerging-ratio must be above 0")
