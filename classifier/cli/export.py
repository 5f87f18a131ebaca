"""``headline-topics export``: make the ONNX encoders once, so serving and tagging skip torch.

headline-topics export                      # both: onnx (fp32) and onnx-int8
headline-topics export --backend onnx-int8 --force

The exporter itself is :func:`classifier.encoders.export.export_encoder` (torch), imported only
when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from classifier import config
from classifier.cli import _util
from classifier.encoders.base import ONNX_BACKENDS

if TYPE_CHECKING:
    from classifier.encoders.export import ExportResult

ALL = "all"
BACKEND_CHOICES = (*ONNX_BACKENDS, ALL)


def cmd_export(args: argparse.Namespace) -> int:
    from classifier.encoders.export import export_encoder

    if args.cache_dir:
        cache_dir = Path(args.cache_dir)
    else:
        cache_dir = config.encoder_cache_dir(args.models_dir)
    backends = ONNX_BACKENDS if args.backend == ALL else (args.backend,)
    encoder = args.encoder or config.encoder_path()
    for backend in backends:
        result = export_encoder(encoder, backend=backend, cache_dir=cache_dir, force=args.force)
        _util.emit_lines(export_report(backend, result))
    return 0


def export_report(backend: str, result: ExportResult) -> list[str]:
    """Where the export is, its size, and how close its vectors came to torch's."""
    from classifier.encoders.exports import MODEL_FILE

    meta = result.meta
    size_mb = meta["files"][MODEL_FILE]["size"] / 1e6
    check = meta["check"]
    if result.created:
        head = f"{backend}: exported to {result.folder} ({size_mb:.1f} MB) in {meta['export']['seconds']:.1f} s"
    else:
        head = (
            f"{backend}: already exported at {result.folder} ({size_mb:.1f} MB; --force redoes it)"
        )
    same = " (same as torch)" if meta["fingerprint"] == meta["source"]["fingerprint"] else ""
    return [
        head,
        f"  vs torch on {check['probes']} probe headlines: mean cosine {check['mean_cosine']:.4f}, "
        f"min {check['min_cosine']:.4f}, max difference {check['max_abs_diff']:.1e}; "
        f"fingerprint {meta['fingerprint'][:12]}{same}",
    ]


def register(add: _util.AddCommand) -> None:
    export = add(
        "export",
        cmd_export,
        "export the encoder to ONNX fp32 / int8 for torch-free serving (cached under models/)",
        backend_help=None,
    )
    export.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        default=ALL,
        help="which export to make (default: all)",
    )
    export.add_argument(
        "--force", action="store_true", help="export again even if a valid export exists"
    )
    export.add_argument(
        "--cache-dir",
        help="where exports live (default: $HEADLINE_TOPICS_ENCODER_CACHE or <models-dir>/encoders)",
    )
