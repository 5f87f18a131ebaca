"""The report's charts, drawn with matplotlib: the only module of the package that imports it.

One figure per question: how many headlines each period has, how each topic's share moves, and
the timelines of the biggest stories. The same figures become inline SVG for the HTML report
(text drawn as paths, so the page needs no font and no network) and PNG files for people who
paste them into a memo. Matplotlib's Agg canvas is used directly (no pyplot, no global backend
switch), as :mod:`classifier.clustering.plot` does, so drawing is safe in any thread.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

from classifier.errors import HeadlineTopicsError
from classifier.files import write_atomic

INSTALL_HINT = (
    "charts need matplotlib, which is not installed: pip install 'headline-topics[report]'"
)
CHART_NAMES = ("volume", "topic-shares", "primary-shares", "stories")
MAX_TICKS = 12
# fixed so that the same document gives the same bytes (matplotlib stamps dates and random ids)
_RC = {"svg.hashsalt": "headline-topics", "svg.fonttype": "path", "font.size": 9}
_METADATA: dict[str, dict[str, Any]] = {
    "svg": {"Date": None, "Creator": None},
    "png": {"Software": None},
}


class ChartsUnavailable(HeadlineTopicsError, RuntimeError):
    """matplotlib is missing: --html and --png cannot be drawn."""


def require_matplotlib() -> None:
    """Refuse at once, with the install line, when charts cannot be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ChartsUnavailable(INSTALL_HINT) from exc


def _figure(title: str) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=10, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e4e4e4", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def _period_axis(axes: Any, labels: list[str], *, counts: bool = False) -> None:
    if counts:  # headlines come in whole numbers
        from matplotlib.ticker import MaxNLocator

        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    step = max(1, -(-len(labels) // MAX_TICKS))
    ticks = list(range(0, len(labels), step))
    rotated = step > 1  # many periods: slanted labels, anchored at their tick
    axes.set_xticks(
        ticks,
        [labels[i] for i in ticks],
        rotation=30 if rotated else 0,
        ha="right" if rotated else "center",
    )
    axes.set_xlim(-0.5, len(labels) - 0.5)


def _colour(i: int) -> Any:
    from matplotlib import colormaps

    return colormaps["tab10"](i % 10)


def _shares(doc: dict[str, Any], key: str, title: str) -> Any:
    figure, axes = _figure(title)
    labels = [row["period"] for row in doc["periods"]]
    x = range(len(labels))
    for i, topic in enumerate(doc["topics"]):
        # a period without tagged headlines has no share: a gap in the line, not a fall to 0
        values = [100 * row[key][topic] if row["tagged"] else math.nan for row in doc["periods"]]
        axes.plot(
            x,
            values,
            marker="o" if len(labels) <= 40 else None,
            markersize=3,
            color=_colour(i),
            label=topic,
            linewidth=1.5,
        )
    axes.set_ylabel("% of tagged headlines")
    axes.set_ylim(bottom=0)
    _period_axis(axes, labels)
    axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    return figure


def _volume(doc: dict[str, Any]) -> Any:
    figure, axes = _figure(f"headlines per {doc['by']}")
    labels = [row["period"] for row in doc["periods"]]
    axes.bar(range(len(labels)), [row["rows"] for row in doc["periods"]], color="#4c78a8")
    axes.set_ylabel("rows")
    _period_axis(axes, labels, counts=True)
    figure.tight_layout()
    return figure


def _stories(doc: dict[str, Any]) -> Any:
    figure, axes = _figure(f"biggest stories: headlines per {doc['by']}")
    labels = [row["period"] for row in doc["periods"]]
    for i, story in enumerate(doc["stories"]["timelines"]):
        words = ", ".join(story["keywords"][:3]) or "(no keywords)"
        axes.plot(
            range(len(labels)),
            story["counts"],
            color=_colour(i),
            linewidth=1.5,
            marker="o" if len(labels) <= 40 else None,
            markersize=3,
            label=f"#{story['story']} {words}",
        )
    axes.set_ylabel("headlines")
    axes.set_ylim(bottom=0)
    _period_axis(axes, labels, counts=True)
    axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    return figure


def figures(doc: dict[str, Any]) -> dict[str, Any]:
    """The charts this document has data for, by name (see :data:`CHART_NAMES`)."""
    require_matplotlib()
    import matplotlib

    out: dict[str, Any] = {}
    if not doc["periods"]:
        return out
    with matplotlib.rc_context(_RC):
        out["volume"] = _volume(doc)
        if doc["topics"]:
            out["topic-shares"] = _shares(
                doc, "shares", f"share of headlines carrying each topic, per {doc['by']}"
            )
            out["primary-shares"] = _shares(
                doc, "primary_shares", f"primary-topic share, per {doc['by']}"
            )
        if doc["stories"]["available"] and doc["stories"]["timelines"]:
            out["stories"] = _stories(doc)
    return out


def _render(figure: Any, fmt: str) -> bytes:
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC):
        figure.savefig(buffer, format=fmt, metadata=_METADATA[fmt])
    return buffer.getvalue()


def svg(figure: Any) -> str:
    """The figure as an ``<svg>`` element to put inside HTML (no XML prolog, no DOCTYPE)."""
    text = _render(figure, "svg").decode("utf-8")
    start = text.index("<svg")
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text[start:], flags=re.S)


def png_paths(folder: Path, names: list[str] | tuple[str, ...] = CHART_NAMES) -> list[Path]:
    return [folder / f"{name}.png" for name in names]


def write_pngs(doc: dict[str, Any], folder: str | Path) -> list[Path]:
    """One PNG file per chart in ``folder`` (which must exist), written atomically."""
    folder = Path(folder)
    written = []
    for name, figure in figures(doc).items():
        path = folder / f"{name}.png"
        write_atomic(path, _render(figure, "png"))
        written.append(path)
    return written
