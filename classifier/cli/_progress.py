"""The progress bars of the commands: one :class:`ProgressBar` (tqdm on stderr) for ``tag``'s
rows and the encoding of ``evaluate``, ``cluster`` and ``train``. Re-exported by
:mod:`classifier.cli._util`, where the commands find them."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classifier.encoders.base import Encoder


# Headlines embedded between two moves of a bar. The int8 encoder gives the same bits whether a
# list comes in one call or in slices (it pads each run of similar lengths on its own); commands
# slice with or without a bar, so what they print never depends on stderr being a terminal.
PROGRESS_SLICE = 1024


def add_progress_option(command: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress``: a bar on stderr, by default when it is a terminal."""
    command.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar with an ETA on stderr (default: when stderr is a terminal)",
    )


class ProgressBar:
    """A tqdm bar on stderr, opened at the first report (not while a model loads)."""

    def __init__(self, show: bool | None, *, desc: str, unit: str) -> None:
        self.show = sys.stderr.isatty() if show is None else show
        self.desc = desc
        self.unit = unit
        self.bar: Any = None

    def update(self, done: int, total: int | None) -> None:
        if not self.show:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                initial=done,
                unit=self.unit,
                file=sys.stderr,
                dynamic_ncols=True,
                smoothing=0.05,
                desc=self.desc,
            )
        if total is not None and total != self.bar.total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class EncodingProgress:
    """An encoder that embeds a long list in slices of :data:`PROGRESS_SLICE` headlines and moves
    a bar between them: the encoding is what makes evaluate, cluster and train long. Everything
    else is the wrapped encoder's."""

    def __init__(self, encoder: Encoder, show: bool | None, *, desc: str) -> None:
        self._encoder = encoder
        self._show = show
        self._desc = desc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._encoder, name)

    def encode(self, texts: Any, *, batch_size: int | None = None) -> Any:
        import numpy as np

        if isinstance(texts, str) or not len(texts):
            return self._encoder.encode(texts, batch_size=batch_size)
        texts = list(texts)
        bar = ProgressBar(self._show, desc=self._desc, unit=" headlines")
        parts = []
        try:
            bar.update(0, len(texts))
            for start in range(0, len(texts), PROGRESS_SLICE):
                parts.append(
                    self._encoder.encode(
                        texts[start : start + PROGRESS_SLICE], batch_size=batch_size
                    )
                )
                bar.update(min(start + PROGRESS_SLICE, len(texts)), len(texts))
        finally:
            bar.close()
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
